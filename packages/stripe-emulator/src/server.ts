/**
 * HTTP: Stripe's protocol on /v1 (auth, form bodies, idempotency keys, error envelope, Request-Id,
 * injected faults), the hosted pages, and the /_emulator control API.
 */
import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { type ApiHandler, type ApiRoutes, type Deps, expandPaths } from './api.ts';
import { API_VERSION } from './core.ts';
import { ApiError } from './errors.ts';
import type { FaultInjector, FaultKind } from './faults.ts';
import { expandList, type Params, parseForm } from './form.ts';
import { randomToken } from './ids.ts';
import { registerCheckoutPages } from './pages/checkout.ts';
import { dashboardPage } from './pages/dashboard.ts';
import { registerInvoicePages } from './pages/invoice.ts';
import { registerPortalPages } from './pages/portal.ts';
import { registerBillingPortal } from './resources/billing-portal.ts';
import { registerCheckout } from './resources/checkout.ts';
import { registerCustomers } from './resources/customers.ts';
import { registerEvents } from './resources/events.ts';
import { registerInvoices } from './resources/invoices.ts';
import { registerPaymentMethods } from './resources/payment-methods.ts';
import { registerPayments } from './resources/payments.ts';
import { registerProducts } from './resources/products.ts';
import { registerRefunds } from './resources/refunds.ts';
import { registerSubscriptions } from './resources/subscriptions.ts';
import { registerTestClocks } from './resources/test-clocks.ts';
import type { WebhookDispatcher } from './webhooks.ts';

const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
const API_MAJOR = API_VERSION.slice(API_VERSION.indexOf('.') + 1);

function sameMajor(version: string): boolean {
  return /^\d{4}-\d{2}-\d{2}\.[a-z]+$/.test(version) && version.endsWith(`.${API_MAJOR}`);
}

export interface ServerDeps extends Deps {
  webhooks: WebhookDispatcher;
  faults: FaultInjector;
  reset: () => Promise<void>;
}

/** The key from `Authorization: Bearer …` (or Basic with the key as user name), as Stripe reads it. */
function apiKeyOf(authorization: string | undefined): string | undefined {
  const [scheme, credentials] = (authorization ?? '').trim().split(/\s+/);
  if (!credentials) return undefined;
  if (/^bearer$/i.test(scheme ?? '')) return credentials;
  if (/^basic$/i.test(scheme ?? ''))
    return Buffer.from(credentials, 'base64').toString().split(':')[0] || undefined;
  return undefined;
}

function checkApiKey(authorization: string | undefined, expected: string | undefined): ApiError | null {
  const key = apiKeyOf(authorization);
  if (!key) {
    return new ApiError(
      401,
      'invalid_request_error',
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
    );
  }
  if (expected ? key === expected : /^(sk|rk)_test_\S+$/.test(key)) return null;
  // Masked as Stripe masks it: the message never carries the whole key.
  const masked = `${key.slice(0, 8)}${'*'.repeat(Math.max(0, key.length - 12))}${key.slice(-4)}`;
  return new ApiError(401, 'invalid_request_error', `Invalid API Key provided: ${masked}`, 'api_key_invalid');
}

/**
 * Objects are shaped as the pinned version shapes them; a version from another release family
 * (another suffix, e.g. `.basil`) expects other shapes, so it is refused rather than misled.
 */
function checkApiVersion(requested: string | string[] | undefined): ApiError | null {
  if (typeof requested !== 'string' || requested === API_VERSION || sameMajor(requested)) return null;
  return new ApiError(
    400,
    'invalid_request_error',
    `The emulator serves API version ${API_VERSION} (and its ${API_MAJOR} release family) only; the request asked for ${requested}.`,
    'api_version_unsupported',
  );
}

function requestIdOf(reply: FastifyReply): string {
  return String(reply.getHeader('request-id'));
}

function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply
    .code(error.status)
    .type('application/json')
    .send(JSON.stringify(error.toBody(requestIdOf(reply))));
}

function bodyParams(req: FastifyRequest): Params {
  if (typeof req.body === 'string') return parseForm(req.body);
  if (req.body && typeof req.body === 'object') return req.body as Params;
  return {};
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  const { core } = deps;
  const app = Fastify({
    logger: false,
    // Stripe's nested query encoding (`expand[]=a`, `created[gte]=1`).
    routerOptions: { querystringParser: (query: string) => parseForm(query) },
  });
  const inFlightKeys = new Set<string>();

  // Keep form bodies raw: the idempotency fingerprint needs the exact bytes.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, body);
  });

  app.addHook('onRequest', async (_req, reply) => {
    reply.header('request-id', `req_${randomToken(14)}`);
  });
  // One line per API call; never headers or bodies (they carry keys and card numbers).
  app.addHook('onResponse', async (req, reply) => {
    if (req.url.startsWith('/v1/'))
      core.options.log(`${req.method} ${req.url.split('?')[0]} → ${reply.statusCode}`);
  });

  async function handleApi(
    req: FastifyRequest,
    reply: FastifyReply,
    handler: ApiHandler,
  ): Promise<FastifyReply | undefined> {
    reply.header('stripe-version', API_VERSION);
    const authError = checkApiKey(req.headers.authorization, core.options.apiKey);
    if (authError) return sendError(reply, authError);
    const versionError = checkApiVersion(req.headers['stripe-version']);
    if (versionError) return sendError(reply, versionError);

    const fault = deps.faults.take(req.url.split('?')[0] ?? req.url, req.method);
    if (fault?.kind === '500') {
      return sendError(
        reply,
        new ApiError(500, 'api_error', 'An unknown error occurred (injected by the emulator).'),
      );
    }
    if (fault?.kind === '429') {
      return sendError(
        reply,
        new ApiError(
          429,
          'invalid_request_error',
          'Too many requests hit the API too quickly (injected by the emulator).',
          'rate_limit',
        ),
      );
    }
    const rawBody = typeof req.body === 'string' ? req.body : '';
    const idempotencyKey =
      req.method === 'POST' ? (req.headers['idempotency-key'] as string | undefined) : undefined;
    const scopedKey = idempotencyKey ? `${apiKeyOf(req.headers.authorization)}:${idempotencyKey}` : undefined;
    const fingerprint = createHash('sha256').update(`${req.method} ${req.url}\n${rawBody}`).digest('hex');
    if (scopedKey) {
      const previous = core.state.idempotency[scopedKey];
      if (previous && previous.expiresAt > Date.now()) {
        if (previous.fingerprint !== fingerprint) {
          return sendError(
            reply,
            new ApiError(
              400,
              'idempotency_error',
              `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
            ),
          );
        }
        reply.header('idempotent-replayed', 'true');
        if (fault?.kind === 'drop') return dropConnection(req, reply);
        return reply.code(previous.status).type('application/json').send(previous.body);
      }
      if (inFlightKeys.has(scopedKey)) {
        reply.header('stripe-should-retry', 'true');
        return sendError(
          reply,
          new ApiError(
            409,
            'idempotency_error',
            'There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): please try again later.',
            'idempotency_key_in_use',
          ),
        );
      }
      inFlightKeys.add(scopedKey);
    }
    // Slow answers hold the key in flight, so a concurrent retry sees Stripe's 409.
    if (fault?.kind === 'slow') await sleep(fault.delayMs);

    let status = 200;
    let body: string;
    try {
      const params = req.method === 'POST' ? bodyParams(req) : ((req.query as Params) ?? {});
      const expand = expandList(params);
      const requestInfo = { id: requestIdOf(reply), idempotencyKey: idempotencyKey ?? null };
      const result = core.requestContext.run(requestInfo, () => {
        // Bring wall-clock customers up to date before answering, as Stripe's background jobs would have.
        deps.engine.catchUp();
        return handler({ params, path: req.params as Record<string, string>, expand });
      });
      body = JSON.stringify(
        expandPaths(
          core.state,
          result,
          expand.filter((p) => p !== 'line_items'),
        ),
      );
    } catch (err) {
      const apiError =
        err instanceof ApiError
          ? err
          : new ApiError(
              500,
              'api_error',
              `The emulator failed: ${err instanceof Error ? err.message : String(err)}`,
            );
      if (!(err instanceof ApiError))
        core.options.log(
          `internal error on ${req.method} ${req.url}: ${err instanceof Error ? err.stack : String(err)}`,
        );
      status = apiError.status;
      body = JSON.stringify(apiError.toBody(requestIdOf(reply)));
    } finally {
      if (scopedKey) inFlightKeys.delete(scopedKey);
    }
    // Like Stripe, save the result of a request that ran (success or card error), not of one rejected up front.
    if (scopedKey && (status < 400 || status === 402)) {
      core.state.idempotency[scopedKey] = {
        fingerprint,
        status,
        body,
        expiresAt: Date.now() + IDEMPOTENCY_TTL_MS,
      };
      pruneIdempotency(deps);
    }
    core.store.changed();
    if (fault?.kind === 'drop') return dropConnection(req, reply);
    return reply.code(status).type('application/json').send(body);
  }

  const routes: ApiRoutes = {
    get: (path, handler) => app.get(path, (req, reply) => handleApi(req, reply, handler)),
    post: (path, handler) => app.post(path, (req, reply) => handleApi(req, reply, handler)),
    del: (path, handler) => app.delete(path, (req, reply) => handleApi(req, reply, handler)),
  };
  registerCustomers(routes, deps);
  registerProducts(routes, deps);
  registerPaymentMethods(routes, deps);
  registerSubscriptions(routes, deps);
  registerInvoices(routes, deps);
  registerPayments(routes, deps);
  registerRefunds(routes, deps);
  registerCheckout(routes, deps);
  registerBillingPortal(routes, deps);
  registerEvents(routes, deps);
  registerTestClocks(routes, deps);

  registerCheckoutPages(app, deps);
  registerPortalPages(app, deps);
  registerInvoicePages(app, deps);
  app.get('/', (_req, reply) => reply.type('text/html; charset=utf-8').send(dashboardPage(deps)));
  // Browsers ask every origin for a favicon; the hosted pages have none, so say so without a 404.
  app.get('/favicon.ico', (_req, reply) =>
    reply.header('cache-control', 'public, max-age=86400').code(204).send(),
  );
  registerControlApi(app, deps);

  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/v1/')) {
      return sendError(
        reply,
        new ApiError(
          404,
          'invalid_request_error',
          `Unrecognized request URL (${req.method}: ${req.url.split('?')[0]}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
        ),
      );
    }
    return reply.code(404).type('text/plain').send('Not found');
  });

  app.setErrorHandler((err, req, reply) => {
    core.options.log(
      `error on ${req.method} ${req.url}: ${err instanceof Error ? err.message : String(err)}`,
    );
    const status =
      typeof (err as { statusCode?: number }).statusCode === 'number'
        ? (err as { statusCode: number }).statusCode
        : 500;
    return sendError(
      reply,
      new ApiError(
        status,
        status >= 500 ? 'api_error' : 'invalid_request_error',
        err instanceof Error ? err.message : 'Error',
      ),
    );
  });

  return app;
}

function dropConnection(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  reply.hijack();
  req.raw.socket.destroy();
  return reply;
}

function pruneIdempotency(deps: ServerDeps): void {
  const entries = deps.core.state.idempotency;
  const now = Date.now();
  for (const [key, entry] of Object.entries(entries)) if (entry.expiresAt <= now) delete entries[key];
}

/** The /_emulator control API: the same switches as the embedding API, for a separately started emulator. */
function registerControlApi(app: FastifyInstance, deps: ServerDeps): void {
  const { core } = deps;
  const fromForm = (req: FastifyRequest) => typeof req.body === 'string';
  const done = (req: FastifyRequest, reply: FastifyReply, payload: unknown) =>
    fromForm(req) ? reply.redirect('/', 303) : reply.send(payload);
  const num = (params: Params, key: string): number | undefined => {
    const value = params[key];
    if (value === undefined || value === '') return undefined;
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  };

  app.get('/_emulator/state', (_req, reply) => reply.send(core.state));
  app.get('/_emulator/config', (_req, reply) =>
    reply.send({ webhooks: deps.webhooks.config(), faults: deps.faults.pending(), apiVersion: API_VERSION }),
  );
  app.post('/_emulator/reset', async (req, reply) => {
    await deps.reset();
    return done(req, reply, { ok: true });
  });
  app.post('/_emulator/faults', (req, reply) => {
    const params = bodyParams(req);
    const kind = String(params.kind ?? '') as FaultKind;
    if (!['500', '429', 'drop', 'slow'].includes(kind)) {
      return reply.code(400).send({
        error: {
          type: 'invalid_request_error',
          message: 'kind must be 500, 429, drop or slow',
          param: 'kind',
        },
      });
    }
    deps.faults.failNext(num(params, 'count') ?? 1, kind, {
      delayMs: num(params, 'delayMs'),
      pathPrefix: typeof params.pathPrefix === 'string' ? params.pathPrefix : undefined,
      method: typeof params.method === 'string' ? params.method : undefined,
    });
    return done(req, reply, { ok: true, faults: deps.faults.pending() });
  });
  app.delete('/_emulator/faults', (_req, reply) => {
    deps.faults.clear();
    return reply.send({ ok: true });
  });
  app.post('/_emulator/webhooks/config', (req, reply) => {
    const params = bodyParams(req);
    const duplicates = num(params, 'duplicates');
    const shuffle = num(params, 'shuffleWindowMs');
    const delay = num(params, 'delayMs');
    if (duplicates !== undefined) deps.webhooks.setDuplicates(duplicates);
    if (shuffle !== undefined) deps.webhooks.setShuffleWindow(shuffle);
    if (delay !== undefined) deps.webhooks.setDelay(delay);
    return done(req, reply, { ok: true, webhooks: deps.webhooks.config() });
  });
  app.post('/_emulator/webhooks/flush', async (_req, reply) => {
    await deps.webhooks.flush();
    return reply.send({ ok: true });
  });
  app.get('/_emulator/deliveries', (_req, reply) => reply.send(Object.values(core.state.deliveries)));
  app.post<{ Params: { id: string } }>('/_emulator/events/:id/resend', (req, reply) => {
    const count = deps.webhooks.resend(req.params.id);
    if (!core.state.events[req.params.id])
      return reply.code(404).send({ error: { type: 'invalid_request_error', message: 'No such event' } });
    return done(req, reply, { ok: true, deliveries: count });
  });
  app.post<{ Params: { id: string } }>('/_emulator/test_clocks/:id/advance', (req, reply) => {
    const clock = core.state.testClocks[req.params.id];
    if (!clock)
      return reply
        .code(404)
        .send({ error: { type: 'invalid_request_error', message: 'No such test clock' } });
    const params = bodyParams(req);
    const target = num(params, 'frozen_time') ?? clock.frozen_time + (num(params, 'seconds') ?? 0);
    if (target <= clock.frozen_time) {
      return reply
        .code(400)
        .send({ error: { type: 'invalid_request_error', message: 'frozen_time must move forward' } });
    }
    deps.engine.advanceClock(clock, target);
    return done(req, reply, clock);
  });
}
