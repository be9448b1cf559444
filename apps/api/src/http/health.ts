import { ErrorCode } from '@tierbase/contracts';
import type { FastifyInstance } from 'fastify';
import { errorBody } from './envelope.ts';

/** How long one dependency may take to answer before it counts as down. */
const PROBE_TIMEOUT_MS = 2000;

type CheckState = 'ok' | 'down';

/**
 * GET /health/: 200 when the database (and Redis, when configured) answer; otherwise 503 with the
 * error envelope, naming what is down in the message and in `checks`. Load balancers and
 * orchestrators poll it, so it never caches and never waits longer than the probe timeout.
 */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/health', { schema: { hide: true } }, async (_request, reply) => {
    const probes: [string, () => Promise<unknown>][] = [['database', () => app.database.ping()]];
    const redis = app.redis;
    if (redis) probes.push(['redis', () => redis.ping()]);

    const states = await Promise.all(
      probes.map(async ([name, run]): Promise<[string, CheckState]> => {
        try {
          await withTimeout(run(), PROBE_TIMEOUT_MS);
          return [name, 'ok'];
        } catch {
          return [name, 'down'];
        }
      }),
    );
    const checks = Object.fromEntries(states) as Record<string, CheckState>;
    const down = states.filter(([, state]) => state === 'down').map(([name]) => name);

    reply.header('Cache-Control', 'no-store');
    if (down.length > 0) {
      reply.header('Retry-After', '5');
      return reply.code(503).send({
        ...errorBody(503, ErrorCode.SERVICE_UNAVAILABLE, `Unavailable: ${down.join(', ')}.`),
        checks,
      });
    }
    return { success: true, data: { status: 'ok', checks } };
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
