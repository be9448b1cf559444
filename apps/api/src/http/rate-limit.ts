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
 *
 * ARGV[1] is how many hits arrive together on the same counters (see `redisRateLimitStore`); each
 * counter is counted by the hits that got past the ones before it, and returns its count after
 * them, the milliseconds left in its window, and how many hits it counted.
 */
const HIT_SCRIPT = `
local hits = tonumber(ARGV[1])
local states = {}
for i, key in ipairs(KEYS) do
  local windowMs = tonumber(ARGV[2 * i])
  local max = tonumber(ARGV[2 * i + 1])
  local current = redis.call('INCRBY', key, hits)
  local ttl = windowMs
  if current == hits then
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
  states[#states + 1] = hits
  -- The hits past max are refused here and go no further.
  hits = math.min(hits, math.max(max - (current - hits), 0))
  if hits == 0 then break end
end
return states
`;

type HitCommand = (numberOfKeys: number, ...keysThenArgs: (string | number)[]) => Promise<number[]>;

interface Waiting {
  resolve: (states: CounterState[]) => void;
  reject: (error: unknown) => void;
}

interface Batch {
  counters: readonly Counter[];
  waiting: Waiting[];
}

/**
 * Counters in Redis, shared by every instance; keys are `${prefix}${counter.key}`.
 *
 * Hits on the same counters in the same turn of the event loop (the requests of every connection
 * that was readable at once: a flood from one address, a burst of one user's calls) go to Redis as
 * one script call that counts them all, instead of one call each. Each hit gets the count it would
 * have got had the calls been sent one after another in their order of arrival, which is all
 * separate calls promised (their order among themselves was never fixed): the same hits are
 * refused, with the same Retry-After.
 */
export function redisRateLimitStore(redis: Redis, prefix: string): RateLimitStore {
  // ioredis sends the script by its SHA (EVALSHA) and loads it again when Redis has forgotten it.
  if (!('tierbaseRateLimitHit' in redis)) redis.defineCommand('tierbaseRateLimitHit', { lua: HIT_SCRIPT });
  const hitCommand = (redis as unknown as { tierbaseRateLimitHit: HitCommand }).tierbaseRateLimitHit.bind(
    redis,
  );
  let batches = new Map<string, Batch>();
  const send = ({ counters, waiting }: Batch) => {
    const keys = counters.map((counter) => `${prefix}${counter.key}`);
    const args = counters.flatMap((counter) => [counter.windowMs, counter.max]);
    const fail = (error: unknown) => {
      for (const waiter of waiting) waiter.reject(error);
    };
    try {
      hitCommand(keys.length, ...keys, waiting.length, ...args).then((flat) => {
        for (const [position, waiter] of waiting.entries()) {
          waiter.resolve(statesOfHit(counters, flat, position));
        }
      }, fail);
    } catch (error) {
      // Outside a request's promise chain: a throw here would be lost, and the requests left hanging.
      fail(error);
    }
  };
  const sendAll = () => {
    const sending = batches;
    batches = new Map();
    for (const batch of sending.values()) send(batch);
  };
  return {
    hit(counters) {
      return new Promise((resolve, reject) => {
        // A counter's key starts with its limit's name, so the same keys mean the same max and window.
        const id = counters.map((counter) => counter.key).join('\n');
        let batch = batches.get(id);
        if (!batch) {
          // After the poll phase that read these requests, so every connection read at once joins.
          if (batches.size === 0) setImmediate(sendAll);
          batch = { counters, waiting: [] };
          batches.set(id, batch);
        }
        batch.waiting.push({ resolve, reject });
      });
    },
  };
}

/**
 * The states of the hit at `position` (from 0) among those counted together: its count on each
 * counter is the count before the batch plus its place, and it stops at the first over its max.
 */
function statesOfHit(
  counters: readonly Counter[],
  flat: readonly number[],
  position: number,
): CounterState[] {
  const states: CounterState[] = [];
  for (let i = 0; 3 * i + 2 < flat.length; i += 1) {
    const current = Number(flat[3 * i]);
    const counted = Number(flat[3 * i + 2]);
    if (position >= counted) break;
    const state = { current: current - counted + position + 1, ttlMs: Number(flat[3 * i + 1]) };
    states.push(state);
    if (state.current > (counters[i]?.max ?? Number.POSITIVE_INFINITY)) break;
  }
  return states;
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
