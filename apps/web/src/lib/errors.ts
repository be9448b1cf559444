import type { FieldErrors } from '@tierbase/contracts';
import { type ApiError, isApiError } from '../api.ts';

/** "in 3 minutes", "in 40 seconds", "in about an hour". */
export function retryIn(seconds: number): string {
  if (seconds < 60) return `in ${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  if (minutes < 60) return `in ${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  return hours === 1 ? 'in about an hour' : `in about ${hours} hours`;
}

/**
 * The sentence a person should read for an error. The server's own message is already written for
 * people; a few codes get a better one here because the client knows more (when to retry, what next).
 */
export function errorMessage(error: unknown): string {
  if (!isApiError(error)) return 'Something went wrong. Please try again.';
  switch (error.code) {
    case 'RATE_LIMITED':
      return error.retryAfterSeconds
        ? `Too many attempts. Try again ${retryIn(error.retryAfterSeconds)}.`
        : 'Too many attempts. Please wait a moment and try again.';
    case 'VALIDATION_ERROR':
      return hasFieldErrors(error) ? 'Please correct the highlighted fields.' : error.message;
    case 'SUBSCRIPTION_INACTIVE':
      return 'This needs an active Pro subscription.';
    case 'AUTHENTICATION_REQUIRED':
      return 'Your session has ended. Please sign in again.';
    case 'CSRF_FAILED':
      return 'Your session expired. Reload the page and try again.';
    case 'SERVICE_UNAVAILABLE':
      return 'The service is briefly unavailable. Please try again in a minute.';
    case 'BILLING_PROVIDER_ERROR':
      return 'Our payment provider did not answer. Please try again in a minute.';
    case 'INTERNAL_ERROR':
      return 'Something went wrong on our side. Please try again.';
    default:
      return error.message;
  }
}

function hasFieldErrors(error: ApiError): boolean {
  return !!error.details && Object.keys(error.details).length > 0;
}

/** A validation error's first message per field, keyed by the top-level field name. */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!isApiError(error) || !error.details) return {};
  return firstMessages(error.details);
}

function firstMessages(details: FieldErrors): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, messages] of Object.entries(details)) {
    const field = path.split('.')[0] || path;
    if (!out[field] && messages[0]) out[field] = messages[0];
  }
  return out;
}

/** Said on the confirmation field when a new password and its confirmation differ. */
export const PASSWORDS_DIFFER = 'The two passwords do not match.';
