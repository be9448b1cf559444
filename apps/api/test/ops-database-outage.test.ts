import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';
import { PROBE_REUSE_MS } from '../src/http/health.ts';
import { createTestApp, freePort, type TestApp, TestClient } from './helper.ts';

/**
 * A real outage: this file runs its own throwaway PostgreSQL cluster (never the machine's shared
 * one), builds the app on it, stops the cluster under the running app and starts it again.
 */
const PG_BIN = '/usr/lib/postgresql/15/bin';
const missingBinaries = ['initdb', 'pg_ctl'].filter((name) => !fs.existsSync(path.join(PG_BIN, name)));
if (missingBinaries.length > 0) {
  console.warn(`Skipping the database outage test: ${missingBinaries.join(', ')} not found in ${PG_BIN}.`);
}

/** A PostgreSQL cluster in a temporary folder, on a free loopback port. */
class ThrowawayCluster {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierbase-outage-'));
  readonly dataDir = path.join(this.dir, 'data');
  port = 0;

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async init(): Promise<void> {
    this.port = await freePort();
    // initdb refuses to run as root: as root, run the binaries as the postgres OS user.
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      fs.chownSync(this.dir, uid, gid);
    }
    this.run('initdb', ['-D', this.dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
    this.start();
  }

  start(): void {
    const options = [
      '-c listen_addresses=127.0.0.1',
      `-p ${this.port}`,
      `-c unix_socket_directories=${this.dir}`,
      '-c fsync=off',
      '-c max_connections=40',
    ].join(' ');
    this.run('pg_ctl', ['-D', this.dataDir, '-o', options, '-l', path.join(this.dir, 'log'), '-w', 'start']);
  }

  stop(mode: 'fast' | 'immediate' = 'fast'): void {
    this.run('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', 'stop']);
  }

  /** Stops the cluster if it runs and removes its folder; safe to call after any failure. */
  destroy(): void {
    if (fs.existsSync(path.join(this.dataDir, 'postmaster.pid'))) {
      try {
        this.stop('immediate');
      } catch {
        // Already stopped.
      }
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private run(binary: string, args: string[]): void {
    const command = path.join(PG_BIN, binary);
    const asRoot = process.getuid?.() === 0;
    execFileSync(asRoot ? 'runuser' : command, asRoot ? ['-u', 'postgres', '--', command, ...args] : args, {
      stdio: 'pipe',
      timeout: 60_000,
    });
  }
}

describe.skipIf(missingBinaries.length > 0)('database outage', () => {
  let cluster: ThrowawayCluster | undefined;
  let t: TestApp | undefined;
  const client = () => new TestClient(t!.app);
  let user: TestClient;

  beforeAll(async () => {
    cluster = new ThrowawayCluster();
    await cluster.init();
    const migrator = await openDatabase({ databaseUrl: cluster.url, poolMax: 1 });
    await runMigrations(migrator);
    await migrator.close();
    t = await createTestApp({
      database: { databaseUrl: cluster.url, drop: async () => {} },
    });
    user = client();
    const registered = await user.post('/api/register/', {
      email: 'outage@example.com',
      password: 'a sturdy passphrase 42',
      name: 'Outage',
    });
    expect(registered.statusCode).toBe(202);
    const loggedIn = await user.post('/api/login/', {
      email: 'outage@example.com',
      password: 'a sturdy passphrase 42',
    });
    expect(loggedIn.statusCode).toBe(200);
  });

  afterAll(async () => {
    // The app closes first (its pool ends cleanly while the cluster runs); the cluster always goes.
    try {
      await t?.close();
    } finally {
      cluster?.destroy();
    }
  });

  it('serves the profile while the database is up', async () => {
    for (const url of ['/health/ready', '/health/']) {
      const health = await t!.app.inject({ method: 'GET', url });
      expect(health.statusCode, url).toBe(200);
      expect(health.json(), url).toMatchObject({
        success: true,
        data: { status: 'ok', checks: { database: 'ok' } },
      });
    }
    const profile = await user.get('/api/profile/');
    expect(profile.statusCode).toBe(200);
  });

  it('answers 503 while the database is down, and recovers without a restart', async () => {
    cluster!.stop('fast');

    // A probe's answer is reused for up to PROBE_REUSE_MS, then the outage shows.
    await expect
      .poll(async () => (await t!.app.inject({ method: 'GET', url: '/health/ready' })).statusCode, {
        timeout: PROBE_REUSE_MS + 5000,
      })
      .toBe(503);
    for (const url of ['/health/ready', '/health/']) {
      const health = await t!.app.inject({ method: 'GET', url });
      expect(health.statusCode, url).toBe(503);
      expect(health.json(), url).toMatchObject({
        success: false,
        code: 'SERVICE_UNAVAILABLE',
        status: 503,
        checks: { database: 'down' },
      });
      expect(health.json().error).toContain('database');
    }
    // Liveness checks no dependency: restarting the process would not bring the database back.
    const live = await t!.app.inject({ method: 'GET', url: '/health/live' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ success: true, data: { status: 'ok' } });

    // A session read in the last SESSION_CACHE_SECONDS is still served from the session cache (the
    // profile needs nothing else); once its entry expires, the outage shows there too.
    await expect
      .poll(async () => (await user.get('/api/profile/')).statusCode, {
        timeout: t!.config.sessionCacheSeconds * 1000 + 5000,
      })
      .toBe(503);
    const profile = await user.get('/api/profile/');
    expect(profile.statusCode).toBe(503);
    expect(profile.json()).toMatchObject({ success: false, code: 'SERVICE_UNAVAILABLE', status: 503 });
    expect(profile.headers['retry-after']).toBeDefined();

    // An anonymous request that needs the database fails the same way, not with a 500.
    const login = await client().post('/api/login/', {
      email: 'outage@example.com',
      password: 'a sturdy passphrase 42',
    });
    expect(login.statusCode).toBe(503);
    expect(login.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });

    cluster!.start();

    await expect
      .poll(async () => (await t!.app.inject({ method: 'GET', url: '/health/ready' })).json(), {
        timeout: PROBE_REUSE_MS + 5000,
      })
      .toMatchObject({ success: true, data: { checks: { database: 'ok' } } });
    const profileAgain = await user.get('/api/profile/');
    expect(profileAgain.statusCode).toBe(200);
    expect(JSON.stringify(profileAgain.json())).toContain('outage@example.com');
  });
});
