import type { FastifyInstance } from 'fastify';

/** GET /health/: the database (and Redis when configured) answer, or 503 naming what is down. */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/health', { schema: { hide: true } }, async (_request, reply) => {
    const checks: Record<string, 'ok' | 'down'> = {};
    const probe = async (name: string, run: () => Promise<unknown>) => {
      try {
        await withTimeout(run(), 2000);
        checks[name] = 'ok';
      } catch {
        checks[name] = 'down';
      }
    };
    await Promise.all([
      probe('database', () => app.database.ping()),
      ...(app.redis ? [probe('redis', () => app.redis!.ping())] : []),
    ]);
    const down = Object.entries(checks)
      .filter(([, state]) => state === 'down')
      .map(([name]) => name);
    if (down.length > 0) {
      return reply.code(503).send({
        success: false,
        error: `Unavailable: ${down.join(', ')}`,
        code: 'SERVICE_UNAVAILABLE',
        status: 503,
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
