import { sql } from 'drizzle-orm';
import {
  type ConstructorOptions,
  type DrizzleTransactionLike,
  fromDrizzle,
  fromPglite,
  type JobWithMetadata,
  PgBoss,
} from 'pg-boss';
import type { Config } from '../config.ts';
import { type Database, type DatabaseHandle, isDatabaseUnavailable } from '../db/client.ts';
import { jobFailures } from '../metrics.ts';

/** A Drizzle transaction, as `database.db.transaction(async (tx) => …)` hands it out. */
export type DatabaseTransaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/** The few pino methods the queue logs with (the app's logger satisfies it). */
export interface QueueLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** A queue's defaults, inherited by each job sent to it. */
export interface QueueOptions {
  /**
   * `standard`: any number of jobs per key. `exclusive`: at most one job per `singletonKey` queued
   * or running, so a second send with the same key while the first is pending is a no-op.
   */
  policy?: 'standard' | 'exclusive';
  /** Retries after the first attempt; then the job is failed. */
  retryLimit?: number;
  /** Delay before the first retry; doubled on each following one (with jitter). Whole seconds. */
  retryDelaySeconds?: number;
  retryDelayMaxSeconds?: number;
  /** A running job older than this is considered lost and retried. */
  expireInSeconds?: number;
}

export interface SendOptions {
  /** On an `exclusive` queue, a second send with the same key while one is pending does nothing. */
  singletonKey?: string;
  startAfterSeconds?: number;
  retryLimit?: number;
  /** Enqueue inside this transaction: the job exists if and only if the transaction commits. */
  transaction?: DatabaseTransaction;
}

/** What a handler knows about the attempt it is running. */
export interface JobContext {
  id: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** True when a failure now fails the job for good. */
  isLastAttempt: boolean;
  /** Aborted when shutdown gives up waiting for the job. */
  signal: AbortSignal;
}

export type JobHandler<T> = (data: T, job: JobContext) => Promise<void>;

export interface WorkOptions {
  /** Jobs of this queue run at the same time in this process. Default 1. */
  concurrency?: number;
}

/** The app's durable job queue (pg-boss on the app's own database). */
export interface JobQueue {
  /** Creates the queue, or updates its defaults; call before sending to it. */
  createQueue(name: string, options?: QueueOptions): Promise<void>;
  /**
   * Returns the job id, or null when an exclusive queue already holds a job with the same key.
   * `data` is stored in the job table as JSON: ids to look things up by, never personal data.
   */
  send<T extends object>(name: string, data: T, options?: SendOptions): Promise<string | null>;
  /** Runs `handler` for the queue's jobs; a thrown error retries the job. No-op without workers. */
  work<T extends object>(name: string, handler: JobHandler<T>, options?: WorkOptions): Promise<void>;
  /** Sends `data` to the queue on a cron schedule (UTC), once across all instances. */
  schedule<T extends object>(name: string, cron: string, data?: T): Promise<void>;
  /** Removes the queue's schedule, if it has one. */
  unschedule(name: string): Promise<void>;
  /** Whether this process runs handlers (see `work`). */
  readonly workers: boolean;
  /** Stops fetching, waits (bounded) for jobs in flight, then closes the queue's connections. */
  stop(): Promise<void>;
}

export interface JobQueueOptions {
  config: Pick<Config, 'databaseUrl' | 'jobs'>;
  log: QueueLogger;
  /** Run handlers in this process. The server does; a second app instance in a test may not. */
  workers: boolean;
}

/** pg-boss's own schema, beside the app's tables in the same database. */
export const JOB_SCHEMA = 'pgboss';

// A database outage makes every poll fail; one log line per this interval is enough to see it.
const OUTAGE_LOG_INTERVAL_MS = 30_000;

/**
 * The pg-boss instance for a database. On PostgreSQL it gets its own small pool (JOB_POOL_MAX) rather
 * than sharing the request pool: a burst of jobs cannot starve requests of connections or the other
 * way round, and stopping the queue can close its pool without touching the app's. On PGlite it runs
 * on the app's single in-process connection through pg-boss's own adapter.
 */
function createBoss(
  database: DatabaseHandle,
  config: Pick<Config, 'databaseUrl' | 'jobs'>,
  extra: ConstructorOptions = {},
): PgBoss {
  const common = { ...extra, schema: JOB_SCHEMA, instanceName: 'tierbase-api' };
  if (database.kind === 'pglite') {
    return new PgBoss({ ...common, db: fromPglite(database.pglite!), backend: 'pglite' });
  }
  return new PgBoss({
    ...common,
    connectionString: config.databaseUrl!,
    max: config.jobs.poolMax,
    application_name: 'tierbase-jobs',
    // As the request pool: fail fast while the database is down, and let the next poll retry.
    connectionTimeoutMillis: 3000,
  });
}

/**
 * Installs (or migrates) pg-boss's schema and stops again. pg-boss does this itself on start; tests
 * call it once on the database they clone, so each test file does not pay for it.
 */
export async function installJobSchema(database: DatabaseHandle, databaseUrl?: string): Promise<void> {
  const boss = createBoss(
    database,
    { databaseUrl, jobs: { pollIntervalSeconds: 2, poolMax: 1, stopTimeoutSeconds: 1 } },
    // Only the schema: no registry row, maintenance or cron for this short-lived instance.
    { registerInstance: false, supervise: false, schedule: false },
  );
  boss.on('error', () => {});
  await boss.start();
  await boss.stop({ graceful: false });
}

export async function createJobQueue(database: DatabaseHandle, options: JobQueueOptions): Promise<JobQueue> {
  const { config, log, workers } = options;
  const boss = createBoss(database, config);

  // pg-boss reports background failures (polling, maintenance, a dropped pool connection) as
  // `error` events; an EventEmitter with no listener would throw them and end the process. They are
  // logged, and the next poll tries again, which is how the queue recovers from an outage.
  let lastOutageLog = 0;
  boss.on('error', (error) => {
    if (isDatabaseUnavailable(error)) {
      const now = Date.now();
      if (now - lastOutageLog < OUTAGE_LOG_INTERVAL_MS) return;
      lastOutageLog = now;
      log.warn({ err: error }, 'job queue cannot reach the database; retrying');
      return;
    }
    log.error({ err: error }, 'job queue error');
  });
  boss.on('warning', (warning) => log.warn({ warning: warning.message }, 'job queue warning'));

  await boss.start();

  const queue: JobQueue = {
    workers,

    async createQueue(name, queueOptions = {}) {
      const settings = {
        retryLimit: queueOptions.retryLimit,
        retryDelay: queueOptions.retryDelaySeconds,
        retryDelayMax: queueOptions.retryDelayMaxSeconds,
        retryBackoff: queueOptions.retryDelaySeconds !== undefined ? true : undefined,
        expireInSeconds: queueOptions.expireInSeconds,
      };
      const defined = Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
      const policy = queueOptions.policy ?? 'standard';
      // Creating is a no-op when the queue exists (another instance or an earlier start made it);
      // updating then applies changed defaults. Both also load the queue into pg-boss's cache, which
      // `send` inside a transaction needs: on PGlite a cache miss there would wait forever on the
      // connection the transaction itself holds.
      await boss.createQueue(name, { ...defined, policy });
      if (Object.keys(defined).length > 0) await boss.updateQueue(name, defined);
      const existing = await boss.getQueue(name);
      if (existing && existing.policy !== policy) {
        log.warn({ queue: name, policy: existing.policy, wanted: policy }, 'queue policy cannot change');
      }
    },

    async send(name, data, sendOptions = {}) {
      return boss.send(name, data, {
        ...(sendOptions.singletonKey === undefined ? {} : { singletonKey: sendOptions.singletonKey }),
        ...(sendOptions.startAfterSeconds === undefined ? {} : { startAfter: sendOptions.startAfterSeconds }),
        ...(sendOptions.retryLimit === undefined ? {} : { retryLimit: sendOptions.retryLimit }),
        ...(sendOptions.transaction ? { db: inTransaction(sendOptions.transaction) } : {}),
      });
    },

    async work<T extends object>(name: string, handler: JobHandler<T>, workOptions: WorkOptions = {}) {
      if (!workers) return;
      await boss.work(
        name,
        {
          includeMetadata: true,
          batchSize: 1,
          localConcurrency: workOptions.concurrency ?? 1,
          pollingIntervalSeconds: config.jobs.pollIntervalSeconds,
        },
        async (jobs: JobWithMetadata<T>[]) => {
          for (const job of jobs) {
            const context = contextOf(job);
            try {
              await handler(job.data, context);
            } catch (error) {
              // pg-boss retries the job (or fails it for good on its last attempt).
              jobFailures.inc({ queue: name, final: String(context.isLastAttempt) });
              throw error;
            }
          }
        },
      );
    },

    async schedule(name, cron, data) {
      await boss.schedule(name, cron, data ?? null, { tz: 'UTC' });
    },

    async unschedule(name) {
      await boss.unschedule(name);
    },

    async stop() {
      // Graceful: stop fetching, wait for handlers up to the timeout, then fail whatever is still
      // running (it is retried later, by this or another instance) and close pg-boss's own pool.
      await boss.stop({ graceful: true, close: true, timeout: config.jobs.stopTimeoutSeconds * 1000 });
    },
  };
  return queue;
}

/**
 * pg-boss statements run through the caller's Drizzle transaction. Drizzle types `execute()`'s
 * result per driver; both drivers we use resolve to `{ rows }`, which is what pg-boss reads.
 */
function inTransaction(tx: DatabaseTransaction) {
  return fromDrizzle(tx as unknown as DrizzleTransactionLike, sql);
}

function contextOf(job: JobWithMetadata<unknown>): JobContext {
  return {
    id: job.id,
    attempt: job.retryCount + 1,
    isLastAttempt: job.retryCount >= job.retryLimit,
    signal: job.signal,
  };
}
