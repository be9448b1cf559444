import type { subscriptions } from '../db/schema/billing.ts';

/** The signed-in caller, read once per request from the session cookie. */
export interface AuthUser {
  id: string;
  email: string;
  name: string;
  emailVerified: boolean;
  isStaff: boolean;
  createdAt: Date;
  twoFactorEnabled: boolean;
}

export interface AuthContext {
  user: AuthUser;
  sessionId: string;
  /**
   * The seed's ProMiddleware as a decoration: derived from the subscription read in the same
   * query as the session, so any route can gate on it without another query.
   */
  isPro: boolean;
  /** The user's subscription row (null before their first checkout) and profile fields, read in the same query. */
  subscription: typeof subscriptions.$inferSelect | null;
  trialEnd: Date | null;
}
