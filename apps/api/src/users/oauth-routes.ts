import {
  errorEnvelopeSchema,
  type OAuthErrorCode,
  oauthCallbackQuery,
  oauthProviderSchema,
  oauthProvidersResponse,
  oauthStartQuery,
  safeNextPath,
  signInMethodsResponse,
  successEnvelope,
} from '@tierbase/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Database } from '../db/client.ts';
import { ok } from '../http/envelope.ts';
import { type Auth, CLIENT_IP_HEADER } from './auth.ts';
import { requireUser } from './guards.ts';
import { configuredProviders, oauthErrorCode, signInMethods } from './oauth.ts';
import { deleteSession } from './sessions.ts';

export interface OAuthRouteDependencies {
  auth: Auth;
  db: Database;
}

const tags = ['account'];
/** Where a signed-in user lands when the sign-in named no (safe) page. */
const DEFAULT_NEXT = '/';
const providerParams = z.object({ provider: z.string().max(32) });

/**
 * OAuth sign-in: the providers on offer, the redirect to a provider and the callback from it.
 * Better Auth keeps the state (a random value in a signed, short-lived cookie and, with the PKCE
 * verifier, in the verifications table), exchanges the code and finds or creates the user; these
 * routes only translate between it and the browser. Every failure becomes a redirect to
 * /login?error=<code>: the browser is navigating, so it must never land on a JSON error.
 */
export async function registerOAuthRoutes(app: FastifyInstance, deps: OAuthRouteDependencies): Promise<void> {
  const { auth, db } = deps;
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const config = app.config;
  const loginWithError = (reply: FastifyReply, code: OAuthErrorCode) =>
    reply.redirect(`/login?error=${code}`, 302);

  routes.get(
    '/api/auth/providers',
    {
      schema: {
        tags,
        summary: 'The OAuth sign-in providers configured on this server (the SPA offers only these)',
        response: { 200: successEnvelope(oauthProvidersResponse), 429: errorEnvelopeSchema },
      },
    },
    async () => ok({ providers: configuredProviders(config) }),
  );

  routes.get(
    '/api/auth/methods',
    {
      schema: {
        tags,
        summary: 'How the signed-in user can sign in: whether a password is set, and the linked providers',
        response: {
          200: successEnvelope(signInMethodsResponse),
          401: errorEnvelopeSchema,
          429: errorEnvelopeSchema,
        },
      },
    },
    async (request) => {
      const { user } = requireUser(request);
      return ok(await signInMethods(db, user.id));
    },
  );

  routes.get(
    '/api/auth/oauth/:provider/start',
    {
      schema: {
        tags,
        summary:
          'Redirect (302) to the provider to sign in, with state and PKCE; `next` is the app path to land on afterwards. An unconfigured provider redirects to /login?error=oauth_unavailable',
        params: providerParams,
        querystring: oauthStartQuery,
      },
    },
    async (request, reply) => {
      const provider = oauthProviderSchema.safeParse(request.params.provider);
      if (!provider.success || !config.oauth[provider.data])
        return loginWithError(reply, 'oauth_unavailable');
      const next = safeNextPath.safeParse(request.query.next);
      const landing = next.success ? next.data : DEFAULT_NEXT;
      try {
        const result = await auth.api.signInSocial({
          body: {
            provider: provider.data,
            callbackURL: `${config.appUrl}${landing}`,
            errorCallbackURL: `${config.appUrl}/login`,
            disableRedirect: true,
          },
          headers: authHeaders(request),
          returnHeaders: true,
        });
        if (!result.response.url) return loginWithError(reply, 'oauth_failed');
        reply.header('set-cookie', result.headers.getSetCookie());
        return reply.redirect(result.response.url, 302);
      } catch (error) {
        // The provider's discovery document could not be fetched, most likely.
        request.log.warn({ err: error, provider: provider.data }, 'oauth start failed');
        return loginWithError(reply, 'oauth_provider');
      }
    },
  );

  routes.get(
    '/api/auth/oauth/:provider/callback',
    {
      schema: {
        tags,
        summary:
          'Where the provider sends the browser back: checks the state, exchanges the code, signs in (a new session) and redirects (302) to the app, or to /login?error=<code>',
        params: providerParams,
        querystring: oauthCallbackQuery,
      },
    },
    async (request, reply) => {
      const provider = oauthProviderSchema.safeParse(request.params.provider);
      if (!provider.success || !config.oauth[provider.data])
        return loginWithError(reply, 'oauth_unavailable');
      let response: Response;
      try {
        response = await auth.api.callbackOAuth({
          params: { id: provider.data },
          query: request.query,
          headers: authHeaders(request),
          asResponse: true,
        });
      } catch (error) {
        // A provider that cannot be reached (token or user endpoint), or a database error.
        request.log.warn({ err: error, provider: provider.data }, 'oauth callback failed');
        return loginWithError(reply, 'oauth_provider');
      }
      const location = response.headers.get('location');
      const target = location ? new URL(location, config.appUrl) : null;
      // Better Auth answers every outcome with a redirect: into the app on success, to
      // /login?error=… otherwise. Anything else (or another origin) is treated as a failure.
      if (!target || target.origin !== config.appUrl || response.status < 300 || response.status >= 400) {
        return loginWithError(reply, 'oauth_failed');
      }
      const error = target.searchParams.get('error');
      if (target.pathname === '/login' && error !== null) {
        request.log.info({ provider: provider.data, reason: error.slice(0, 64) }, 'oauth sign-in refused');
        return loginWithError(reply, oauthErrorCode(error));
      }
      const cookies = response.headers.getSetCookie();
      // As on login: the session the browser had is ended once the new one exists.
      if (request.auth?.sessionId) await deleteSession(db, request.auth.sessionId);
      reply.header('set-cookie', cookies);
      const next = safeNextPath.safeParse(`${target.pathname}${target.search}`);
      return reply.redirect(next.success ? next.data : DEFAULT_NEXT, 302);
    },
  );
}

/** What Better Auth may read from the request (the same as the account routes hand it). */
function authHeaders(request: FastifyRequest): Headers {
  const headers = new Headers();
  if (request.headers.cookie) headers.set('cookie', request.headers.cookie);
  const userAgent = request.headers['user-agent'];
  if (userAgent) headers.set('user-agent', userAgent.slice(0, 512));
  headers.set(CLIENT_IP_HEADER, request.ip);
  return headers;
}
