import type { Redis } from 'ioredis';
import type { BillingContext } from './billing/service.ts';
import type { Config } from './config.ts';
import type { DatabaseHandle } from './db/client.ts';
import type { subscriptions } from './db/schema/billing.ts';
import type { Mailer } from './email/mailer.ts';
import type { ErrorReporter } from './error-reporting.ts';
import type { JobQueue } from './jobs/queue.ts';
import type { Workspace } from './organizations/workspaces.ts';

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
  subscription: typeof subscriptions.$inferSelect | null;
  /** The user's profile field (their own trial, whichever workspace is active). */
  trialEnd: Date | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    database: DatabaseHandle;
    redis: Redis | undefined;
    jobs: JobQueue;
    mailer: Mailer;
    /** Undefined while no Stripe (real or emulated) is configured. */
    billing: BillingContext | undefined;
    /** Set when shutdown begins: readiness answers 503 so load balancers stop sending traffic. */
    draining: boolean;
    /** Unexpected errors go here as well as to the log (Sentry when SENTRY_DSN is set). */
    errorReporter: ErrorReporter;
  }
  interface FastifyRequest {
    /** Null for anonymous callers. */
    auth: AuthContext | null;
  }
}
