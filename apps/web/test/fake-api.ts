import type { Profile } from '@tierbase/contracts';
import { vi } from 'vitest';

/**
 * A stand-in for the API at the network boundary (global fetch): each route answers with the
 * envelope the real server sends. Calls are recorded so tests can check what was sent.
 */
export interface FakeResponse {
  status?: number;
  body: unknown;
  headers?: Record<string, string>;
}

type Handler =
  | FakeResponse
  | ((request: { body: unknown; headers: Headers }) => FakeResponse | Promise<FakeResponse>);

export interface RecordedCall {
  method: string;
  path: string;
  body: unknown;
  headers: Headers;
}

export function ok(data: unknown, status = 200): FakeResponse {
  return { status, body: { success: true, data } };
}

export function fail(
  status: number,
  code: string,
  error: string,
  extra: Record<string, unknown> = {},
  headers = {},
) {
  return { status, body: { success: false, error, code, status, ...extra }, headers };
}

export function fakeApi(routes: Record<string, Handler>) {
  const calls: RecordedCall[] = [];
  const all: Record<string, Handler> = {
    'GET /api/csrf/': ok({ csrfToken: 'csrf-token-from-server' }),
    'GET /api/billing/plans/': ok({ plans: PLANS }),
    ...routes,
  };
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input), 'http://localhost');
    const method = (init?.method ?? 'GET').toUpperCase();
    const headers = new Headers(init?.headers);
    const body = typeof init?.body === 'string' ? JSON.parse(init.body) : undefined;
    calls.push({ method, path: url.pathname + url.search, body, headers });
    const handler = all[`${method} ${url.pathname + url.search}`] ?? all[`${method} ${url.pathname}`];
    const answer: FakeResponse = !handler
      ? fail(404, 'NOT_FOUND', `no fake for ${method} ${url.pathname}`)
      : typeof handler === 'function'
        ? await handler({ body, headers })
        : handler;
    return new Response(JSON.stringify(answer.body), {
      status: answer.status ?? 200,
      headers: { 'content-type': 'application/json', ...answer.headers },
    });
  });
  vi.stubGlobal('fetch', fetchMock);
  const set = (key: string, handler: Handler) => {
    all[key] = handler;
  };
  return { calls, fetchMock, set };
}

export const PLANS = [
  {
    id: 'free',
    name: 'Free',
    description: 'Everything you need to try the product.',
    features: ['Your account and dashboard'],
    limits: { aiRequestsPerPeriod: 0, aiTokensPerPeriod: 0, aiMaxPromptChars: 0, aiMaxOutputTokens: 0 },
    prices: [],
    trialDays: 0,
  },
  {
    id: 'pro',
    name: 'Pro',
    description: 'The full product, with the AI assistant.',
    features: ['Everything in Free', 'AI assistant'],
    limits: {
      aiRequestsPerPeriod: 500,
      aiTokensPerPeriod: 500000,
      aiMaxPromptChars: 8000,
      aiMaxOutputTokens: 2000,
    },
    prices: [
      { interval: 'month', unitAmount: 1900, currency: 'usd' },
      { interval: 'year', unitAmount: 19000, currency: 'usd' },
    ],
    trialDays: 14,
  },
];

export function profile(
  overrides: { isPro?: boolean; name?: string; emailVerified?: boolean; twoFactorEnabled?: boolean } = {},
): Profile {
  return {
    user: {
      id: 'u1',
      email: 'ada@example.com',
      name: overrides.name ?? 'Ada Lovelace',
      emailVerified: overrides.emailVerified ?? true,
      isStaff: false,
      createdAt: '2026-01-01T00:00:00.000Z',
      twoFactorEnabled: overrides.twoFactorEnabled ?? false,
    },
    workspace: { id: 'o1', name: overrides.name ?? 'Ada Lovelace', personal: true, role: 'owner' },
    isPro: overrides.isPro ?? false,
    subscription: null,
    trialEnd: null,
  };
}

export function billingStatus(overrides: Record<string, unknown> = {}) {
  return {
    status: null,
    plan: 'free',
    interval: null,
    currentPeriodEnd: null,
    cancelAtPeriodEnd: false,
    trialEnd: null,
    isPro: false,
    pastDueGraceEnd: null,
    hasBillingAccount: false,
    ...overrides,
  };
}

/** An active monthly Pro subscription, as GET /api/billing/status/ reports it. */
export const PRO_STATUS = billingStatus({
  status: 'active',
  plan: 'pro',
  interval: 'month',
  currentPeriodEnd: '2027-01-09T00:00:00.000Z',
  isPro: true,
  hasBillingAccount: true,
});

/** GET /api/ai/status/ for a Pro workspace with some of this month's quota used. */
export const AI_STATUS = {
  configured: true,
  model: 'test-model',
  limits: { maxPromptChars: 8000, maxOutputTokens: 2000 },
  usage: {
    period: { start: '2026-12-09T00:00:00.000Z', end: '2027-01-09T00:00:00.000Z' },
    requests: { used: 3, limit: 500 },
    tokens: { used: 1200, limit: 500000 },
  },
};

export const UNAUTHENTICATED = fail(401, 'AUTHENTICATION_REQUIRED', 'Authentication required.');
