import { ErrorCode, type FieldErrors } from '@tierbase/contracts';

/**
 * An error a domain module raises on purpose: it carries the HTTP status, the stable code and a
 * message that is safe to show. Anything else that escapes a handler is a 500.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: FieldErrors,
    readonly headers?: Record<string, string>,
    readonly links?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const unauthenticated = () =>
  new AppError(401, ErrorCode.AUTHENTICATION_REQUIRED, 'Authentication credentials were not provided.');
export const forbidden = (message = 'You do not have permission to perform this action.') =>
  new AppError(403, ErrorCode.PERMISSION_DENIED, message);
export const notFound = (message = 'Not found.') => new AppError(404, ErrorCode.NOT_FOUND, message);
export const validationError = (details: FieldErrors, message = 'Some fields are invalid.') =>
  new AppError(400, ErrorCode.VALIDATION_ERROR, message, details);
