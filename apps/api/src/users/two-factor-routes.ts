import {
  backupCodesRequest,
  backupCodesResponse,
  errorEnvelopeSchema,
  profileSchema,
  successEnvelope,
  twoFactorConfirmRequest,
  twoFactorDisableRequest,
  twoFactorEnableRequest,
  twoFactorLoginRequest,
  twoFactorSetupSchema,
} from '@tierbase/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Database } from '../db/client.ts';
import { ok } from '../http/envelope.ts';
import { makeLimiter } from '../http/rate-limit.ts';
import { requireUser } from './guards.ts';
import { loadProfile } from './profile.ts';
import { authHeaders } from './routes.ts';
import { carryActiveWorkspace } from './sessions.ts';
import type { TwoFactor } from './two-factor.ts';

export interface TwoFactorRouteDependencies {
  twoFactor: TwoFactor;
  db: Database;
  /** The pending sign-in's cookie name (see `twoFactorCookieName`). */
  pendingCookie: string;
  /** The session cookie's name: turning two-factor on or off rotates the session. */
  sessionCookieName: string;
}

const FIFTEEN_MINUTES = 15 * 60_000;
const tags = ['account'];
const profileEnvelope = successEnvelope(profileSchema);
const errors = {
  400: errorEnvelopeSchema,
  401: errorEnvelopeSchema,
  403: errorEnvelopeSchema,
  409: errorEnvelopeSchema,
  429: errorEnvelopeSchema,
};

/** Two-factor set-up in Settings, and the second step of a sign-in (decision 21). */
export async function registerTwoFactorRoutes(
  app: FastifyInstance,
  { twoFactor, db, pendingCookie, sessionCookieName }: TwoFactorRouteDependencies,
): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const config = app.config;
  const sessionCookie = { name: sessionCookieName, secret: config.secretKey };

  // Each settings call checks the password or a code: guessing them from a stolen session is held
  // to twice the login budget (a set-up alone takes two calls, and a mistyped code a third).
  const settingsLimit = makeLimiter(app, {
    name: 'two-factor-settings',
    max: 2 * config.rateLimits.loginPer15Minutes,
    windowMs: FIFTEEN_MINUTES,
    key: (request) => request.auth?.user.id ?? null,
    failOpen: false,
  });
  // Codes at sign-in: Better Auth allows 5 per pending sign-in and 10 in a row per account; this
  // holds one address to the login's per-IP ceiling across accounts.
  const signInIpLimit = makeLimiter(app, {
    name: 'two-factor-ip',
    max: config.rateLimits.loginPerIpPer15Minutes,
    windowMs: FIFTEEN_MINUTES,
    key: (request) => request.ip,
    failOpen: false,
  });

  routes.post(
    '/api/two-factor/enable',
    {
      schema: {
        tags,
        summary:
          'Start turning on two-factor (password required): the authenticator key (URI, QR code, typed) and 10 backup codes, shown once; on after POST /api/two-factor/confirm/',
        body: twoFactorEnableRequest,
        response: { 200: successEnvelope(twoFactorSetupSchema), ...errors },
      },
      preHandler: settingsLimit,
    },
    async (request) => {
      const { user } = requireUser(request);
      return ok(await twoFactor.begin(user, request.body.password, authHeaders(request)));
    },
  );

  routes.post(
    '/api/two-factor/confirm',
    {
      schema: {
        tags,
        summary: 'Turn two-factor on with the first code from the authenticator app (the session is rotated)',
        body: twoFactorConfirmRequest,
        response: { 200: profileEnvelope, ...errors },
      },
      preHandler: settingsLimit,
    },
    async (request, reply) => {
      const { user, workspace } = requireUser(request);
      const cookies = await twoFactor.confirm(user, request.body.code, authHeaders(request));
      await carryActiveWorkspace(db, cookies, sessionCookie, workspace.id);
      reply.header('set-cookie', cookies);
      return ok(await loadProfile(db, user.id, config.billing.pastDueGraceDays, workspace.id));
    },
  );

  routes.post(
    '/api/two-factor/disable',
    {
      schema: {
        tags,
        summary: 'Turn two-factor off: the password and a current code (authenticator or backup code)',
        body: twoFactorDisableRequest,
        response: { 200: profileEnvelope, ...errors },
      },
      preHandler: settingsLimit,
    },
    async (request, reply) => {
      const { user, workspace } = requireUser(request);
      const cookies = await twoFactor.disable(user, request.body, authHeaders(request));
      await carryActiveWorkspace(db, cookies, sessionCookie, workspace.id);
      reply.header('set-cookie', cookies);
      return ok(await loadProfile(db, user.id, config.billing.pastDueGraceDays, workspace.id));
    },
  );

  routes.post(
    '/api/two-factor/backup-codes',
    {
      schema: {
        tags,
        summary: 'New backup codes (password required), shown once; the previous ones stop working',
        body: backupCodesRequest,
        response: { 200: successEnvelope(backupCodesResponse), ...errors },
      },
      preHandler: settingsLimit,
    },
    async (request) => {
      const { user } = requireUser(request);
      const backupCodes = await twoFactor.regenerateBackupCodes(
        user,
        request.body.password,
        authHeaders(request),
      );
      return ok({ backupCodes });
    },
  );

  routes.post(
    '/api/login/two-factor',
    {
      schema: {
        tags,
        summary:
          'Finish a sign-in that answered {twoFactorRequired: true}: a code from the authenticator app or a backup code (single use) starts the session. 5 wrong codes end the pending sign-in (401 TWO_FACTOR_EXPIRED)',
        body: twoFactorLoginRequest,
        response: { 200: profileEnvelope, ...errors },
      },
      preHandler: signInIpLimit,
    },
    async (request, reply) => {
      const started = await twoFactor.completeSignIn(
        request.body.code,
        pendingHeaders(request, pendingCookie),
        request.auth?.sessionId,
      );
      reply.header('set-cookie', started.cookies);
      return ok(await loadProfile(db, started.userId, config.billing.pastDueGraceDays));
    },
  );
}

/**
 * The request's headers for Better Auth with only the pending sign-in's cookie: a session cookie
 * beside it would make Better Auth check the code against that session's user instead.
 */
function pendingHeaders(request: FastifyRequest, pendingCookie: string): Headers {
  const headers = authHeaders(request);
  const pending = (request.headers.cookie ?? '')
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.startsWith(`${pendingCookie}=`));
  if (pending.length > 0) headers.set('cookie', pending.join('; '));
  else headers.delete('cookie');
  return headers;
}
