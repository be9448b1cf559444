import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { freePort, waitFor } from './helper.ts';
import { type ServerProcess, spawnNode } from './server-process.ts';

/**
 * One data folder for every command: `npm start` runs from the repository root, `npm run cli`
 * from apps/api, and both must open the same embedded database; and while a server has it open,
 * the CLI must refuse rather than write to a copy the server never sees.
 */
const root = path.resolve(import.meta.dirname, '../../..');
// Relative, as the default (.data) is: inside .data (git-ignored), a folder of this test's own.
const relativeDataDir = path.join('.data', `ops-test-${randomBytes(4).toString('hex')}`);
const absoluteDataDir = path.join(root, relativeDataDir);
const hadDataFolder = fs.existsSync(path.join(root, '.data'));
afterAll(() => {
  fs.rmSync(absoluteDataDir, { recursive: true, force: true });
  if (!hadDataFolder) fs.rmSync(path.join(root, '.data'), { recursive: true, force: true });
});

/** Only what is given, so a developer's DATABASE_URL or DATA_DIR never leaks in. */
function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), LOG_LEVEL: 'info', ...env };
}

/** `npm run …` from `cwd`, as a developer types it. */
async function npmRun(cwd: string, args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await promisify(execFile)('npm', ['run', '--silent', ...args], {
      cwd,
      env: cleanEnv(env),
      timeout: 60_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

/** The server as `npm start` runs it, from the repository root (from source, to skip the build). */
function startServer(port: number): ServerProcess {
  return spawnNode(['--import', 'tsx', 'apps/api/src/server.ts'], root, {
    DATA_DIR: relativeDataDir,
    PORT: String(port),
    STRIPE_EMULATOR_PORT: '0',
  });
}

async function stop(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  expect(await server.exited).toBe(0);
}

describe('the data folder', () => {
  it('defaults to .data in the repository root, whatever the current folder', () => {
    expect(loadConfig({}).dataDir).toBe(path.join(root, '.data'));
    expect(loadConfig({ DATA_DIR: relativeDataDir }).dataDir).toBe(absoluteDataDir);
  });

  it('is the same for npm start, npm run migrate and npm run cli; the CLI refuses while a server holds it, and its change reaches the next start', async () => {
    const env = { DATA_DIR: relativeDataDir, ADMIN_PASSWORD: 'a sturdy admin passphrase 42' };
    // npm run migrate (root script) and npm run cli run from the workspace folder.
    const migrated = await npmRun(root, ['migrate'], env);
    expect(migrated.output).toContain(`Migrations applied (PGlite in ${absoluteDataDir})`);
    expect(migrated.code).toBe(0);
    const fromWorkspace = await npmRun(path.join(root, 'apps/api'), ['cli', '--', 'migrate'], env);
    expect(fromWorkspace.output).toContain(`Migrations applied (PGlite in ${absoluteDataDir})`);

    const port = await freePort();
    const server = startServer(port);
    try {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => null))?.ok,
        60_000,
      );
      expect(server.output()).toContain(`PGlite (embedded) in ${absoluteDataDir}/pglite`);

      const refused = await npmRun(root, ['cli', '--', 'create-admin', 'boss@example.com'], env);
      expect(refused.code, refused.output).not.toBe(0);
      expect(refused.output).toContain(
        `The embedded database in ${absoluteDataDir} is in use by another process`,
      );
      expect(refused.output).not.toContain('Staff user created');
      await stop(server);
    } finally {
      server.child.kill('SIGKILL');
    }

    const created = await npmRun(root, ['cli', '--', 'create-admin', 'boss@example.com'], env);
    expect(created.output).toContain('Staff user created.');
    expect(created.code).toBe(0);

    const again = startServer(port);
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(async () => (await fetch(`${base}/health/ready`).catch(() => null))?.ok, 60_000);
      const csrf = (await (await fetch(`${base}/api/csrf/`)).json()) as { data: { csrfToken: string } };
      const login = await fetch(`${base}/api/login/`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: `csrftoken=${csrf.data.csrfToken}`,
          'x-csrftoken': csrf.data.csrfToken,
        },
        body: JSON.stringify({ email: 'boss@example.com', password: env.ADMIN_PASSWORD }),
      });
      expect(login.status).toBe(200);
      expect(((await login.json()) as { data: { user: { isStaff: boolean } } }).data.user.isStaff).toBe(true);
      await stop(again);
    } finally {
      again.child.kill('SIGKILL');
    }
  }, 240_000);
});
