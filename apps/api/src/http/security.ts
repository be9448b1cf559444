import { randomBytes, timingSafeEqual } from 'node:crypto';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import { ErrorCode } from '@tierbase/contracts';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';

export const CSRF_COOKIE = 'csrftoken';
export const CSRF_HEADER = 'x-csrftoken';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * false: the route takes no CSRF token, because no browser session calls it (Stripe's webhook,
     * authenticated by its signature). Default: unsafe methods need the double-submit token.
     */
    csrf?: boolean;
    /**
     * false: in production, plain HTTP is served rather than redirected to HTTPS: load balancers'
     * health checks, and server-to-server calls that have already sent their body or token when a
     * redirect would answer (docs/decisions/0012). Default: redirected.
     */
    httpsRedirect?: boolean;
  }
}

/**
 * The seed's middleware stack, in its order: security headers, HTTPS redirect, CORS, cookies,
 * then CSRF. Sessions, authentication and the Pro gate come after, in the users and billing rooms.
 */
export async function registerSecurity(app: FastifyInstance, config: Config): Promise<void> {
  // Helmet's header values, worked out once: @fastify/helmet builds the whole helmet middleware
  // again on every request (options, directives, dashified names), a few per cent of the CPU of a
  // small answer. No directive depends on the request (no nonces), so the headers are constant.
  const securityHeaders = helmetHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        upgradeInsecureRequests: config.isProduction ? [] : null,
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'strict-origin-when-cross-origin' },
    strictTransportSecurity: config.isProduction ? { maxAge: 31_536_000, includeSubDomains: true } : false,
    crossOriginEmbedderPolicy: false,
  });
  // On the raw response, as helmet does, so that every answer (errors, 404s, redirects) has them.
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of securityHeaders) reply.raw.setHeader(name, value);
    done();
  });

  if (config.isProduction) {
    // Behind a proxy `request.protocol` comes from X-Forwarded-Proto, which Fastify only believes
    // from TRUSTED_PROXIES. Routes declare `httpsRedirect: false` to stay on plain HTTP: a redirect
    // protects a browser's next request, while a server-to-server POST has already sent its body
    // and is not retried on a 301 — it would only be lost. The webhook's authenticity comes from
    // its signature, not the transport (docs/decisions/0012).
    const host = new URL(config.appUrl).host;
    // Callback hooks here: they run on every request, and an async one costs a promise each time.
    app.addHook('onRequest', (request, reply, done) => {
      if (request.routeOptions.config.httpsRedirect === false || request.protocol === 'https') return done();
      // A reply sent from a callback hook ends the request there: `done` is not called.
      reply.redirect(`https://${host}${request.url}`, 301);
    });
  }

  const allowList = new Set(config.corsOrigins);
  await app.register(cors, {
    credentials: true,
    // Any origin is reflected only in development, where the SPA may run on another port.
    origin: (origin, callback) => {
      if (!origin) return callback(null, false);
      callback(null, config.env === 'development' || allowList.has(origin) ? origin : false);
    },
    allowedHeaders: ['Content-Type', 'X-CSRFToken', 'X-Request-ID'],
    exposedHeaders: ['X-Request-ID', 'Retry-After'],
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
  });

  await app.register(cookie);

  // API answers depend on the caller's session or set cookies: no cache, shared or the browser's,
  // may keep them (decision 10). All of /api/ rather than a list of routes, so a new route cannot
  // be forgotten; a route that means to be cached sets its own Cache-Control, which is kept.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith('/api/') && !reply.hasHeader('cache-control')) {
      reply.header('Cache-Control', 'no-store');
    }
    done(null, payload);
  });

  app.addHook('onRequest', (request, _reply, done) => {
    // A path no route has is checked like any other: its answer (404, 405) needs no exemption.
    if (SAFE_METHODS.has(request.method) || request.routeOptions.config.csrf === false) return done();
    if (csrfTokenMatches(request)) return done();
    done(
      new AppError({
        status: 403,
        code: ErrorCode.CSRF_FAILED,
        message: 'CSRF token missing or incorrect.',
      }),
    );
  });
}

/** Double-submit check: the header must equal the cookie, compared in constant time. */
function csrfTokenMatches(request: FastifyRequest): boolean {
  const cookieToken = request.cookies[CSRF_COOKIE];
  const headerToken = request.headers[CSRF_HEADER];
  if (!cookieToken || typeof headerToken !== 'string') return false;
  const a = Buffer.from(cookieToken);
  const b = Buffer.from(headerToken);
  return a.length === b.length && a.length >= 32 && timingSafeEqual(a, b);
}

/** Returns the caller's CSRF token, minting and setting the cookie when there is none. */
export function issueCsrfToken(request: FastifyRequest, reply: FastifyReply, config: Config): string {
  const existing = request.cookies[CSRF_COOKIE];
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  // Readable by the SPA's script (that is the point of double submit), so not HttpOnly.
  reply.setCookie(CSRF_COOKIE, token, {
    path: '/',
    sameSite: 'lax',
    secure: config.isProduction,
    httpOnly: false,
    maxAge: 365 * 24 * 3600,
  });
  return token;
}

/** GET /api/csrf/: sets the `csrftoken` cookie and returns the token for the `X-CSRFToken` header. */
export async function csrfRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/api/csrf',
    { schema: { tags: ['session'], summary: 'Get a CSRF token (also set as the csrftoken cookie)' } },
    async (request, reply) => ({
      success: true,
      data: { csrfToken: issueCsrfToken(request, reply, app.config) },
    }),
  );
}

/** The headers helmet sets for these options, captured by running its middleware once. */
export function helmetHeaders(options: Readonly<HelmetOptions>): ReadonlyArray<readonly [string, string]> {
  const headers: Array<[string, string]> = [];
  const response = {
    setHeader(name: string, value: string) {
      headers.push([name, value]);
    },
    removeHeader() {},
  };
  let failure: unknown;
  // helmet's middleware takes Node's request and response; only setHeader/removeHeader are used
  // when no directive is a function, which is the case here.
  helmet(options)({} as never, response as never, (error?: unknown) => {
    failure = error;
  });
  if (failure) throw failure;
  return headers;
}
