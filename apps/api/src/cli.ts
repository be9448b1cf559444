import { loadConfig } from './config.ts';
import { openDatabase } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';

type Command = (args: string[]) => Promise<void>;

/** Management commands: `npm run cli -- <command> [args]`. */
const commands: Record<string, { help: string; run: Command }> = {
  migrate: {
    help: 'apply the SQL migrations to the configured database',
    async run() {
      const config = loadConfig();
      const database = await openDatabase({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        poolMax: 2,
      });
      try {
        await runMigrations(database);
        process.stdout.write(`Migrations applied (${database.kind}).\n`);
      } finally {
        await database.close();
      }
    },
  },
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const command = name ? commands[name] : undefined;
  if (!command) {
    process.stdout.write('Usage: npm run cli -- <command>\n\nCommands:\n');
    for (const [key, value] of Object.entries(commands))
      process.stdout.write(`  ${key.padEnd(24)}${value.help}\n`);
    process.exit(name ? 1 : 0);
  }
  await command.run(args);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
