import {
  accountDeleteRequest,
  accountExportSchema,
  messageResponse,
  successEnvelope,
} from '@tierbase/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { errorResponses, ok } from '../http/envelope.ts';
import { makeLimiter } from '../http/rate-limit.ts';
import { sessionCookie } from '../users/auth.ts';
import { requireUser } from '../users/guards.ts';
import { confirmPassword, deleteAccount, exportUserData, type PrivacyDeps } from './service.ts';

const FIFTEEN_MINUTES = 15 * 60_000;
const tags = ['account'];
const errors = errorResponses(400, 401, 403, 429, 502, 503);

/** GET /api/account/export/ and POST /api/account/delete/: parse, call the privacy module, answer. */
export async function registerPrivacyRoutes(app: FastifyInstance, deps: () => PrivacyDeps): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { config } = app;
  const cookie = sessionCookie(config);
  const userKey = (request: FastifyRequest) => request.auth?.user.id ?? null;
  // Each export reads Stripe: a handful per quarter hour is plenty for a person.
  const exportLimit = makeLimiter(app, {
    name: 'account-export',
    max: config.rateLimits.loginPer15Minutes,
    windowMs: FIFTEEN_MINUTES,
    key: userKey,
    failOpen: true,
  });
  // Guessing the password from a stolen session is held to the login budget, as a password change.
  const deleteLimit = makeLimiter(app, {
    name: 'account-delete',
    max: config.rateLimits.loginPer15Minutes,
    windowMs: FIFTEEN_MINUTES,
    key: userKey,
    failOpen: false,
  });

  routes.get(
    '/api/account/export',
    {
      schema: {
        tags,
        summary:
          'Download everything held about the signed-in user, as a JSON file (the document itself, not in the envelope)',
        response: { 200: accountExportSchema, ...errors },
      },
      preHandler: exportLimit,
    },
    async (request, reply) => {
      const { user } = requireUser(request);
      const document = await exportUserData(deps(), user.id);
      const day = document.exportedAt.slice(0, 10);
      reply.header('content-disposition', `attachment; filename="tierbase-account-${day}.json"`);
      // Personal data: never kept by a browser or proxy cache.
      reply.header('cache-control', 'no-store');
      return document;
    },
  );

  routes.post(
    '/api/account/delete',
    {
      schema: {
        tags,
        summary:
          'Delete the account for good (401 INVALID_CREDENTIALS on a wrong password): cancels the subscription, erases the data, ends every session',
        body: accountDeleteRequest,
        response: { 200: successEnvelope(messageResponse), ...errors },
      },
      preHandler: deleteLimit,
    },
    async (request, reply) => {
      const { user } = requireUser(request);
      const privacy = deps();
      await confirmPassword(privacy.db, user.id, request.body.password);
      await deleteAccount(privacy, user.id);
      reply.clearCookie(cookie.name, cookie.options);
      return ok({ message: 'Your account has been deleted.' });
    },
  );
}
