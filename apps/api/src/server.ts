import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { runMigrations } from './db/migrate.ts';

/** Entry point: config → migrate → buildApp → listen; SIGTERM/SIGINT drain and exit 0. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  const app = await buildApp(config);
  await runMigrations(app.database);
  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    { database: app.database.kind, redis: Boolean(app.redis), mail: config.smtpUrl ? 'smtp' : 'outbox' },
    `Tierbase API listening on ${config.appUrl}`,
  );

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: draining requests and jobs');
    const force = setTimeout(() => {
      app.log.error('shutdown took too long; exiting');
      process.exit(1);
    }, 25_000);
    force.unref();
    try {
      await app.close();
      process.exit(0);
    } catch (error) {
      app.log.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
