import type {
  AccountDeleteRequest,
  AiGenerateRequest,
  AiHistoryResponse,
  AiStatusResponse,
  AiStreamDeltaEvent,
  AiStreamDoneEvent,
  AiStreamErrorEvent,
  AiStreamStartEvent,
  AssignableRole,
  BackupCodesResponse,
  BillingInterval,
  BillingStatus,
  ErrorCode,
  ErrorEnvelope,
  FieldErrors,
  InvitationCreateRequest,
  InvitationPreviewResponse,
  InvitationResponse,
  InvoicesResponse,
  LoginRequest,
  LoginResponse,
  MemberResponse,
  OAuthProvider,
  OAuthProvidersResponse,
  OrganizationDetailResponse,
  OrganizationListResponse,
  OrganizationResponse,
  PasswordChangeRequest,
  PasswordResetConfirmRequest,
  PlanChangePreview,
  PlanChangeResponse,
  PlansResponse,
  Profile,
  RegisterRequest,
  RegisterResponse,
  SignInMethodsResponse,
  TwoFactorDisableRequest,
  TwoFactorSetup,
} from '@tierbase/contracts';
import { EventSourceParserStream } from 'eventsource-parser/stream';

/**
 * The API client: fetch with the session cookie, the CSRF token on unsafe methods, and the error
 * envelope turned into an ApiError the pages switch on. Types come from packages/contracts only.
 */

/** Empty on one origin (`npm start`, `npm run dev`); the API's origin in the split-origin setup. */
export const API_BASE: string = (import.meta.env.VITE_API_URL ?? '').replace(/\/$/, '');

/** The codes the server sends, plus the one the client makes up when the server cannot be reached. */
export type ClientErrorCode = ErrorCode | 'NETWORK_ERROR';

export class ApiError extends Error {
  readonly code: ClientErrorCode;
  readonly status: number;
  readonly details: FieldErrors | undefined;
  readonly links: Record<string, string> | undefined;
  /** From Retry-After on a 429, in seconds. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    code: ClientErrorCode,
    status: number,
    message: string,
    extra: { details?: FieldErrors; links?: Record<string, string>; retryAfterSeconds?: number } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.details = extra.details;
    this.links = extra.links;
    this.retryAfterSeconds = extra.retryAfterSeconds;
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

/** What the app does about errors that matter everywhere; AuthProvider and App wire them. */
export interface ApiEvents {
  /** The session is gone (AUTHENTICATION_REQUIRED): clear the user. */
  onUnauthorized?: () => void;
  /** A Pro-only call was refused (SUBSCRIPTION_INACTIVE): lead to pricing. */
  onSubscriptionInactive?: () => void;
}

const events: ApiEvents = {};

export function setApiEvents(next: ApiEvents): () => void {
  Object.assign(events, next);
  return () => {
    for (const key of Object.keys(next) as (keyof ApiEvents)[]) {
      if (events[key] === next[key]) delete events[key];
    }
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);
let csrfToken: Promise<string> | null = null;

function fetchCsrfToken(): Promise<string> {
  csrfToken ??= request<{ csrfToken: string }>('GET', '/api/csrf/')
    .then((data) => data.csrfToken)
    .catch((error: unknown) => {
      csrfToken = null;
      throw error;
    });
  return csrfToken;
}

/** Forget the cached token (tests; a CSRF_FAILED answer). */
export function resetCsrfToken(): void {
  csrfToken = null;
}

type Method = 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

interface RequestOptions {
  signal?: AbortSignal;
  /** Return the raw Response (streaming); errors are still thrown as ApiError. */
  raw?: boolean;
}

export async function request<T>(
  method: Method,
  path: string,
  body?: unknown,
  options: RequestOptions = {},
  retried = false,
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (!SAFE_METHODS.has(method)) headers['X-CSRFToken'] = await fetchCsrfToken();

  let response: Response;
  try {
    response = await fetch(`${API_BASE}${path}`, {
      method,
      headers,
      credentials: 'include',
      body: body === undefined ? null : JSON.stringify(body),
      signal: options.signal ?? null,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(
      'NETWORK_ERROR',
      0,
      'We could not reach the server. Check your connection and try again.',
    );
  }

  if (response.ok && options.raw) return response as T;
  const payload = await readJson(response);
  if (response.ok && payload && payload.success === true) return payload.data as T;

  const error = toApiError(response, payload);
  if (error.code === 'CSRF_FAILED' && !retried) {
    // The cookie expired or was cleared: take a fresh token and try once more.
    resetCsrfToken();
    return request<T>(method, path, body, options, true);
  }
  if (error.code === 'AUTHENTICATION_REQUIRED') events.onUnauthorized?.();
  if (error.code === 'SUBSCRIPTION_INACTIVE') events.onSubscriptionInactive?.();
  throw error;
}

async function readJson(response: Response): Promise<{ success?: boolean; data?: unknown } | null> {
  try {
    return (await response.json()) as { success?: boolean; data?: unknown };
  } catch {
    return null;
  }
}

function toApiError(response: Response, payload: unknown): ApiError {
  const envelope = payload as Partial<ErrorEnvelope> | null;
  const retryAfter = Number(response.headers.get('Retry-After'));
  const extra = {
    ...(envelope?.details ? { details: envelope.details } : {}),
    ...(envelope?.links ? { links: envelope.links } : {}),
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
  };
  if (envelope && envelope.success === false && envelope.code) {
    return new ApiError(
      envelope.code,
      envelope.status ?? response.status,
      envelope.error ?? 'Request failed.',
      extra,
    );
  }
  const code: ClientErrorCode = response.status >= 500 ? 'INTERNAL_ERROR' : 'NOT_FOUND';
  return new ApiError(code, response.status, `The server answered ${response.status}.`, extra);
}

// The endpoints. Each returns the envelope's `data`, typed by the contracts package.

export interface MessageResponse {
  message: string;
}

export const api = {
  profile: () => request<Profile>('GET', '/api/profile/'),
  updateProfile: (name: string) => request<Profile>('PATCH', '/api/profile/', { name }),
  /** The profile, or `{twoFactorRequired: true}` when a code must follow (`loginTwoFactor`). */
  login: (body: LoginRequest) => request<LoginResponse>('POST', '/api/login/', body),
  /** A code from the authenticator app, or a backup code: starts the session. */
  loginTwoFactor: (code: string) => request<Profile>('POST', '/api/login/two-factor/', { code }),
  enableTwoFactor: (password: string) =>
    request<TwoFactorSetup>('POST', '/api/two-factor/enable/', { password }),
  confirmTwoFactor: (code: string) => request<Profile>('POST', '/api/two-factor/confirm/', { code }),
  disableTwoFactor: (body: TwoFactorDisableRequest) =>
    request<Profile>('POST', '/api/two-factor/disable/', body),
  regenerateBackupCodes: (password: string) =>
    request<BackupCodesResponse>('POST', '/api/two-factor/backup-codes/', { password }),
  oauthProviders: () => request<OAuthProvidersResponse>('GET', '/api/auth/providers/'),
  signInMethods: () => request<SignInMethodsResponse>('GET', '/api/auth/methods/'),
  /** 202 with a "check your email" message, and no session, whether or not the address is taken. */
  register: (body: RegisterRequest) => request<RegisterResponse>('POST', '/api/register/', body),
  logout: () => request<MessageResponse>('POST', '/api/logout/'),
  requestPasswordReset: (email: string) =>
    request<MessageResponse>('POST', '/api/password-reset/', { email }),
  confirmPasswordReset: (body: PasswordResetConfirmRequest) =>
    request<MessageResponse>('POST', '/api/password-reset/confirm/', body),
  verifyEmail: (token: string) => request<MessageResponse>('POST', '/api/verify-email/', { token }),
  resendVerification: () => request<MessageResponse>('POST', '/api/verify-email/resend/'),
  changePassword: (body: PasswordChangeRequest) =>
    request<MessageResponse>('POST', '/api/password-change/', body),
  revokeOtherSessions: () => request<{ revoked: number }>('POST', '/api/sessions/revoke-others/'),
  /** The export file itself (not in the envelope), with the name the server gives it. */
  exportAccount: async (): Promise<{ blob: Blob; filename: string }> => {
    const response = await request<Response>('GET', '/api/account/export/', undefined, { raw: true });
    const disposition = response.headers.get('content-disposition') ?? '';
    const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'tierbase-account.json';
    return { blob: await response.blob(), filename };
  },
  deleteAccount: (password: string) =>
    request<MessageResponse>('POST', '/api/account/delete/', { password } satisfies AccountDeleteRequest),
  plans: () => request<PlansResponse>('GET', '/api/billing/plans/'),
  billingStatus: () => request<BillingStatus>('GET', '/api/billing/status/'),
  checkout: (plan: string, interval: BillingInterval) =>
    request<{ url: string }>('POST', '/api/billing/checkout/', { plan, interval }),
  /** What switching to `interval` charges now (prorated) and next; changes nothing. */
  previewPlanChange: (interval: BillingInterval) =>
    request<PlanChangePreview>('POST', '/api/billing/plan-change/preview/', { interval }),
  /** Applies the previewed switch; `prorationDate` is the preview's, so the charge equals it. */
  changePlan: (interval: BillingInterval, prorationDate: number) =>
    request<PlanChangeResponse>('POST', '/api/billing/plan-change/', { interval, prorationDate }),
  syncBilling: (sessionId?: string) =>
    request<BillingStatus>('POST', '/api/billing/sync/', sessionId ? { sessionId } : {}),
  invoices: (startingAfter?: string) =>
    request<InvoicesResponse>(
      'GET',
      `/api/invoices/?limit=10${startingAfter ? `&startingAfter=${encodeURIComponent(startingAfter)}` : ''}`,
    ),
  aiStatus: () => request<AiStatusResponse>('GET', '/api/ai/status/'),
  aiHistory: (cursor?: string) =>
    request<AiHistoryResponse>(
      'GET',
      `/api/ai/history/?limit=10${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    ),
  aiGenerateStream,

  organizations: () => request<OrganizationListResponse>('GET', '/api/organizations/'),
  createOrganization: (name: string) =>
    request<OrganizationResponse>('POST', '/api/organizations/', { name }),
  organization: (id: string) => request<OrganizationDetailResponse>('GET', `/api/organizations/${enc(id)}/`),
  renameOrganization: (id: string, name: string) =>
    request<OrganizationResponse>('PATCH', `/api/organizations/${enc(id)}/`, { name }),
  deleteOrganization: (id: string) => request<MessageResponse>('DELETE', `/api/organizations/${enc(id)}/`),
  activateOrganization: (id: string) =>
    request<OrganizationResponse>('POST', `/api/organizations/${enc(id)}/activate/`),
  inviteMember: (id: string, body: InvitationCreateRequest) =>
    request<InvitationResponse>('POST', `/api/organizations/${enc(id)}/invitations/`, body),
  revokeInvitation: (id: string, invitationId: string) =>
    request<MessageResponse>('DELETE', `/api/organizations/${enc(id)}/invitations/${enc(invitationId)}/`),
  changeMemberRole: (id: string, userId: string, role: AssignableRole) =>
    request<MemberResponse>('PATCH', `/api/organizations/${enc(id)}/members/${enc(userId)}/`, { role }),
  removeMember: (id: string, userId: string) =>
    request<MessageResponse>('DELETE', `/api/organizations/${enc(id)}/members/${enc(userId)}/`),
  leaveOrganization: (id: string) => request<MessageResponse>('POST', `/api/organizations/${enc(id)}/leave/`),
  transferOwnership: (id: string, userId: string) =>
    request<OrganizationDetailResponse>('POST', `/api/organizations/${enc(id)}/transfer/`, { userId }),
  previewInvitation: (token: string) =>
    request<InvitationPreviewResponse>('POST', '/api/invitations/preview/', { token }),
  acceptInvitation: (token: string) =>
    request<OrganizationResponse>('POST', '/api/invitations/accept/', { token }),
};

/** Ids go into the path as one segment, whatever they contain. */
const enc = encodeURIComponent;

export type AiStreamEvent =
  | { event: 'start'; data: AiStreamStartEvent }
  | { event: 'delta'; data: AiStreamDeltaEvent }
  | { event: 'done'; data: AiStreamDoneEvent }
  | { event: 'error'; data: AiStreamErrorEvent };

/**
 * POST /api/ai/generate/ with `stream: true`, read as server-sent events (EventSource cannot POST).
 * Refusals (plan, quota, validation) arrive before the stream as the usual error envelope.
 */
async function aiGenerateStream(
  body: Omit<AiGenerateRequest, 'stream'>,
  onEvent: (event: AiStreamEvent) => void,
  signal?: AbortSignal,
): Promise<void> {
  const response = await request<Response>(
    'POST',
    '/api/ai/generate/',
    { ...body, stream: true },
    {
      raw: true,
      ...(signal ? { signal } : {}),
    },
  );
  if (!response.body) throw new ApiError('INTERNAL_ERROR', 500, 'The answer had no body.');
  await readAiStream(response.body, onEvent);
}

const AI_STREAM_EVENTS = new Set(['start', 'delta', 'done', 'error']);

/**
 * Reads an AI answer's event stream to its end, handing each of our events to `onEvent`;
 * eventsource-parser does the framing (chunks split anywhere, comments, CRLF, multi-line data).
 */
export async function readAiStream(
  body: ReadableStream<Uint8Array<ArrayBuffer>>,
  onEvent: (event: AiStreamEvent) => void,
): Promise<void> {
  const events = body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream())
    .getReader();
  for (;;) {
    const { value, done } = await events.read();
    if (done) return;
    if (value.event && AI_STREAM_EVENTS.has(value.event)) {
      onEvent({ event: value.event, data: JSON.parse(value.data) } as AiStreamEvent);
    }
  }
}

/** The billing portal is a redirect the browser follows (a 302 to Stripe), not a fetch. */
/** Where a "Continue with …" link sends the browser: the API redirects on to the provider. */
export function oauthStartUrl(provider: OAuthProvider, next: string): string {
  return `${API_BASE}/api/auth/oauth/${provider}/start?next=${encodeURIComponent(next)}`;
}

export const PORTAL_URL = `${API_BASE}/api/stripe/portal/`;
