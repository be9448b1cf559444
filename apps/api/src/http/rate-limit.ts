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
     * for what is not the API: health, metrics, the SPA's files, the dev outbox).
     */
    limits?: { perIp?: boolean; perUser?: boolean };
  }
  interface FastifyInstance {
    /** The shared counters every limit counts in (see `registerRateLimitStore`). */
    rateLimitStore: RateLimitStore;
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

/** One counter to count a request against: a fixed window of `windowMs` from its first hit. */
export interface Counter {
  key: string;
  max: number;
  windowMs: number;
}

/** A counter's value after the hit, and the milliseconds left in its window. */
export interface CounterState {
  current: number;
  ttlMs: number;
}

/**
 * Counts one hit on each counter, in order, and stops after the first one over its `max`: the
 * counters after it are not counted, as if each were checked alone and the first refusal ended the
 * request. Returns the states of the counters it counted. One round trip to Redis however many.
 */
export interface RateLimitStore {
  hit(counters: readonly Counter[]): Promise<CounterState[]>;
}

/**
 * The same fixed windows as @fastify/rate-limit's store, which these counters replaced so that
 * several limits count in one script call: the first hit sets the window, later ones read what
 * is left of it. A window left without an expiry (it cannot be, in one script) is given one.
 */
const HIT_SCRIPT = `
local states = {}
for i, key in ipairs(KEYS) do
  local windowMs = tonumber(ARGV[2 * i - 1])
  local max = tonumber(ARGV[2 * i])
  local current = redis.call('INCR', key)
  local ttl = windowMs
  if current == 1 then
    redis.call('PEXPIRE', key, windowMs)
  else
    ttl = redis.call('PTTL', key)
    if ttl < 0 then
      redis.call('PEXPIRE', key, windowMs)
      ttl = windowMs
    end
  end
  states[#states + 1] = current
  states[#states + 1] = ttl
  if current > max then break end
end
return states
`;

type HitCommand = (numberOfKeys: number, ...keysThenArgs: (string | number)[]) => Promise<number[]>;

/** Counters in Redis, shared by every instance; keys are `${prefix}${counter.key}`. */
export function redisRateLimitStore(redis: Redis, prefix: string): RateLimitStore {
  // ioredis sends the script by its SHA (EVALSHA) and loads it again when Redis has forgotten it.
  if (!('tierbaseRateLimitHit' in redis)) redis.defineCommand('tierbaseRateLimitHit', { lua: HIT_SCRIPT });
  const hitCommand = (redis as unknown as { tierbaseRateLimitHit: HitCommand }).tierbaseRateLimitHit.bind(
    redis,
  );
  return {
    async hit(counters) {
      const keys = counters.map((counter) => `${prefix}${counter.key}`);
      const args = counters.flatMap((counter) => [counter.windowMs, counter.max]);
      const flat = await hitCommand(keys.length, ...keys, ...args);
      const states: CounterState[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        states.push({ current: Number(flat[i]), ttlMs: Number(flat[i + 1]) });
      }
      return states;
    },
  };
}

/** Counters in this process (no Redis): the oldest windows are dropped past `maxEntries`. */
export function memoryRateLimitStore(maxEntries = 20_000, now: () => number = Date.now): RateLimitStore {
  const windows = new Map<string, { count: number; startedAt: number }>();
  return {
    async hit(counters) {
      const states: CounterState[] = [];
      const at = now();
      for (const counter of counters) {
        let window = windows.get(counter.key);
        if (!window || at - window.startedAt >= counter.windowMs) {
          // A new window goes to the back, so the first in the map is always the oldest.
          windows.delete(counter.key);
          if (windows.size >= maxEntries) {
            const oldest = windows.keys().next();
            if (!oldest.done) windows.delete(oldest.value);
          }
          window = { count: 0, startedAt: at };
          windows.set(counter.key, window);
        }
        window.count += 1;
        states.push({ current: window.count, ttlMs: counter.windowMs - (at - window.startedAt) });
        if (window.count > counter.max) break;
      }
      return states;
    },
  };
}

/**
 * Registers the rate-limit store (Redis when configured, so every instance shares the counters;
 * memory otherwise). Limits are then made with `makeLimiter` and placed as hooks where the key is
 * known: per IP on request, per email once the body is parsed, per user once the session is read.
 */
export function registerRateLimitStore(
  app: FastifyInstance,
  redis: Redis | undefined,
  keyPrefix: string,
): void {
  app.decorate(
    'rateLimitStore',
    redis ? redisRateLimitStore(redis, `${keyPrefix}rl:`) : memoryRateLimitStore(),
  );
}

/**
 * A hook that counts the request against each limit given, in one store call (one round trip to
 * Redis), in order: the first limit exceeded answers 429 with its own Retry-After, and the limits
 * after it are not counted. A limit whose key is null for the request is skipped.
 */
export function makeLimiter(app: FastifyInstance, ...specs: readonly LimitSpec[]): Limiter {
  const store = app.rateLimitStore;
  return async (request) => {
    const counted: LimitSpec[] = [];
    const counters: Counter[] = [];
    for (const spec of specs) {
      const key = spec.key(request);
      if (key === null) continue;
      counted.push(spec);
      counters.push({ key: `${spec.name}:${key}`, max: spec.max, windowMs: spec.windowMs });
    }
    if (counters.length === 0) return;
    let states: CounterState[];
    try {
      states = await store.hit(counters);
    } catch (error) {
      const failClosed = counted.some((spec) => !spec.failOpen);
      request.log.warn(
        { err: error, limit: counted.map((spec) => spec.name).join(',') },
        'rate-limit store unavailable',
      );
      if (!failClosed) return;
      throw new AppError({
        status: 503,
        code: ErrorCode.SERVICE_UNAVAILABLE,
        message: 'The service is temporarily unavailable.',
        headers: { 'Retry-After': '5' },
      });
    }
    for (const [i, state] of states.entries()) {
      if (state.current <= (counters[i]?.max ?? Number.POSITIVE_INFINITY)) continue;
      const retryAfter = String(Math.max(1, Math.ceil(state.ttlMs / 1000)));
      throw new AppError({
        status: 429,
        code: ErrorCode.RATE_LIMITED,
        message: `Too many requests. Try again in ${retryAfter} seconds.`,
        headers: { 'Retry-After': retryAfter },
      });
    }
  };
}
