import { forbidden, unauthenticated } from '../errors.ts';
import type { AuthContext } from './auth-context.ts';

/** Anything carrying the hook's result: a Fastify request, in practice. */
interface Authenticated {
  auth: AuthContext | null;
}

/** The signed-in caller, or 401 AUTHENTICATION_REQUIRED. Call it first in a route handler. */
export function requireUser(request: Authenticated): AuthContext {
  if (!request.auth) throw unauthenticated();
  return request.auth;
}

/** A signed-in staff member, or 401 (anonymous) / 403 PERMISSION_DENIED (signed in, not staff). */
export function requireStaff(request: Authenticated): AuthContext {
  const auth = requireUser(request);
  if (!auth.user.isStaff) throw forbidden();
  return auth;
}
