import { ErrorCode, type FieldErrors } from '@tierbase/contracts';

export interface AppErrorOptions {
  status: number;
  code: ErrorCode;
  /** Shown to the caller as is: never a secret, personal data or a provider's own text. */
  message: string;
  /** Per-field messages, for VALIDATION_ERROR. */
  details?: FieldErrors;
  /** Response headers that go with this answer (Retry-After). */
  headers?: Record<string, string>;
  /** Where the caller can go next (`links` in the envelope). */
  links?: Record<string, string>;
  /** The error this one stands for, for whoever debugs it; never sent to the caller. */
  cause?: unknown;
}

/**
 * An error a domain module raises on purpose: it carries the HTTP status, the stable code and a
 * message that is safe to show. Anything else that escapes a handler is a 500. Named options, so a
 * call site reads as what it answers and adding a field never shifts the others.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly details: FieldErrors | undefined;
  readonly headers: Record<string, string> | undefined;
  readonly links: Record<string, string> | undefined;

  constructor(options: AppErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.status = options.status;
    this.code = options.code;
    this.details = options.details;
    this.headers = options.headers;
    this.links = options.links;
  }
}

export const unauthenticated = () =>
  new AppError({
    status: 401,
    code: ErrorCode.AUTHENTICATION_REQUIRED,
    message: 'Authentication credentials were not provided.',
  });
export const forbidden = (message = 'You do not have permission to perform this action.') =>
  new AppError({ status: 403, code: ErrorCode.PERMISSION_DENIED, message });
export const notFound = (message = 'Not found.') =>
  new AppError({ status: 404, code: ErrorCode.NOT_FOUND, message });
export const validationError = (details: FieldErrors, message = 'Some fields are invalid.') =>
  new AppError({ status: 400, code: ErrorCode.VALIDATION_ERROR, message, details });
