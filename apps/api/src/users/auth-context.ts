import type { SubscriptionRow } from '../billing/subscriptions.ts';
import type { Workspace } from '../organizations/workspaces.ts';

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
   * The session's active workspace (decision 24) and the caller's role in it: the personal one
   * unless the session switched to a team the user still belongs to.
   */
  workspace: Workspace;
  /**
   * The seed's ProMiddleware as a decoration: derived from the active workspace's subscription,
   * read in the same query as the session, so any route can gate on it without another query.
   */
  isPro: boolean;
  /** The active workspace's subscription row (null before its first checkout), read in the same query. */
  subscription: SubscriptionRow | null;
  /** The user's profile field (their own trial, whichever workspace is active). */
  trialEnd: Date | null;
}
