import { buildApp } from './app.ts';
import { reconcileCommand, replayCommand, syncPlansCommand } from './billing/commands.ts';
import { type Config, loadConfig } from './config.ts';
import { type DatabaseHandle, openDatabase } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { AppError } from './errors.ts';
import { deleteUserCommand, exportUserCommand } from './privacy/commands.ts';
import type { PrivacyDeps } from './privacy/service.ts';
import { createAuth } from './users/auth.ts';
import { createOrPromoteStaff } from './users/staff.ts';

type Command = (args: string[]) => Promise<void>;

/** Runs `work` with the whole app built without its workers: the server's mailer, Stripe and database. */
async function withApp(work: (deps: PrivacyDeps) => Promise<void>): Promise<void> {
  const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
  // Logs go to stderr: stdout carries the command's output (the export's JSON).
  const app = await buildApp(config, { workers: false, logStream: process.stderr });
  try {
    await work({ db: app.database.db, mailer: app.mailer, billing: app.billing, jobs: app.jobs });
  } finally {
    await app.close();
  }
}

const print = (text: string) => process.stdout.write(text);

/** Runs `work` with the configured database open, and closes it after. */
async function withDatabase(
  work: (config: Config, database: DatabaseHandle) => Promise<void>,
): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolMax: 2,
  });
  try {
    await work(config, database);
  } finally {
    await database.close();
  }
}

/** Management commands: `npm run cli -- <command> [args]`. */
const commands: Record<string, { help: string; run: Command }> = {
  migrate: {
    help: 'apply the SQL migrations to the configured database',
    async run() {
      await withDatabase(async (config, database) => {
        await runMigrations(database);
        const where = database.kind === 'pglite' ? `PGlite in ${config.dataDir}` : 'PostgreSQL';
        process.stdout.write(`Migrations applied (${where}).\n`);
      });
    },
  },
  'stripe:sync-plans': {
    help: 'create or update the Stripe products and prices declared in src/billing/plans.ts',
    async run() {
      await withDatabase((config, database) =>
        syncPlansCommand(config, database, (line) => process.stdout.write(`${line}\n`)),
      );
    },
  },
  'webhooks:replay': {
    help: 'webhooks:replay <event_id> | --failed: process recorded Stripe events again',
    async run(args) {
      const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
      // The whole app without its workers: the same mailer, queue and database as the server.
      const app = await buildApp(config, { workers: false });
      try {
        const ok = await replayCommand(config, app.database, app.mailer, args, (line) =>
          process.stdout.write(`${line}\n`),
        );
        if (!ok) process.exitCode = 1;
      } finally {
        await app.close();
      }
    },
  },
  'stripe:reconcile': {
    help: 'stripe:reconcile [--json]: check every subscription against Stripe, repair drift, print the report',
    async run(args) {
      const config = loadConfig({ ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' });
      // The whole app without its workers, logging to stderr: stdout carries the report.
      const app = await buildApp(config, { workers: false, logStream: process.stderr });
      try {
        const ok = await reconcileCommand(config, app.database, app.mailer, args, (line) =>
          process.stdout.write(`${line}\n`),
        );
        if (!ok) process.exitCode = 1;
      } finally {
        await app.close();
      }
    },
  },
  'user:export': {
    help: 'user:export <email>: print everything held about the user, as JSON',
    async run(args) {
      await withApp((deps) => exportUserCommand(deps, args, print));
    },
  },
  'user:delete': {
    help: 'user:delete <email> --yes: cancel the subscription, delete the Stripe customer, erase the account',
    async run(args) {
      await withApp((deps) => deleteUserCommand(deps, args, print));
    },
  },
  'create-admin': {
    help: 'create-admin <email>: create a staff user (password from ADMIN_PASSWORD or a prompt) or promote one',
    async run([email]) {
      if (!email) throw new Error('Usage: npm run cli -- create-admin <email>');
      const config = loadConfig();
      const database = await openDatabase({
        databaseUrl: config.databaseUrl,
        dataDir: config.dataDir,
        poolMax: 2,
      });
      const stderr = (_fields: object, message: string) => process.stderr.write(`${message}\n`);
      const auth = createAuth({
        config,
        db: database.db,
        // Creating an admin sends no email (the address is marked verified).
        mailer: {
          async send() {
            throw new Error('create-admin sends no email');
          },
        },
        logger: { warn: stderr, error: stderr, info: () => {}, debug: () => {} },
      });
      try {
        const readPassword = async () => process.env.ADMIN_PASSWORD || (await promptPassword('Password: '));
        const outcome = await createOrPromoteStaff(auth, database.db, email, readPassword);
        process.stdout.write(
          {
            created: 'Staff user created.\n',
            promoted: 'User promoted to staff.\n',
            'already-staff': 'Already staff.\n',
          }[outcome],
        );
      } catch (error) {
        // A refused password: say why, field by field.
        if (error instanceof AppError && error.details) {
          throw new Error(Object.values(error.details).flat().join('\n'));
        }
        throw error;
      } finally {
        await database.close();
      }
    },
  },
};

/** Reads one line from stdin; on a terminal the typed characters are not echoed. */
async function promptPassword(question: string): Promise<string> {
  const { createInterface } = await import('node:readline');
  const terminal = Boolean(process.stdin.isTTY);
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal });
  if (terminal) {
    // Echo nothing after the question (readline writes each keystroke through _writeToOutput).
    const internal = rl as unknown as { _writeToOutput: (text: string) => void };
    internal._writeToOutput = (text: string) => {
      if (text.includes(question)) process.stdout.write(question);
    };
  }
  try {
    return await new Promise<string>((resolve) => rl.question(question, resolve));
  } finally {
    rl.close();
    if (terminal) process.stdout.write('\n');
  }
}

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
