import { ErrorCode } from '@tierbase/contracts';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { errorBody } from './envelope.ts';
import { routePolicy } from './route-policy.ts';

/** How long one dependency may take to answer before it counts as down. */
const PROBE_TIMEOUT_MS = 2000;
/**
 * How long one probe's answer serves every health request. Probes arrive every few seconds per
 * load balancer, but a monitor storm (or a benchmark) would otherwise cost a database round trip
 * per request; a second is far below any balancer's interval, so an outage still shows at once.
 */
export const PROBE_REUSE_MS = 1000;

type CheckState = 'ok' | 'down';

/**
 * Liveness and readiness, apart, so an outage of a shared dependency never makes a load balancer
 * pull every instance at once.
 *
 * - GET /health/live: 200 while the process can answer. No dependency is checked: an orchestrator
 *   restarts a container that fails it, and a restart fixes nothing when PostgreSQL is down.
 * - GET /health/ready (and the seed's GET /health/): 200 when the database answers. Redis down is
 *   reported as `degraded` and stays 200: the API serves with in-memory and fail-open limits
 *   (docs/decisions/0006). 503 when the database is down or the server is draining.
 *
 * Load balancers poll these, so they never cache and never wait longer than the probe timeout.
 */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  // Probes come from load balancers and orchestrators over plain HTTP, not from a signed-in user.
  // No rate limit counts them (docs/decisions/0035): an answer costs no query (the probes are
  // shared, above) and less than a refusal would, which needs the shared counter first: refusing a
  // flood of probes would cost the instance more than answering it.
  routePolicy(app, { httpsRedirect: false, limits: { perIp: false, perUser: false } });
  app.get(
    '/health/live',
    { schema: { hide: true }, config: { loadShedding: false } },
    async (_request, reply) => {
      reply.header('Cache-Control', 'no-store');
      return { success: true, data: { status: 'ok' } };
    },
  );

  const probeDatabase = reused(() => probe(() => app.database.ping()));
  const redis = app.redis;
  const probeRedis = redis ? reused(() => probe(() => redis.ping())) : undefined;
  const ready = async (_request: unknown, reply: FastifyReply) => {
    reply.header('Cache-Control', 'no-store');
    if (app.draining) {
      reply.header('Retry-After', '5');
      return reply
        .code(503)
        .send(errorBody(503, ErrorCode.SERVICE_UNAVAILABLE, 'Unavailable: shutting down.'));
    }
    const [database, redisState] = await Promise.all([probeDatabase(), probeRedis?.()]);
    const checks: Record<string, CheckState> = { database };
    if (redisState) checks.redis = redisState;

    if (database === 'down') {
      reply.header('Retry-After', '5');
      return reply.code(503).send({
        ...errorBody(503, ErrorCode.SERVICE_UNAVAILABLE, 'Unavailable: database.'),
        checks,
      });
    }
    return { success: true, data: { status: redisState === 'down' ? 'degraded' : 'ok', checks } };
  };
  app.get('/health/ready', { schema: { hide: true } }, ready);
  app.get('/health', { schema: { hide: true } }, ready);
}

/** One probe at a time, its answer shared by every request for PROBE_REUSE_MS. */
function reused(run: () => Promise<CheckState>): () => Promise<CheckState> {
  let last: { at: number; state: Promise<CheckState> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at >= PROBE_REUSE_MS) last = { at: now, state: run() };
    return last.state;
  };
}

async function probe(run: () => Promise<unknown>): Promise<CheckState> {
  try {
    await withTimeout(run(), PROBE_TIMEOUT_MS);
    return 'ok';
  } catch {
    return 'down';
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
