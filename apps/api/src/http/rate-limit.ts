import rateLimit from '@fastify/rate-limit';
import { ErrorCode } from '@tierbase/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { AppError } from '../errors.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Which app-wide limits count this route's requests; each is on unless set to false. `perIp`:
     * RATE_LIMIT_GLOBAL_PER_MINUTE per address (off for Stripe's webhook, which limits its
     * unverified requests itself). `perUser`: RATE_LIMIT_USER_PER_MINUTE per signed-in user (off
     * for what is not the API: health, metrics, the SPA's files, the dev outbox). Not named
     * `rateLimit`: that key is @fastify/rate-limit's, which would put a limit of its own on the route.
     */
    limits?: { perIp?: boolean; perUser?: boolean };
  }
}

/** Whether the app-wide limit `which` counts this request's route (see `config.limits`). */
export function routeCounts(request: FastifyRequest, which: 'perIp' | 'perUser'): boolean {
  return request.routeOptions.config.limits?.[which] !== false;
}

export interface LimitSpec {
  /** Prefix of the counter's key, so limits never share counters. */
  name: string;
  max: number;
  windowMs: number;
  /** The counter this request counts against; null skips the limit (e.g. anonymous callers). */
  key: (request: FastifyRequest) => string | null;
  /**
   * When the shared store (Redis) cannot be reached: true lets the request through (limits that
   * protect capacity), false answers 503 (limits that protect accounts, such as login attempts,
   * which must not be lifted by an outage).
   */
  failOpen: boolean;
}

export type Limiter = (request: FastifyRequest) => Promise<void>;

/**
 * Registers the rate-limit store (Redis when configured, so every instance shares the counters;
 * memory otherwise). Limits are then made with `makeLimiter` and placed as hooks where the key is
 * known: per IP on request, per email once the body is parsed, per user once the session is read.
 */
export async function registerRateLimitStore(
  app: FastifyInstance,
  redis: Redis | undefined,
  keyPrefix: string,
): Promise<void> {
  await app.register(rateLimit, {
    global: false,
    ...(redis ? { redis, nameSpace: `${keyPrefix}rl:` } : {}),
  });
}

export function makeLimiter(app: FastifyInstance, spec: LimitSpec): Limiter {
  const check = app.createRateLimit({
    max: spec.max,
    timeWindow: spec.windowMs,
    keyGenerator: (request) => `${spec.name}:${spec.key(request)}`,
    allowList: (request) => spec.key(request) === null,
  });
  return async (request) => {
    let result: Awaited<ReturnType<typeof check>>;
    try {
      result = await check(request);
    } catch (error) {
      request.log.warn({ err: error, limit: spec.name }, 'rate-limit store unavailable');
      if (spec.failOpen) return;
      throw new AppError({
        status: 503,
        code: ErrorCode.SERVICE_UNAVAILABLE,
        message: 'The service is temporarily unavailable.',
        headers: { 'Retry-After': '5' },
      });
    }
    if (result.isAllowed || !result.isExceeded) return;
    const retryAfter = String(Math.max(1, result.ttlInSeconds));
    throw new AppError({
      status: 429,
      code: ErrorCode.RATE_LIMITED,
      message: `Too many requests. Try again in ${retryAfter} seconds.`,
      headers: { 'Retry-After': retryAfter },
    });
  };
}
