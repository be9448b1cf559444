import {
  errorEnvelopeSchema,
  messageResponse,
  passkeyListResponse,
  passkeyOptionsResponse,
  passkeyRegisterRequest,
  passkeyRenameRequest,
  passkeySchema,
  passkeySignInRequest,
  profileSchema,
  successEnvelope,
} from '@tierbase/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/client.ts';
import { ok } from '../http/envelope.ts';
import { makeLimiter } from '../http/rate-limit.ts';
import { SESSION_TTL_SECONDS, type SessionCookie } from './auth.ts';
import { requireUser } from './guards.ts';
import type { Passkeys } from './passkeys.ts';
import { loadProfile } from './profile.ts';
import { deleteSession, signedCookieValue } from './sessions.ts';

export interface PasskeyRouteDependencies {
  passkeys: Passkeys;
  db: Database;
  sessionCookie: SessionCookie;
}

const FIFTEEN_MINUTES = 15 * 60_000;
const tags = ['passkeys'];
const optionsEnvelope = successEnvelope(passkeyOptionsResponse);
const passkeyEnvelope = successEnvelope(passkeySchema);
const params = z.object({ id: z.string().min(1).max(100) });
const errors = {
  400: errorEnvelopeSchema,
  401: errorEnvelopeSchema,
  403: errorEnvelopeSchema,
  429: errorEnvelopeSchema,
};

/** Passkeys: the signed-in user's list (add, rename, delete) and the passwordless sign-in. */
export async function registerPasskeyRoutes(
  app: FastifyInstance,
  deps: PasskeyRouteDependencies,
): Promise<void> {
  const { passkeys, db } = deps;
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const config = app.config;

  // Sign-in with a passkey has no email to count by: per IP, with the password sign-in's IP budget
  // for each step (each attempt needs the user's authenticator, so guessing is not the threat;
  // flooding the challenge table and the signature checks is).
  const perIp = (name: string) =>
    makeLimiter(app, {
      name,
      max: config.rateLimits.loginPerIpPer15Minutes,
      windowMs: FIFTEEN_MINUTES,
      key: (request) => request.ip,
      failOpen: false,
    });
  const signInOptionsLimit = perIp('passkey-sign-in-options');
  const signInLimit = perIp('passkey-sign-in');
  const userKey = (request: FastifyRequest) => request.auth?.user.id ?? null;
  // Adding a passkey from a stolen session is held to the login budget; asking for options (a
  // dialog the user may cancel) gets a few more tries.
  const registerLimit = makeLimiter(app, {
    name: 'passkey-register',
    max: config.rateLimits.loginPer15Minutes,
    windowMs: FIFTEEN_MINUTES,
    key: userKey,
    failOpen: false,
  });
  const registerOptionsLimit = makeLimiter(app, {
    name: 'passkey-register-options',
    max: 4 * config.rateLimits.loginPer15Minutes,
    windowMs: FIFTEEN_MINUTES,
    key: userKey,
    failOpen: false,
  });

  routes.get(
    '/api/passkeys',
    {
      schema: {
        tags,
        summary: "The signed-in user's passkeys",
        response: { 200: successEnvelope(passkeyListResponse), ...errors },
      },
    },
    async (request) => {
      const { user } = requireUser(request);
      return ok({ passkeys: await passkeys.list(user.id) });
    },
  );

  routes.post(
    '/api/passkeys/registration-options',
    {
      schema: {
        tags,
        summary:
          'Start adding a passkey: options for navigator.credentials.create() and a single-use challenge',
        response: { 200: optionsEnvelope, ...errors },
      },
      preHandler: registerOptionsLimit,
    },
    async (request) => {
      const { user } = requireUser(request);
      return ok(await passkeys.registrationOptions(user));
    },
  );

  routes.post(
    '/api/passkeys',
    {
      schema: {
        tags,
        summary:
          'Finish adding a passkey: the credential created for the challenge, and its name (400 INVALID_TOKEN for an expired or used challenge)',
        body: passkeyRegisterRequest,
        response: { 201: passkeyEnvelope, 409: errorEnvelopeSchema, ...errors },
      },
      preHandler: registerLimit,
    },
    async (request, reply) => {
      const { user } = requireUser(request);
      return reply.code(201).send(ok(await passkeys.register(user, request.body)));
    },
  );

  routes.patch(
    '/api/passkeys/:id',
    {
      schema: {
        tags,
        summary: 'Rename one of your passkeys',
        params,
        body: passkeyRenameRequest,
        response: { 200: passkeyEnvelope, 404: errorEnvelopeSchema, ...errors },
      },
    },
    async (request) => {
      const { user } = requireUser(request);
      return ok(await passkeys.rename(user.id, request.params.id, request.body.name));
    },
  );

  routes.delete(
    '/api/passkeys/:id',
    {
      schema: {
        tags,
        summary: 'Delete one of your passkeys (it can no longer sign in)',
        params,
        response: { 200: successEnvelope(messageResponse), 404: errorEnvelopeSchema, ...errors },
      },
    },
    async (request) => {
      const { user } = requireUser(request);
      await passkeys.remove(user.id, request.params.id);
      return ok({ message: 'The passkey was deleted.' });
    },
  );

  routes.post(
    '/api/passkeys/sign-in/options',
    {
      schema: {
        tags,
        summary:
          'Start signing in with a passkey: options for navigator.credentials.get() and a single-use challenge',
        response: { 200: optionsEnvelope, ...errors },
      },
      preHandler: signInOptionsLimit,
    },
    async () => ok(await passkeys.authenticationOptions()),
  );

  routes.post(
    '/api/passkeys/sign-in',
    {
      schema: {
        tags,
        summary:
          'Sign in with a passkey (a new session, as /api/login starts; 401 INVALID_CREDENTIALS when the passkey is not verified)',
        body: passkeySignInRequest,
        response: { 200: successEnvelope(profileSchema), ...errors },
      },
      preHandler: signInLimit,
    },
    async (request, reply) => {
      const userAgent = request.headers['user-agent']?.slice(0, 512) ?? '';
      const started = await passkeys.signIn(request.body, { ipAddress: request.ip, userAgent });
      // As on a password sign-in: the request's previous session ends once the new one exists.
      if (request.auth) await deleteSession(db, request.auth.sessionId);
      reply.setCookie(deps.sessionCookie.name, signedCookieValue(started.sessionToken, config.secretKey), {
        ...deps.sessionCookie.options,
        maxAge: SESSION_TTL_SECONDS,
      });
      return ok(await loadProfile(db, started.userId, config.billing.pastDueGraceDays));
    },
  );
}
