/**
 * WEB_CONCURRENCY: the real server process (from source, as ops-server.test.ts starts it) forks
 * that many workers on PostgreSQL, which share the port; only the first runs the jobs; SIGTERM
 * drains them all and the primary exits 0; a worker that dies is replaced. On the embedded
 * database it serves from one process and says so.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, waitFor } from './helper.ts';
import { type ServerProcess, spawnNode } from './server-process.ts';

const apiDir = fileURLToPath(new URL('..', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

interface Started extends ServerProcess {
  baseUrl: string;
}

async function start(env: Record<string, string>): Promise<Started> {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierbase-ops-cluster-'));
  dirs.push(dataDir);
  const server = spawnNode(['--import', 'tsx', 'src/server.ts'], apiDir, {
    STRIPE_EMULATOR_PORT: '0',
    DATA_DIR: dataDir,
    PORT: String(port),
    JOB_POLL_INTERVAL_SECONDS: '0.5',
    ...env,
  });
  return { ...server, baseUrl: `http://127.0.0.1:${port}` };
}

async function healthy(server: Started): Promise<void> {
  let exitCode: number | null | undefined;
  void server.exited.then((code) => {
    exitCode = code;
  });
  await waitFor(async () => {
    if (exitCode !== undefined) throw new Error(`server exited with ${exitCode}:\n${server.output()}`);
    return fetch(`${server.baseUrl}/health/`).then(
      (response) => response.ok,
      () => false,
    );
  }, 120_000);
}

describe('WEB_CONCURRENCY on the embedded database', () => {
  it('serves from one process and says why', async () => {
    const server = await start({ WEB_CONCURRENCY: '3' });
    try {
      await healthy(server);
      expect(server.output()).toContain('WEB_CONCURRENCY is ignored on the embedded database');
      expect(server.output()).not.toContain('forking');
    } finally {
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  }, 180_000);
});

const baseUrl = process.env.DATABASE_URL;
if (!baseUrl) console.warn('ops-cluster: the cluster runs on PostgreSQL only (DATABASE_URL unset): skipped');

describe.skipIf(!baseUrl)('WEB_CONCURRENCY=2 on PostgreSQL', () => {
  it('two workers share the port, one runs the jobs, a dead one is replaced, SIGTERM drains all and exits 0', async () => {
    const name = `tierbase_cluster_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: baseUrl });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    const url = new URL(baseUrl!);
    url.pathname = `/${name}`;
    const server = await start({
      WEB_CONCURRENCY: '2',
      DATABASE_URL: url.toString(),
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    });
    try {
      await healthy(server);
      await waitFor(() => server.output().includes('every worker is listening'), 60_000);
      const announced = server.lines().filter((line) => typeof line.worker === 'number' && line.api);
      expect(announced.map((line) => [line.worker, line.role]).sort()).toEqual([
        [1, 'all'],
        [2, 'api'],
      ]);

      // Connections are spread over both workers (round-robin): each answers some.
      await Promise.all(
        Array.from({ length: 40 }, () => fetch(`${server.baseUrl}/health/live`).then((r) => r.text())),
      );
      const servedBy = new Set(
        server
          .lines()
          .filter((line) => line.msg === 'request completed')
          .map((line) => line.pid),
      );
      expect(servedBy.size).toBe(2);

      // A worker killed from outside is replaced; requests keep being answered.
      const worker2 = announced.find((line) => line.worker === 2)!.pid as number;
      process.kill(worker2, 'SIGKILL');
      await waitFor(() => server.output().includes('worker died; starting another'), 30_000);
      await waitFor(
        () =>
          server.lines().filter((line) => line.worker === 2 && line.api && line.pid !== worker2).length > 0,
        120_000,
      );
      expect((await fetch(`${server.baseUrl}/health/`)).status).toBe(200);

      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      const lines = server.lines();
      expect(lines.filter((line) => line.msg === 'shutdown complete')).toHaveLength(2);
      expect(lines.at(-1)).toMatchObject({ msg: 'all workers exited', failed: false });
    } finally {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    }
  }, 300_000);
});
