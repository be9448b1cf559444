import { ErrorCode } from '@tierbase/contracts';
import { AppError } from '../errors.ts';
import type { AuthContext } from '../users/auth-context.ts';
import { requireUser } from '../users/guards.ts';

/**
 * The seed's @require_pro: a signed-in user whose subscription grants Pro, else 401 or
 * 403 SUBSCRIPTION_INACTIVE. Reads the request's decoration; costs no query.
 */
export function requirePro(request: { auth: AuthContext | null }): AuthContext {
  const auth = requireUser(request);
  if (!auth.isPro) {
    throw new AppError({
      status: 403,
      code: ErrorCode.SUBSCRIPTION_INACTIVE,
      message: 'This feature needs an active Pro subscription.',
      links: {
        pricing: '/pricing',
      },
    });
  }
  return auth;
}
