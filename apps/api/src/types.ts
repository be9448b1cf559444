import type { Redis } from 'ioredis';
import type { BillingContext } from './billing/service.ts';
import type { Config } from './config.ts';
import type { DatabaseHandle } from './db/client.ts';
import type { subscriptions } from './db/schema/billing.ts';
import type { Mailer } from './email/mailer.ts';
import type { ErrorReporter } from './error-reporting.ts';
import type { JobQueue } from './jobs/queue.ts';
import type { SessionInvalidator } from './users/session-invalidation.ts';

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
    /**
     * Call after changing a session, a user or their subscription outside a request by that user
     * (admin actions, webhooks, jobs): every process's session cache forgets them at once.
     */
    sessions: SessionInvalidator;
  }
  interface FastifyRequest {
    /** Null for anonymous callers. */
    auth: AuthContext | null;
  }
}
