import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isPro } from '../billing/access.ts';
import type { Mailer } from '../email/mailer.ts';
import { type LimitSpec, makeLimiter, routeCounts } from '../http/rate-limit.ts';
import { createAccounts, PASSWORD_RESET_QUEUE, type PasswordResetJob } from './accounts.ts';
import { createAuth, SESSION_TTL_SECONDS, sessionCookie, twoFactorCookieName } from './auth.ts';
import type { AuthContext } from './auth-context.ts';
import { registerOAuthRoutes } from './oauth-routes.ts';
import { registerPasskeyRoutes } from './passkey-routes.ts';
import { createPasskeys } from './passkeys.ts';
import { registerUserRoutes } from './routes.ts';
import { SessionCache } from './session-cache.ts';
import {
  createSessionInvalidator,
  invalidationChannel,
  type SessionInvalidator,
} from './session-invalidation.ts';
import {
  createSessionResolver,
  deleteExpired,
  extendSession,
  type ResolvedSession,
  sessionNeedsRefresh,
  tokenFromSignedCookie,
} from './sessions.ts';
import { createTwoFactor } from './two-factor.ts';
import { registerTwoFactorRoutes } from './two-factor-routes.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** The signed-in caller, set by this plugin's hook; null for anonymous callers. */
    auth: AuthContext | null;
  }
  interface FastifyContextConfig {
    /**
     * Whose cached sessions (docs/decisions/0027) an unsafe request to this route may change, so
     * they are dropped before the answer leaves. `none`: no existing session, user or subscription
     * (sign-in, sign-up, a reset request, the CSRF token, Stripe's webhook, whose sync drops its
     * own). `everyone`: other users' (staff actions, organization changes: roles, removals,
     * transfers). Default: the caller's when signed in; everyone's after a successful anonymous
     * request (a reset, an email verification, anything added later).
     */
    sessionEffect?: 'none' | 'everyone';
  }
  interface FastifyInstance {
    /**
     * Call after changing a session, a user or their subscription outside a request by that user
     * (admin actions, webhooks, jobs): every process's session cache forgets them at once.
     */
    sessions: SessionInvalidator;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The hourly job that deletes expired sessions and reset tokens. */
export const CLEANUP_QUEUE = 'users.cleanup';

/**
 * Identity: Better Auth behind the seed's /api/* account endpoints, the authentication hook (the
 * seed's AuthenticationMiddleware) that fills `request.auth` on every request, and the app-wide
 * limits around it: `perIp` (given by the app) and the per-user API limit. A fastify-plugin, so
 * the hooks apply app-wide.
 */
export const usersPlugin = fp(
  async (app: FastifyInstance, options: { perIp: LimitSpec }) => {
    const { config } = app;
    const { db } = app.database;
    // Resolved at send time, so whichever mailer the email plugin decorated is the one used.
    const mailer: Mailer = { send: (request) => app.mailer.send(request) };
    const auth = createAuth({ config, db, mailer, logger: app.log.child({ component: 'better-auth' }) });
    const accounts = createAccounts({ auth, db, config, mailer, jobs: app.jobs });
    const cookie = sessionCookie(config);
    app.decorateRequest('auth', null);
    const resolveSession = createSessionResolver(db);
    // Skips the session query for a few seconds per session (docs/decisions/0027). Any write to a
    // session, its user or their subscription goes through `app.sessions.invalidate…`.
    const cache =
      config.sessionCacheSeconds > 0
        ? new SessionCache<ResolvedSession>({
            ttlMs: config.sessionCacheSeconds * 1000,
            maxEntries: 50_000,
            userIdOf: (session) => session.user.id,
            expiresAtOf: (session) => session.expiresAt,
          })
        : undefined;
    const invalidator = createSessionInvalidator(
      cache as SessionCache<unknown> | undefined,
      app.redis,
      invalidationChannel(config.redisKeyPrefix),
      app.log,
    );
    app.decorate('sessions', invalidator);
    app.addHook('onClose', () => invalidator.close());
    const perUser: LimitSpec = {
      name: 'user',
      max: config.rateLimits.userPerMinute,
      windowMs: 60_000,
      // Routes that are not the API say so in their config (health, metrics, the SPA's files).
      key: (request) => (request.auth && routeCounts(request, 'perUser') ? request.auth.user.id : null),
      failOpen: true,
    };
    const limitIp = makeLimiter(app, options.perIp);
    const limitUser = makeLimiter(app, perUser);
    const limitBoth = makeLimiter(app, options.perIp, perUser);

    const lookUp = (token: string) =>
      cache ? cache.get(token, () => resolveSession(token)) : resolveSession(token);
    const authContextOf = (session: ResolvedSession): AuthContext => ({
      user: session.user,
      sessionId: session.sessionId,
      workspace: session.workspace,
      subscription: session.subscription,
      trialEnd: session.trialEnd,
      isPro: isPro(
        {
          status: session.subscription?.status ?? null,
          pastDueSince: session.subscription?.pastDueSince ?? null,
        },
        config.billing.pastDueGraceDays,
      ),
    });
    // Reads the session cookie once per request, and counts the app-wide limits: per IP, then per
    // user. A session in the cache is read first, so both count in one store call, sent in the same
    // write as the question whether every invalidation has been heard (one Redis round trip); one
    // that needs the database is looked up only after the per-IP limit, so a flood from one address
    // is refused before it costs a query. A database error propagates (the error handler answers
    // 503 when the database is down) rather than passing the caller off as anonymous.
    app.addHook('onRequest', async (request, reply) => {
      const raw = request.cookies[cookie.name];
      const token = raw ? tokenFromSignedCookie(raw, config.secretKey) : null;
      const cached = token ? cache?.peek(token) : undefined;
      let session: ResolvedSession | null = null;
      if (cached) {
        request.auth = authContextOf(cached);
        const [, heard] = await Promise.all([limitBoth(request), invalidator.heardEverything()]);
        // Still cached once every invalidation published so far has been applied here (one may
        // have arrived during the round trip): trusted. Otherwise a revoke or logout elsewhere has
        // not reached this process yet, or just did: ask the database.
        session = heard && cache?.peek(token!) === cached ? cached : await resolveSession(token!);
      } else {
        await limitIp(request);
        session = token ? await lookUp(token) : null;
      }
      if (!session) {
        request.auth = null;
        // Forged, expired or signed out: drop it so the browser stops sending it.
        if (raw) reply.clearCookie(cookie.name, cookie.options);
        return;
      }
      if (session !== cached) {
        request.auth = authContextOf(session);
        if (!cached) await limitUser(request);
      }
      if (sessionNeedsRefresh(session.expiresAt)) {
        // Once a day of use the expiry slides forward, in the database and in the browser.
        await extendSession(db, session.sessionId);
        cache?.forget(token!);
        reply.setCookie(cookie.name, raw!, { ...cookie.options, maxAge: SESSION_TTL_SECONDS });
      }
    });

    // Before the answer leaves (onSend, not onResponse), so a client that saw its logout or revoke
    // succeed can never then be served the old session by any process.
    const invalidateFor = async (request: FastifyRequest, reply: FastifyReply) => {
      const effect = request.routeOptions.config.sessionEffect;
      if (effect === 'none') return;
      if (effect === 'everyone') await invalidator.invalidateAll();
      else if (request.auth) await invalidator.invalidateUser(request.auth.user.id);
      else if (reply.statusCode < 400) await invalidator.invalidateAll();
    };
    // A callback hook, so a safe request (most of them) costs no promise here.
    app.addHook('onSend', (request, reply, payload, done) => {
      if (SAFE_METHODS.has(request.method)) return done(null, payload);
      invalidateFor(request, reply).then(() => done(null, payload), done);
    });

    await app.jobs.createQueue(PASSWORD_RESET_QUEUE, { retryLimit: 3 });
    await app.jobs.work<PasswordResetJob>(PASSWORD_RESET_QUEUE, (job) => accounts.sendPasswordReset(job));
    await registerUserRoutes(app, { accounts, db, sessionCookie: cookie });
    await registerOAuthRoutes(app, { auth, db });
    await registerTwoFactorRoutes(app, {
      twoFactor: createTwoFactor({ auth, db }),
      db,
      pendingCookie: twoFactorCookieName(config),
      sessionCookieName: cookie.name,
    });
    const passkeys = createPasskeys({ auth, db, config });
    await registerPasskeyRoutes(app, { passkeys, db, sessionCookie: cookie });

    // One run an hour across all instances; a second one queued meanwhile is dropped.
    await app.jobs.createQueue(CLEANUP_QUEUE, { policy: 'exclusive', retryLimit: 2 });
    await app.jobs.work(CLEANUP_QUEUE, async () => {
      const deleted = await deleteExpired(db);
      app.log.info({ deleted }, 'expired sessions and tokens deleted');
    });
    await app.jobs.schedule(CLEANUP_QUEUE, '17 * * * *');
  },
  { name: 'users', dependencies: ['email'] },
);
