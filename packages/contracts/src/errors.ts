import { z } from 'zod';

/**
 * Every machine-readable error code the API can answer with. The web client switches on these,
 * so a code, once published, keeps its meaning.
 */
export const ErrorCode = {
  VALIDATION_ERROR: 'VALIDATION_ERROR',
  INVALID_JSON: 'INVALID_JSON',
  AUTHENTICATION_REQUIRED: 'AUTHENTICATION_REQUIRED',
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  CSRF_FAILED: 'CSRF_FAILED',
  SUBSCRIPTION_INACTIVE: 'SUBSCRIPTION_INACTIVE',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  NOT_FOUND: 'NOT_FOUND',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  EMAIL_TAKEN: 'EMAIL_TAKEN',
  INVALID_TOKEN: 'INVALID_TOKEN',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  RATE_LIMITED: 'RATE_LIMITED',
  ALREADY_SUBSCRIBED: 'ALREADY_SUBSCRIBED',
  CONFLICT: 'CONFLICT',
  INVALID_SIGNATURE: 'INVALID_SIGNATURE',
  BILLING_PROVIDER_ERROR: 'BILLING_PROVIDER_ERROR',
  AI_NOT_CONFIGURED: 'AI_NOT_CONFIGURED',
  AI_QUOTA_EXCEEDED: 'AI_QUOTA_EXCEEDED',
  AI_PROVIDER_ERROR: 'AI_PROVIDER_ERROR',
  AI_PROVIDER_UNAVAILABLE: 'AI_PROVIDER_UNAVAILABLE',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  /** 414: a path segment is longer than any id the API uses. */
  URI_TOO_LONG: 'URI_TOO_LONG',
  /** The password was right, but staff have deactivated the account. */
  ACCOUNT_DEACTIVATED: 'ACCOUNT_DEACTIVATED',
  /** The second step of a sign-in: the code (authenticator or backup) is wrong or used. */
  INVALID_TWO_FACTOR_CODE: 'INVALID_TWO_FACTOR_CODE',
  /** The pending sign-in is gone (expired, used, or too many wrong codes): enter the password again. */
  TWO_FACTOR_EXPIRED: 'TWO_FACTOR_EXPIRED',
  /** 409: the action is not possible on a personal workspace (invite, leave, delete, transfer). */
  PERSONAL_WORKSPACE: 'PERSONAL_WORKSPACE',
  /** 409: the address already belongs to a member of the organization. */
  ALREADY_MEMBER: 'ALREADY_MEMBER',
  /** 403: the invitation was sent to another address than the signed-in account's (verified) one. */
  INVITATION_EMAIL_MISMATCH: 'INVITATION_EMAIL_MISMATCH',
  /** 409: the owner cannot leave (or be removed); transfer ownership first. */
  OWNER_CANNOT_LEAVE: 'OWNER_CANNOT_LEAVE',
  /** 409: the organization has a live subscription; cancel it before deleting the organization. */
  ORGANIZATION_HAS_SUBSCRIPTION: 'ORGANIZATION_HAS_SUBSCRIPTION',
  /**
   * 409: the account owns a team organization with other members; transfer ownership (or delete
   * the organization) before deleting the account.
   */
  OWNS_TEAM_ORGANIZATION: 'OWNS_TEAM_ORGANIZATION',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export const errorCodeSchema = z.enum(Object.values(ErrorCode) as [ErrorCode, ...ErrorCode[]]);

/** Field errors on a validation failure: dotted field path → messages. */
export const fieldErrorsSchema = z.record(z.string(), z.array(z.string()));
export type FieldErrors = z.infer<typeof fieldErrorsSchema>;

export const errorEnvelopeSchema = z.object({
  success: z.literal(false),
  error: z.string(),
  code: errorCodeSchema,
  status: z.number().int(),
  details: fieldErrorsSchema.optional(),
  /** Where to go next, when the error has an obvious remedy (e.g. the billing portal). */
  links: z.record(z.string(), z.string()).optional(),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;
