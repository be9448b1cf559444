import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const execFileAsync = promisify(execFile);

export interface RunningServer {
  appUrl: string;
  emulatorUrl: string;
  /** What the server runs on, for the log line. */
  database: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/**
 * With DATABASE_URL set (CI's second pass) the server gets a fresh PostgreSQL database of its own,
 * migrated by the server at start and dropped afterwards; otherwise embedded PGlite in a temp folder.
 */
async function prepareDatabase(): Promise<{
  env: Record<string, string>;
  label: string;
  drop(): Promise<void>;
}> {
  const baseUrl = process.env.DATABASE_URL;
  if (!baseUrl) return { env: {}, label: 'PGlite', drop: async () => {} };
  const name = `tierbase_e2e_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`create database "${name}"`);
  await admin.end();
  return {
    env: { DATABASE_URL: withDatabase(baseUrl, name) },
    label: `PostgreSQL database ${name}`,
    async drop() {
      const client = new pg.Client({ connectionString: baseUrl });
      await client.connect();
      await client.query(`drop database if exists "${name}" with (force)`);
      await client.end();
    },
  };
}

/** A staff account made before the server starts, as an operator would with the CLI. */
export interface StaffAccount {
  email: string;
  password: string;
}

export async function startServer(
  root: string,
  extraEnv: Record<string, string> = {},
  staff?: StaffAccount,
): Promise<RunningServer> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierbase-e2e-'));
  const database = await prepareDatabase();
  const appUrl = `http://localhost:${port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? os.tmpdir(),
    NODE_ENV: 'development',
    PORT: String(port),
    HOST: '127.0.0.1',
    APP_URL: appUrl,
    DATA_DIR: dataDir,
    STRIPE_EMULATOR_PORT: '0',
    LOG_LEVEL: 'info',
    ...database.env,
    ...extraEnv,
  };
  if (process.env.REDIS_URL) {
    env.REDIS_URL = process.env.REDIS_URL;
    env.REDIS_KEY_PREFIX = `tierbase:e2e:${randomBytes(4).toString('hex')}:`;
  }

  if (staff) {
    // The built CLI on the server's own database: migrate, then `create-admin` (it reads the
    // password from ADMIN_PASSWORD). PGlite allows one process at a time, so this runs first.
    // Not execFileSync: the CLI fetches the OpenID provider's discovery document from the local
    // provider this process serves, which a blocked event loop would leave unanswered until the
    // fetch timed out (five minutes).
    const cli = path.join(root, 'apps/api/dist/cli.js');
    const run = (args: string[], more: Record<string, string> = {}) =>
      execFileAsync(process.execPath, [cli, ...args], { cwd: root, env: { ...env, ...more } });
    await run(['migrate']);
    await run(['create-admin', staff.email], { ADMIN_PASSWORD: staff.password });
  }

  const child: ChildProcess = spawn(process.execPath, [path.join(root, 'apps/api/dist/server.js')], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logFile = path.join(root, 'e2e/artifacts/server.log');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const log = fs.createWriteStream(logFile);
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);

  let output = '';
  const started = new Promise<string>((resolve, reject) => {
    // Generous: on a busy two-core machine the migrated PGlite takes a while to open.
    const timer = setTimeout(
      () => reject(new Error(`server did not start in 120 s; see ${logFile}`)),
      120_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /local Stripe emulator at (http:\/\/[^\s)"]+)/.exec(output);
      if (match?.[1] && output.includes('listening')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening; see ${logFile}`));
    });
  });
  let emulatorUrl: string;
  try {
    emulatorUrl = await started;
  } catch (error) {
    // No teardown runs for a setup that failed: leave no server behind.
    child.kill('SIGKILL');
    await database.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }

  return {
    appUrl,
    emulatorUrl,
    database: database.label,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        // unref: the fallback timer must not keep the test runner alive once the server is gone.
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000).unref())]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
