import {
  loginRequest,
  loginResponse,
  messageResponse,
  passwordChangeRequest,
  passwordResetConfirmRequest,
  passwordResetRequest,
  profileSchema,
  profileUpdateRequest,
  REGISTER_MESSAGE,
  registerRequest,
  registerResponse,
  successEnvelope,
  verifyEmailRequest,
} from '@tierbase/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/client.ts';
import { errorResponses, ok } from '../http/envelope.ts';
import { makeLimiter } from '../http/rate-limit.ts';
import type { Accounts } from './accounts.ts';
import { INVALID_CREDENTIALS_MESSAGE, PASSWORD_RESET_MESSAGE } from './accounts.ts';
import { CLIENT_IP_HEADER, type SessionCookie } from './auth.ts';
import { requireUser } from './guards.ts';
import { loadProfile, toProfile, updateName } from './profile.ts';
import { carryActiveWorkspace } from './sessions.ts';

export interface UserRouteDependencies {
  accounts: Accounts;
  db: Database;
  /** The session cookie, to clear it. */
  sessionCookie: SessionCookie;
}

const FIFTEEN_MINUTES = 15 * 60_000;
const tags = ['account'];
const profileEnvelope = successEnvelope(profileSchema);
const messageEnvelope = successEnvelope(messageResponse);
const errors = errorResponses(400, 401, 403, 429);

/** The seed's account endpoints: each parses input, calls the accounts module, shapes output. */
export async function registerUserRoutes(app: FastifyInstance, deps: UserRouteDependencies): Promise<void> {
  const { accounts, db } = deps;
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const config = app.config;

  // The key is the validated, lowercased email, so these hooks run after body parsing and validation.
  const emailKey = (request: FastifyRequest) => (request.body as { email: string }).email;
  // Login attempts are counted per email and IP, so guessing from one address is held to a few
  // tries while the owner, elsewhere, can still sign in (a per-email count would let anyone lock
  // them out); and per IP with a higher ceiling, so one address cannot try a password on many
  // accounts. Guessing from many addresses is left to the password hashing and policy.
  const loginLimit = makeLimiter(app, {
    name: 'login',
    max: config.rateLimits.loginPer15Minutes,
    windowMs: FIFTEEN_MINUTES,
    key: (request) => `${emailKey(request)}|${request.ip}`,
    failOpen: false,
  });
  const loginIpLimit = makeLimiter(app, {
    name: 'login-ip',
    max: config.rateLimits.loginPerIpPer15Minutes,
    windowMs: FIFTEEN_MINUTES,
    key: (request) => request.ip,
    failOpen: false,
  });
  // Reset mail goes to an address anyone can type: the same budget stops mail flooding.
  const resetLimit = makeLimiter(app, {
    name: 'password-reset',
    max: config.rateLimits.loginPer15Minutes,
    windowMs: FIFTEEN_MINUTES,
    key: emailKey,
    failOpen: false,
  });
  const userKey = (request: FastifyRequest) => request.auth?.user.id ?? null;
  // Guessing the current password from a stolen session is held to the login budget.
  const passwordChangeLimit = makeLimiter(app, {
    name: 'password-change',
    max: config.rateLimits.loginPer15Minutes,
    windowMs: FIFTEEN_MINUTES,
    key: userKey,
    failOpen: false,
  });
  const resendLimit = makeLimiter(app, {
    name: 'verify-resend',
    max: 3,
    windowMs: FIFTEEN_MINUTES,
    key: userKey,
    failOpen: false,
  });

  const clearSessionCookie = (reply: FastifyReply) =>
    reply.clearCookie(deps.sessionCookie.name, deps.sessionCookie.options);

  routes.post(
    '/api/register',
    {
      // Changes no existing session, user or subscription (docs/decisions/0027).
      config: { sessionEffect: 'none' },
      schema: {
        tags,
        summary:
          'Create an account and email its verification link, which signs the user in (202, the same answer for a taken address, whose owner is emailed instead)',
        body: registerRequest,
        response: { 202: successEnvelope(registerResponse), ...errors },
      },
    },
    async (request, reply) => {
      await accounts.register(request.body, authHeaders(request));
      return reply.code(202).send(ok({ message: REGISTER_MESSAGE }));
    },
  );

  routes.post(
    '/api/login',
    {
      // Changes no existing session, user or subscription (docs/decisions/0027).
      config: { sessionEffect: 'none' },
      schema: {
        tags,
        summary: `Sign in (a new session; 401 "${INVALID_CREDENTIALS_MESSAGE}" for any wrong pair). With two-factor on, a right password answers {twoFactorRequired: true} and a short-lived pending cookie, no session: POST /api/login/two-factor/ next`,
        body: loginRequest,
        response: { 200: successEnvelope(loginResponse), ...errors },
      },
      preHandler: [loginIpLimit, loginLimit],
    },
    async (request, reply) => {
      const started = await accounts.login(request.body, authHeaders(request), request.auth?.sessionId);
      reply.header('set-cookie', started.cookies);
      if ('twoFactorRequired' in started) return ok({ twoFactorRequired: true as const });
      return ok(await loadProfile(db, started.userId, config.billing.pastDueGraceDays));
    },
  );

  routes.post(
    '/api/logout',
    { schema: { tags, summary: 'End the session', response: { 200: messageEnvelope, ...errors } } },
    async (request, reply) => {
      const { sessionId } = requireUser(request);
      await accounts.logout(sessionId);
      clearSessionCookie(reply);
      return ok({ message: 'Signed out.' });
    },
  );

  routes.get(
    '/api/profile',
    { schema: { tags, summary: 'The signed-in user', response: { 200: profileEnvelope, ...errors } } },
    // Shaped from what the session hook read (one query, or none when the session is cached):
    // the auth context carries the user, their subscription and trial end, and is dropped from
    // every cache whenever any of them changes (docs/decisions/0027).
    async (request) => ok(toProfile(requireUser(request), config.billing.pastDueGraceDays)),
  );

  routes.patch(
    '/api/profile',
    {
      schema: {
        tags,
        summary: 'Update the name',
        body: profileUpdateRequest,
        response: { 200: profileEnvelope, ...errors },
      },
    },
    async (request) => {
      const { user, workspace } = requireUser(request);
      await updateName(db, user.id, request.body.name);
      return ok(await loadProfile(db, user.id, config.billing.pastDueGraceDays, workspace.id));
    },
  );

  routes.post(
    '/api/password-reset',
    {
      // Changes no existing session, user or subscription (docs/decisions/0027).
      config: { sessionEffect: 'none' },
      schema: {
        tags,
        summary: 'Email a single-use reset link (the same answer whether or not the account exists)',
        body: passwordResetRequest,
        response: { 200: messageEnvelope, ...errors },
      },
      preHandler: resetLimit,
    },
    async (request) => {
      await accounts.requestPasswordReset(request.body.email);
      return ok({ message: PASSWORD_RESET_MESSAGE });
    },
  );

  routes.post(
    '/api/password-reset/confirm',
    {
      schema: {
        tags,
        summary: 'Set a new password from a reset link; ends every session of the account',
        body: passwordResetConfirmRequest,
        response: { 200: messageEnvelope, ...errors },
      },
    },
    async (request, reply) => {
      await accounts.confirmPasswordReset(request.body.token, request.body.password);
      clearSessionCookie(reply);
      return ok({ message: 'Your password has been reset. Sign in with the new password.' });
    },
  );

  routes.post(
    '/api/verify-email',
    {
      schema: {
        tags,
        summary:
          'Mark the email verified from the emailed token; its first use signs the user in (a new session)',
        body: verifyEmailRequest,
        response: { 200: messageEnvelope, ...errors },
      },
    },
    async (request, reply) => {
      const cookies = await accounts.verifyEmail(
        request.body.token,
        authHeaders(request),
        request.auth?.sessionId,
      );
      reply.header('set-cookie', cookies);
      return ok({ message: 'Your email address is verified.' });
    },
  );

  routes.post(
    '/api/verify-email/resend',
    {
      schema: {
        tags,
        summary: 'Send a new verification email',
        response: { 200: messageEnvelope, ...errors },
      },
      preHandler: resendLimit,
    },
    async (request) => {
      const { user } = requireUser(request);
      const sent = await accounts.resendVerification(user);
      return ok({
        message: sent ? 'A new verification email is on its way.' : 'Your email address is already verified.',
      });
    },
  );

  routes.post(
    '/api/password-change',
    {
      schema: {
        tags,
        summary:
          'Change the password (400 VALIDATION_ERROR on currentPassword when it is wrong); ends other sessions',
        body: passwordChangeRequest,
        response: { 200: messageEnvelope, ...errors },
      },
      preHandler: passwordChangeLimit,
    },
    async (request, reply) => {
      const { user, workspace } = requireUser(request);
      const cookies = await accounts.changePassword(user, request.body, authHeaders(request));
      await carryActiveWorkspace(
        db,
        cookies,
        { name: deps.sessionCookie.name, secret: app.config.secretKey },
        workspace.id,
      );
      reply.header('set-cookie', cookies);
      return ok({ message: 'Your password has been changed. Other sessions were signed out.' });
    },
  );

  routes.post(
    '/api/sessions/revoke-others',
    {
      schema: {
        tags,
        summary: 'Sign out every other session of this account',
        response: { 200: successEnvelope(z.object({ revoked: z.number().int() })), ...errors },
      },
    },
    async (request) => {
      const { user, sessionId } = requireUser(request);
      return ok({ revoked: await accounts.revokeOtherSessions(user.id, sessionId) });
    },
  );
}

/**
 * What Better Auth may read from the request: the cookies (its own session), the user agent and
 * the client IP as Fastify resolved it (honouring TRUSTED_PROXIES), both recorded on new sessions.
 */
export function authHeaders(request: FastifyRequest): Headers {
  const headers = new Headers();
  if (request.headers.cookie) headers.set('cookie', request.headers.cookie);
  const userAgent = request.headers['user-agent'];
  if (userAgent) headers.set('user-agent', userAgent.slice(0, 512));
  headers.set(CLIENT_IP_HEADER, request.ip);
  return headers;
}
