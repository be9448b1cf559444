import { setTimeout } from 'node:timers/promises';
import { Redis } from 'ioredis';
import {
  decodeInvalidation,
  encodeInvalidation,
  type Invalidation,
  type SessionCache,
} from './session-cache.ts';

export interface SessionInvalidator {
  /** Drops the user's cached sessions here and, through Redis, in every other process. */
  invalidateUser(userId: string): Promise<void>;
  invalidateAll(): Promise<void>;
  /** Whether this process hears other processes' invalidations (always, without Redis). */
  readonly listening: boolean;
  /**
   * Whether this process has applied every invalidation published so far (always true without
   * Redis). Asked before trusting a cached session: a message still on its way loses no race.
   */
  heardEverything(): Promise<boolean>;
  close(): Promise<void>;
}

const FAILURE_LOG_INTERVAL_MS = 30_000;
const COUNT_RETRY_MS = 250;

interface Log {
  warn(object: object, message: string): void;
}

/**
 * Carries cache invalidations between the processes of a deployment over Redis pub/sub
 * (docs/decisions/0027). Each process drops its own entries at once, then publishes; every process
 * subscribed drops them on receipt. While the subscription is down (Redis unreachable, reconnecting)
 * this process cannot hear other processes' invalidations, so its cache is emptied and bypassed
 * until the subscription is back: a lost message never leaves a revoked session usable.
 *
 * Every message carries a generation, counted in Redis by the script that publishes it. A process
 * remembers the highest it has applied; `heardEverything()` compares it with Redis' count, so a
 * request that arrives on another process before the message does is not served from that
 * process's cache (pub/sub alone promises delivery, not delivery before the publisher's answer).
 *
 * Without Redis (`redis` undefined) invalidation is local only; the app turns the cache on then
 * only where one process owns the data (the embedded database).
 */
export function createSessionInvalidator(
  cache: SessionCache<unknown> | undefined,
  redis: Redis | undefined,
  channel: string,
  log: Log,
): SessionInvalidator {
  const apply = (invalidation: Invalidation) => {
    if (!cache) return;
    if ('all' in invalidation) cache.invalidateAll();
    else cache.invalidateUser(invalidation.userId);
  };
  if (!cache || !redis) {
    return {
      async invalidateUser(userId) {
        apply({ userId });
      },
      async invalidateAll() {
        apply({ all: true });
      },
      listening: true,
      async heardEverything() {
        return true;
      },
      async close() {},
    };
  }

  // A connection in subscriber mode can do nothing else, so it is a second one. It queues the
  // SUBSCRIBE until connected and keeps retrying; the cache is off until it is subscribed.
  const subscriber = redis.duplicate({
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    autoResubscribe: false,
    lazyConnect: true,
  });
  cache.setEnabled(false);
  const generationKey = `${channel}:generation`;
  let listening = false;
  /** The highest generation applied here (every one before it was applied or predates the cache). */
  let applied = 0;
  subscriber.on('message', (received: string, message: string) => {
    if (received !== channel) return;
    const space = message.indexOf(' ');
    const generation = Number(message.slice(0, space));
    const invalidation = decodeInvalidation(message.slice(space + 1));
    if (!invalidation || !Number.isSafeInteger(generation)) return;
    apply(invalidation);
    applied = Math.max(applied, generation);
  });
  // Subscribed first, then the count: a message published after it is heard and applied. The count
  // comes over the main connection, which may still be reconnecting after an outage: retried.
  const readCountThenTurnOn = async () => {
    while (subscriber.status === 'ready') {
      try {
        const current = await redis.get(generationKey);
        applied = Math.max(applied, Number(current ?? 0));
        listening = true;
        // Emptied as it turns on: nothing cached predates the generation just read.
        cache.setEnabled(true);
        return;
      } catch {
        await setTimeout(COUNT_RETRY_MS);
      }
    }
  };
  subscriber.on('ready', () => {
    subscriber
      .subscribe(channel)
      .then(readCountThenTurnOn, (error: unknown) =>
        log.warn({ err: error }, 'session cache: cannot subscribe; cache stays off'),
      );
  });
  const off = () => {
    listening = false;
    cache.setEnabled(false);
  };
  subscriber.on('close', off);
  subscriber.on('end', off);
  let lastErrorLog = 0;
  subscriber.on('error', (error) => {
    off();
    const now = Date.now();
    if (now - lastErrorLog < FAILURE_LOG_INTERVAL_MS) return;
    lastErrorLog = now;
    log.warn({ err: error }, 'session cache: invalidation channel error; cache off until it is back');
  });
  subscriber.connect().catch(() => {
    // Reported through the error event; ioredis keeps reconnecting.
  });

  // While Redis is down every unsafe request would fail to publish: one log line per interval.
  let lastFailureLog = 0;
  const publish = async (invalidation: Invalidation) => {
    apply(invalidation);
    try {
      await publishCounted(redis, channel, invalidation);
    } catch (error) {
      // Redis is down: the other processes' subscriptions are down too, and their caches off.
      const now = Date.now();
      if (now - lastFailureLog < FAILURE_LOG_INTERVAL_MS) return;
      lastFailureLog = now;
      log.warn({ err: error }, 'session cache: could not publish an invalidation');
    }
  };
  let askingTogether: Promise<boolean> | undefined;
  return {
    invalidateUser: (userId) => publish({ userId }),
    invalidateAll: () => publish({ all: true }),
    get listening() {
      return listening;
    },
    heardEverything() {
      // The requests that ask in the same turn of the event loop share one GET, sent once they have
      // all asked: it reads the count after each of them looked in the cache, as a GET of its own
      // would. A GET already sent is never shared: it may predate a request's look.
      askingTogether ??= new Promise<boolean>((resolve) => {
        setImmediate(() => {
          askingTogether = undefined;
          redis.get(generationKey).then(
            (count) => resolve(Number(count ?? 0) <= applied),
            () => resolve(false),
          );
        });
      });
      return askingTogether;
    },
    async close() {
      subscriber.disconnect();
    },
  };
}

/** The Redis channel every process of a deployment listens on. */
export function invalidationChannel(redisKeyPrefix: string): string {
  return `${redisKeyPrefix}session-invalidation`;
}

/**
 * For a process without the app (a CLI command): tells every running server to empty its session
 * cache. Without Redis there is nothing to tell: the cache is then on only for the embedded
 * database, which no command can open while a server holds it.
 */
export async function publishInvalidateAll(config: {
  redisUrl: string | undefined;
  redisKeyPrefix: string;
}): Promise<void> {
  if (!config.redisUrl) return;
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    await publishCounted(redis, invalidationChannel(config.redisKeyPrefix), { all: true });
  } finally {
    redis.disconnect();
  }
}

/** Counts the invalidation's generation and publishes it with it, atomically (one script). */
const PUBLISH_SCRIPT = `
local generation = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', KEYS[2], generation .. ' ' .. ARGV[1])
return generation
`;

async function publishCounted(redis: Redis, channel: string, invalidation: Invalidation): Promise<void> {
  await redis.eval(PUBLISH_SCRIPT, 2, `${channel}:generation`, channel, encodeInvalidation(invalidation));
}
