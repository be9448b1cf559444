import { ErrorCode } from '@tierbase/contracts';
import { AppError } from '../errors.ts';
import type { AuthContext } from '../types.ts';
import { requireUser } from '../users/guards.ts';

/**
 * The seed's @require_pro: a signed-in user whose subscription grants Pro, else 401 or
 * 403 SUBSCRIPTION_INACTIVE. Reads the request's decoration; costs no query.
 */
export function requirePro(request: { auth: AuthContext | null }): AuthContext {
  const auth = requireUser(request);
  if (!auth.isPro) {
    throw new AppError(
      403,
      ErrorCode.SUBSCRIPTION_INACTIVE,
      'This feature needs an active Pro subscription.',
      undefined,
      undefined,
      {
        pricing: '/pricing',
      },
    );
  }
  return auth;
}
