import { timingSafeEqual } from 'node:crypto';
import { ErrorCode } from '@tierbase/contracts';
import type { FastifyContextConfig, FastifyInstance, FastifyRequest } from 'fastify';
import { countByStatus } from '../email/outbox.ts';
import { AppError, notFound } from '../errors.ts';
import { httpRequestDuration, outboxEmails, registry } from '../metrics.ts';

export const METRICS_PATH = '/metrics';

/** Scrapes come from Prometheus, not a browser or a user, and must answer however busy the process is. */
const SCRAPE_POLICY = {
  httpsRedirect: false,
  limits: { perUser: false },
  loadShedding: false,
} satisfies FastifyContextConfig;

/** Outbox states worth an alert: mail still to go out, and mail given up on. */
const OUTBOX_WATCHED = ['queued', 'failed'] as const;

/**
 * The request histogram and GET /metrics (Prometheus text format).
 *
 * The histogram is one `observe` per request in onResponse, labelled with the route's pattern
 * (`/api/admin/users/:id`, never the URL itself) or `unmatched` for a path no route has, so ids and
 * tokens in URLs never become series.
 *
 * /metrics needs `Authorization: Bearer $METRICS_TOKEN` when that is set; without it, it is open in
 * development and test, and not served at all (404) in production.
 */
export function registerMetrics(app: FastifyInstance): void {
  // Callback style: no promise per request on the hot path.
  app.addHook('onResponse', (request, reply, done) => {
    httpRequestDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: reply.statusCode,
      },
      reply.elapsedTime / 1000,
    );
    done();
  });

  const { metricsToken } = app.config.observability;
  if (!metricsToken && app.config.isProduction) {
    // Not served: a JSON 404 like any unknown API path, not the web app's page for a missing one.
    app.get(METRICS_PATH, { schema: { hide: true }, config: SCRAPE_POLICY }, async () => {
      throw notFound();
    });
    return;
  }
  const expected = metricsToken ? Buffer.from(`Bearer ${metricsToken}`) : undefined;

  app.get(METRICS_PATH, { schema: { hide: true }, config: SCRAPE_POLICY }, async (request, reply) => {
    if (expected && !authorized(request, expected)) {
      reply.header('WWW-Authenticate', 'Bearer');
      throw new AppError({
        status: 401,
        code: ErrorCode.AUTHENTICATION_REQUIRED,
        message: 'A valid metrics token is required.',
      });
    }
    await readOutbox(app, request);
    reply.header('Cache-Control', 'no-store').type(registry.contentType);
    return registry.metrics();
  });
}

function authorized(request: FastifyRequest, expected: Buffer): boolean {
  const given = Buffer.from(request.headers.authorization ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The outbox gauge, read when Prometheus scrapes (every 15–60 s), not per email: one grouped count
 * over the rows not yet sent. A failing database leaves the last values and still serves the rest.
 */
async function readOutbox(app: FastifyInstance, request: FastifyRequest): Promise<void> {
  try {
    const rows = await countByStatus(app.database.db, OUTBOX_WATCHED);
    for (const status of OUTBOX_WATCHED) {
      outboxEmails.set({ status }, Number(rows.find((row) => row.status === status)?.count ?? 0));
    }
  } catch (error) {
    request.log.warn({ err: error }, 'metrics: the outbox could not be counted');
  }
}
