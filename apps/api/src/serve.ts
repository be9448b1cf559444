import type { AddressInfo } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import {
  EmulatorMissingError,
  type EmulatorModule,
  type LocalStripe,
  loadEmulator,
  startLocalStripe,
  syncLocalPlans,
} from './billing/local-stripe.ts';
import {
  clusterLogger,
  effectiveConcurrency,
  ignoreGroupInterrupt,
  isClusterWorker,
  runPrimary,
  WORKER_INDEX_VARIABLE,
} from './cluster.ts';
import type { Config } from './config.ts';
import { openDatabase } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { findWebDist } from './http/spa.ts';

/**
 * How long a graceful shutdown may take before the process gives up and exits 1. Below the usual
 * orchestrator grace periods (Kubernetes 30 s), so the process reports its own failure.
 */
const SHUTDOWN_TIMEOUT_MS = 25_000;

/**
 * The server, once its configuration is valid: migrate → buildApp → listen (or fork workers);
 * SIGTERM/SIGINT drain and exit 0.
 */
export async function serve(config: Config): Promise<void> {
  const inCluster = isClusterWorker();
  // Before the database is opened (and its data folder locked): a missing emulator stops the start.
  // A cluster's workers are handed the primary's emulator as if it were Stripe, and never load it.
  const emulator = config.stripe.emulator ? await loadEmulatorOrExit() : undefined;
  if (!inCluster) {
    const { count, reason } = effectiveConcurrency(config);
    if (reason) clusterLogger(config).warn({ webConcurrency: config.webConcurrency }, reason);
    if (count > 1) return startCluster(config, count, emulator);
  }

  // Migrate before the app exists, so no request or job ever runs against an old schema. In a
  // cluster the primary has.
  const pglite = inCluster ? undefined : await migrate(config);
  // No Stripe key: billing runs against the local emulator, the same code path as against Stripe.
  const localStripe = emulator ? await startLocalStripe(config, emulator) : undefined;
  const effective = localStripe?.config ?? config;
  const app = await buildApp(effective, pglite ? { pglite } : {});
  if (localStripe) app.addHook('onClose', () => localStripe.stop());
  handleShutdown(app, inCluster);
  await app.listen({ port: config.port, host: config.host });
  announce(app, effective, localStripe);
  // After listening: the sync's webhooks are delivered to this server at once, not retried later.
  if (localStripe) await syncLocalPlans(effective, app.database.db);
}

async function loadEmulatorOrExit(): Promise<EmulatorModule> {
  try {
    return await loadEmulator();
  } catch (error) {
    if (error instanceof EmulatorMissingError) {
      process.stderr.write(`Tierbase cannot start. ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

/**
 * WEB_CONCURRENCY > 1 on PostgreSQL: this process migrates, runs the local Stripe emulator if
 * billing uses it (one, whose state and webhooks all workers share), and forks the workers.
 */
async function startCluster(
  config: Config,
  count: number,
  emulator: EmulatorModule | undefined,
): Promise<void> {
  await migrate(config);
  const localStripe = emulator ? await startLocalStripe(config, emulator) : undefined;
  const stripe = localStripe?.config.stripe;
  const env: Record<string, string> =
    stripe?.secretKey && stripe.webhookSecret && stripe.apiBase
      ? {
          STRIPE_SECRET_KEY: stripe.secretKey,
          STRIPE_WEBHOOK_SECRET: stripe.webhookSecret,
          STRIPE_API_BASE: stripe.apiBase,
        }
      : {};
  await runPrimary(config, {
    count,
    env,
    async onListening() {
      if (!localStripe) return;
      clusterLogger(config).info(
        { billing: localStripe.url },
        `Billing is emulated: local Stripe emulator at ${localStripe.url} (no real money moves)`,
      );
      const database = await openDatabase({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        poolMax: 1,
      });
      try {
        await syncLocalPlans(localStripe.config, database.db);
      } finally {
        await database.close();
      }
    },
    onExit: async () => localStripe?.stop(),
  });
}

/**
 * Applies the migrations. An embedded database can only be opened once per process, so its
 * already-open instance is handed on to the app (which closes it); a server connection is closed.
 */
async function migrate(config: Config): Promise<PGlite | undefined> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolMax: 1,
    // A lock left by a server killed a moment ago goes stale within this time; wait for it.
    lockWaitMs: 25_000,
  });
  try {
    await runMigrations(database);
  } catch (error) {
    await database.close().catch(() => {});
    throw error;
  }
  if (database.pglite) return database.pglite;
  await database.close();
  return undefined;
}

/**
 * Shutdown through close-with-grace: on SIGTERM or SIGINT (and the other terminating signals),
 * readiness answers 503 at once; after SHUTDOWN_DELAY_SECONDS of still serving (so load balancers
 * take the instance out), the server stops accepting, drains in-flight requests and jobs, and
 * exits 0. A second signal exits 1 at once; a close that takes longer than 25 s exits 1. An
 * uncaught exception or unhandled rejection is logged through the scrubbing logger (the default
 * would print it raw), reported (SENTRY_DSN), and the app closed without the delay, then exit 1.
 */
function handleShutdown(app: FastifyInstance, inCluster: boolean): void {
  const delayMs = app.config.shutdownDelaySeconds * 1000;
  if (inCluster) ignoreGroupInterrupt();
  closeWithGrace(
    {
      // In a cluster the primary turns Ctrl-C into one SIGTERM per worker (cluster.ts).
      ...(inCluster ? { skip: ['SIGINT'] } : {}),
      // The readiness delay is served in full; the 25 s bound is for the close after it.
      delay: delayMs + SHUTDOWN_TIMEOUT_MS,
      logger: false,
      onSecondSignal: (signal) =>
        app.log.warn({ signal }, 'second signal during shutdown: exiting without waiting'),
      onSecondError: (error) => app.log.fatal({ err: error }, 'error during shutdown: exiting'),
      onTimeout: () => app.log.error(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS / 1000} s; exiting`),
    },
    async ({ signal, err }) => {
      // Readiness answers 503 from now on.
      app.draining = true;
      if (err) {
        app.log.fatal({ err }, 'uncaught exception');
        app.errorReporter.report(err, { level: 'fatal' });
      } else if (delayMs > 0) {
        app.log.info({ signal }, `draining: readiness answers 503; closing in ${delayMs / 1000} s`);
        await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
      app.log.info({ signal }, 'shutting down: no new connections; draining requests and jobs');
      try {
        // Stops listening, waits for in-flight requests, then runs the onClose hooks (job queue,
        // Redis, database, error reporter) in order. close-with-grace exits 0 after a signal,
        // 1 after an error.
        await app.close();
        app.log.info('shutdown complete');
      } catch (error) {
        app.log.error({ err: error }, 'error during shutdown');
        throw error;
      }
    },
  );
}

/** One line saying where everything is, with no credentials in it. */
function announce(app: FastifyInstance, config: Config, localStripe: LocalStripe | undefined): void {
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const listening = `http://${host}:${address.port}`;
  const worker = process.env[WORKER_INDEX_VARIABLE];
  const where = {
    ...(worker ? { worker: Number(worker), role: config.processRole } : {}),
    api: listening,
    appUrl: config.appUrl,
    docs: `${listening}/api/docs`,
    database: config.databaseUrl
      ? `PostgreSQL at ${describeUrl(config.databaseUrl)}`
      : `PGlite (embedded) in ${config.dataDir}/pglite`,
    redis: config.redisUrl ? describeUrl(config.redisUrl) : 'off (limits kept in memory)',
    mail: config.smtpUrl
      ? `SMTP via ${describeUrl(config.smtpUrl)}`
      : 'outbox (stored in the database, not sent)',
    web: findWebDist() ? 'served from apps/web/dist' : 'not built (run npm run build)',
    billing: localStripe
      ? `emulated: local Stripe emulator at ${localStripe.url} (no STRIPE_SECRET_KEY set; no real money moves)`
      : `Stripe${config.stripe.apiBase ? ` at ${describeUrl(config.stripe.apiBase)}` : ''}`,
  };
  app.log.info(
    where,
    `Tierbase API listening on ${listening} · database: ${where.database} · redis: ${where.redis} · mail: ${where.mail}`,
  );
  if (localStripe) app.log.info({ billing: where.billing }, `Billing is ${where.billing}`);
}

/** scheme://host:port/path of a connection URL: no user name, password or query parameters. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}
