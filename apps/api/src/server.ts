import type { AddressInfo } from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.ts';
import { type LocalStripe, startLocalStripe, syncLocalPlans } from './billing/local-stripe.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { openDatabase } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { findWebDist } from './http/spa.ts';

/**
 * How long a graceful shutdown may take before the process gives up and exits 1. Below the usual
 * orchestrator grace periods (Kubernetes 30 s), so the process reports its own failure.
 */
const SHUTDOWN_TIMEOUT_MS = 25_000;

/** Entry point: config → migrate → buildApp → listen; SIGTERM/SIGINT drain and exit 0. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      // The message names each variable and what is wrong with it, never its value.
      process.stderr.write(`Tierbase cannot start. ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  // Migrate before the app exists, so no request or job ever runs against an old schema.
  const pglite = await migrate(config);
  // No Stripe key: billing runs against the local emulator, the same code path as against Stripe.
  const localStripe = config.stripe.emulator ? await startLocalStripe(config) : undefined;
  const effective = localStripe?.config ?? config;
  const app = await buildApp(effective, pglite ? { pglite } : {});
  if (localStripe) app.addHook('onClose', () => localStripe.stop());
  handleShutdown(app);
  await app.listen({ port: config.port, host: config.host });
  announce(app, effective, localStripe);
  // After listening: the sync's webhooks are delivered to this server at once, not retried later.
  if (localStripe) await syncLocalPlans(effective, app.database.db);
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

function handleShutdown(app: FastifyInstance): void {
  let closing = false;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (closing) {
      // A second Ctrl-C means "now".
      app.log.warn({ signal }, 'second signal during shutdown: exiting without waiting');
      process.exit(1);
    }
    closing = true;
    // Readiness answers 503 from now on. With a delay, keep serving meanwhile, so load balancers
    // that poll readiness take this instance out before it stops accepting connections.
    app.draining = true;
    const delaySeconds = app.config.shutdownDelaySeconds;
    if (delaySeconds > 0) {
      app.log.info({ signal }, `draining: readiness answers 503; closing in ${delaySeconds} s`);
      await new Promise((resolve) => setTimeout(resolve, delaySeconds * 1000));
    }
    app.log.info({ signal }, 'shutting down: no new connections; draining requests and jobs');
    const force = setTimeout(() => {
      app.log.error(`shutdown took longer than ${SHUTDOWN_TIMEOUT_MS / 1000} s; exiting`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    force.unref();
    try {
      // Stops listening, waits for in-flight requests, then runs the onClose hooks (job queue,
      // Redis, database) in order.
      await app.close();
      app.log.info('shutdown complete');
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGINT', (signal) => void shutdown(signal));
  // The default would print the error raw; the logger's serializer scrubs personal data from it.
  process.on('uncaughtException', (error) => {
    app.log.fatal({ err: error }, 'uncaught exception');
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    app.log.fatal({ err: reason }, 'unhandled promise rejection');
    process.exit(1);
  });
}

/** One line saying where everything is, with no credentials in it. */
function announce(app: FastifyInstance, config: Config, localStripe: LocalStripe | undefined): void {
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const listening = `http://${host}:${address.port}`;
  const where = {
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

main().catch((error: unknown) => {
  process.stderr.write(
    `Tierbase failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
