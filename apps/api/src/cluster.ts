import cluster, { type Worker } from 'node:cluster';
import pino, { type LoggerOptions } from 'pino';
import type { Config } from './config.ts';
import { loggerOptions } from './logger.ts';

/**
 * WEB_CONCURRENCY: the request-serving processes on this machine (docs/decisions/0027). The primary process migrates, starts the local Stripe emulator when one is
 * used, forks the workers and supervises them; it serves nothing itself. The workers share the
 * listening port (node:cluster hands out connections round-robin).
 *
 * - Jobs and cron run once: only worker 1 keeps the configured role (`all` runs the job workers);
 *   the others serve requests only (`api`). pg-boss would run each job once anyway; this keeps the
 *   pollers and pools of N-1 processes off the database.
 * - The embedded database is one process's (db/data-dir-lock.ts): without DATABASE_URL the count
 *   falls back to 1, with a log line saying so. So does PROCESS_ROLE=worker (no requests to share).
 * - SIGTERM or SIGINT to the primary is passed to every worker once (a second one again, which
 *   makes them exit at once, as in one process); the workers ignore a terminal's SIGINT sent to
 *   the whole process group, so Ctrl-C is one signal to each. The primary exits when they have,
 *   0 if all did. A worker that dies otherwise is replaced.
 */

/** Set in a forked worker's environment: its number, from 1. */
export const WORKER_INDEX_VARIABLE = 'TIERBASE_CLUSTER_WORKER';

/** How many processes to serve with: WEB_CONCURRENCY, unless this configuration cannot share. */
export function effectiveConcurrency(config: Config): { count: number; reason?: string } {
  if (config.webConcurrency <= 1) return { count: 1 };
  if (!config.databaseUrl) {
    return {
      count: 1,
      reason:
        'WEB_CONCURRENCY is ignored on the embedded database (PGlite serves one process): running 1 process; set DATABASE_URL to use more',
    };
  }
  if (config.processRole === 'worker') {
    return { count: 1, reason: 'WEB_CONCURRENCY is ignored with PROCESS_ROLE=worker: running 1 process' };
  }
  return { count: config.webConcurrency };
}

export function isClusterWorker(): boolean {
  return cluster.isWorker && Boolean(process.env[WORKER_INDEX_VARIABLE]);
}

export function clusterLogger(config: Config) {
  return pino(loggerOptions(config.logLevel) as LoggerOptions);
}

export interface PrimaryOptions {
  count: number;
  /** Variables every worker gets on top of this process's (the local emulator's address and keys). */
  env: Record<string, string>;
  /** Runs once every worker listens (the local plan sync). */
  onListening?: () => Promise<void>;
  /** Runs after the last worker exited, before the primary does. */
  onExit?: () => Promise<void>;
}

export async function runPrimary(config: Config, options: PrimaryOptions): Promise<void> {
  const log = clusterLogger(config);
  const workers = new Map<number, Worker>();
  let shuttingDown = false;
  let failed = false;

  const fork = (index: number): Worker => {
    const role = index === 1 ? config.processRole : 'api';
    const worker = cluster.fork({
      ...options.env,
      [WORKER_INDEX_VARIABLE]: String(index),
      PROCESS_ROLE: role,
    });
    workers.set(index, worker);
    worker.on('exit', (code, signal) => {
      workers.delete(index);
      if (shuttingDown) {
        if (code !== 0) failed = true;
        log.info({ worker: index, code, signal }, 'worker exited');
        if (workers.size === 0) void finish();
        return;
      }
      log.error({ worker: index, code, signal }, 'worker died; starting another');
      fork(index);
    });
    return worker;
  };

  const finish = async () => {
    await options.onExit?.().catch((error: unknown) => log.error({ err: error }, 'error during shutdown'));
    log.info({ failed }, 'all workers exited');
    process.exit(failed ? 1 : 0);
  };

  const stop = (signal: NodeJS.Signals) => {
    if (!shuttingDown) log.info({ signal }, 'stopping the workers');
    else log.warn({ signal }, 'second signal: the workers exit at once');
    shuttingDown = true;
    if (workers.size === 0) void finish();
    for (const worker of workers.values()) worker.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);

  log.info({ workers: options.count, role: config.processRole }, `forking ${options.count} workers`);
  const listening = Array.from(
    { length: options.count },
    (_, i) =>
      new Promise<void>((resolve, reject) => {
        const worker = fork(i + 1);
        worker.once('listening', () => resolve());
        worker.once('exit', (code) =>
          reject(new Error(`worker ${i + 1} exited with ${code} while starting`)),
        );
      }),
  );
  try {
    await Promise.all(listening);
  } catch (error) {
    shuttingDown = true;
    failed = true;
    log.fatal({ err: error }, 'a worker failed to start');
    for (const worker of workers.values()) worker.process.kill('SIGTERM');
    if (workers.size === 0) await finish();
    return;
  }
  log.info({ workers: options.count }, 'every worker is listening');
  await options.onListening?.();
}

/**
 * In a worker: a terminal's Ctrl-C reaches the whole process group, the primary included, which
 * passes it on as SIGTERM; ignoring it here keeps it one signal, not two (the second exits at once).
 */
export function ignoreGroupInterrupt(): void {
  process.on('SIGINT', () => {});
}
