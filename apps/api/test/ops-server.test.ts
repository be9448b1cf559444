import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DEV_SECRET } from '../src/config.ts';
import { payOnHostedCheckout } from './billing-harness.ts';
import { freePort, waitFor as waitForValue } from './helper.ts';
import { type ServerProcess, spawnNode } from './server-process.ts';

/**
 * The real server process, as `npm start` runs it (from source here, to skip the build): it
 * migrates a fresh embedded database, serves, drains on SIGTERM and refuses bad configuration.
 */
const apiDir = fileURLToPath(new URL('..', import.meta.url));
const dataDirs: string[] = [];

afterAll(() => {
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

interface ServerOnPort extends ServerProcess {
  port: number;
  baseUrl: string;
}

/** A clean environment: only what is given, so the developer's DATABASE_URL/REDIS_URL never leak in. */
function startServer(env: Record<string, string>): ServerOnPort {
  const port = Number(env.PORT ?? 0);
  const server = spawnNode(['--import', 'tsx', 'src/server.ts'], apiDir, {
    STRIPE_EMULATOR_PORT: '0',
    ...env,
  });
  return { ...server, port, baseUrl: `http://127.0.0.1:${port}` };
}

async function waitForHealth(server: ServerOnPort, timeoutMs = 60_000): Promise<Response> {
  const healthy = vi.waitFor(
    async () => {
      // Throws while nothing listens yet: vi.waitFor tries again.
      const response = await fetch(`${server.baseUrl}/health/`);
      if (!response.ok) throw new Error(`/health/ answered ${response.status}`);
      return response;
    },
    { timeout: timeoutMs, interval: 100 },
  );
  const exited = server.exited.then((code) => {
    throw new Error(`server exited with ${code}:\n${server.output()}`);
  });
  try {
    return await Promise.race([healthy, exited]);
  } catch (error) {
    throw new Error(`server did not answer /health/ in time (${String(error)}):\n${server.output()}`);
  }
}

function tempDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierbase-ops-server-'));
  dataDirs.push(dir);
  return dir;
}

/** The CSRF cookie and header pair, as the SPA gets them. */
async function csrf(baseUrl: string): Promise<{ cookie: string; token: string }> {
  const response = await fetch(`${baseUrl}/api/csrf/`);
  const { data } = (await response.json()) as { data: { csrfToken: string } };
  return { cookie: `csrftoken=${data.csrfToken}`, token: data.csrfToken };
}

describe('the server process', () => {
  it('migrates a fresh data folder, serves, drains an in-flight request on SIGTERM and exits 0; a restart keeps the data', async () => {
    const dataDir = tempDataDir();
    const port = await freePort();
    const first = startServer({ DATA_DIR: dataDir, PORT: String(port) });
    try {
      const health = await waitForHealth(first);
      expect(await health.json()).toEqual({
        success: true,
        data: { status: 'ok', checks: { database: 'ok' } },
      });
      expect(first.output()).toContain(`listening on http://127.0.0.1:${port}`);
      expect(first.output()).toContain('PGlite');

      // A request whose body is still arriving when SIGTERM lands must still be answered.
      const { cookie, token } = await csrf(first.baseUrl);
      const body = JSON.stringify({ email: 'drain@example.com', password: 'not the right one at all' });
      const half = Math.floor(body.length / 2);
      const answered = new Promise<{ status: number; text: string; at: number }>((resolve, reject) => {
        const request = http.request(
          `${first.baseUrl}/api/login/`,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'content-length': String(Buffer.byteLength(body)),
              cookie,
              'x-csrftoken': token,
            },
          },
          (response) => {
            let text = '';
            response.on('data', (chunk: Buffer) => {
              text += chunk.toString();
            });
            response.on('end', () => resolve({ status: response.statusCode ?? 0, text, at: Date.now() }));
          },
        );
        request.on('error', reject);
        request.write(body.slice(0, half));
        // Send the rest only after the server has begun shutting down.
        // The 300 ms is under test: the request stays in flight that long into the shutdown.
        void waitFor(() => first.output().includes('shutting down'), 5000)
          .catch(() => undefined)
          .then(() => setTimeout(() => request.end(body.slice(half)), 300));
      });
      // A fixed pause on purpose: the half-sent request reaches the server before SIGTERM does
      // (the server logs nothing per chunk that could be awaited instead).
      await new Promise((resolve) => setTimeout(resolve, 200));
      const signalledAt = Date.now();
      first.child.kill('SIGTERM');

      const response = await answered;
      expect(response.at).toBeGreaterThan(signalledAt + 250);
      expect(response.status).not.toBe(503);
      expect(JSON.parse(response.text)).toHaveProperty('success', false);
      expect(await first.exited).toBe(0);
      expect(first.output()).toContain('shutdown complete');
    } finally {
      first.child.kill('SIGKILL');
    }

    const migrationsAfterFirstRun = await countMigrations(dataDir);
    expect(migrationsAfterFirstRun).toBeGreaterThan(0);

    const second = startServer({ DATA_DIR: dataDir, PORT: String(port) });
    try {
      await waitForHealth(second);
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    } finally {
      second.child.kill('SIGKILL');
    }
    // The second start found the schema in place and applied nothing twice.
    expect(await countMigrations(dataDir)).toBe(migrationsAfterFirstRun);
  }, 150_000);

  it('on SIGTERM with SHUTDOWN_DELAY_SECONDS, answers readiness 503 and liveness 200 while still serving, then exits 0', async () => {
    const port = await freePort();
    const server = startServer({ DATA_DIR: tempDataDir(), PORT: String(port), SHUTDOWN_DELAY_SECONDS: '2' });
    try {
      await waitForHealth(server);
      const ready = await fetch(`${server.baseUrl}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        success: true,
        data: { status: 'ok', checks: { database: 'ok' } },
      });

      server.child.kill('SIGTERM');
      await waitFor(() => server.output().includes('draining'), 5000);
      const draining = await fetch(`${server.baseUrl}/health/ready`);
      expect(draining.status).toBe(503);
      expect(await draining.json()).toMatchObject({
        success: false,
        code: 'SERVICE_UNAVAILABLE',
        status: 503,
      });
      expect((await fetch(`${server.baseUrl}/health/`)).status).toBe(503);
      const live = await fetch(`${server.baseUrl}/health/live`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ success: true, data: { status: 'ok' } });
      // Requests in the meantime are still served.
      expect((await fetch(`${server.baseUrl}/api/csrf/`)).status).toBe(200);
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
    }
  }, 90_000);

  // Concurrent: each case is a process start that fails in about two seconds.
  it.concurrent.each([
    [{ PORT: 'abc' }, 'PORT', 'abc'],
    [{ NODE_ENV: 'production', APP_URL: 'https://app.example.com' }, 'SECRET_KEY', undefined],
    [
      { NODE_ENV: 'production', APP_URL: 'https://app.example.com', SECRET_KEY: DEV_SECRET },
      'SECRET_KEY',
      DEV_SECRET,
    ],
    [{ SECRET_KEY: 'hunter2-is-far-too-short' }, 'SECRET_KEY', 'hunter2-is-far-too-short'],
    [{ DATABASE_URL: 'mysql://root:hunter2@db/app' }, 'DATABASE_URL', 'hunter2'],
  ])('refuses %o with exit 1, naming %s and never printing its value', async (env, variable, value) => {
    const server = startServer({ DATA_DIR: tempDataDir(), PORT: '0', ...env });
    expect(await server.exited).toBe(1);
    const output = server.output();
    expect(output).toContain('Invalid configuration');
    expect(output).toMatch(new RegExp(`\\b${variable}: `));
    if (value) expect(output).not.toContain(value);
  });
});

describe('the server process in production with STRIPE_EMULATOR=true', () => {
  it('delivers the emulator webhooks to the app despite the HTTPS redirect: a checkout makes the user Pro without a sync call', async () => {
    const port = await freePort();
    const server = startServer({
      DATA_DIR: tempDataDir(),
      PORT: String(port),
      NODE_ENV: 'production',
      SECRET_KEY: 'a-production-secret-that-is-long-enough-0123456789',
      APP_URL: 'https://app.example.com',
      STRIPE_EMULATOR: 'true',
      TRUSTED_PROXIES: '127.0.0.1',
      RATE_LIMIT_USER_PER_MINUTE: '10000',
    });
    try {
      await waitForHealth(server);
      // The browser's side goes through the TLS-terminating proxy; the webhook does not.
      const jar = new Map<string, string>();
      const call = async (method: string, url: string, body?: object) => {
        const headers: Record<string, string> = {
          'x-forwarded-proto': 'https',
          cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; '),
        };
        if (body) headers['content-type'] = 'application/json';
        if (method !== 'GET') headers['x-csrftoken'] = jar.get('csrftoken') ?? '';
        const response = await fetch(`${server.baseUrl}${url}`, {
          method,
          headers,
          redirect: 'manual',
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        for (const line of response.headers.getSetCookie()) {
          const [pair] = line.split(';');
          const [name, ...value] = (pair ?? '').split('=');
          if (name) jar.set(name.trim(), value.join('='));
        }
        return response;
      };
      expect((await fetch(`${server.baseUrl}/api/csrf/`, { redirect: 'manual' })).status).toBe(301);
      expect((await call('GET', '/api/csrf/')).status).toBe(200);
      const registered = await call('POST', '/api/register/', {
        email: 'emulated@example.com',
        password: 'correct horse battery staple 9',
        name: 'Ada',
      });
      expect(registered.status).toBe(202);
      // Sign-up starts no session (decision 9); signing in with the password does.
      const login = await call('POST', '/api/login/', {
        email: 'emulated@example.com',
        password: 'correct horse battery staple 9',
      });
      expect(login.status).toBe(200);
      // The plans are synced to the emulator just after listening.
      const url = await waitForValue(
        async () => {
          const checkout = await call('POST', '/api/billing/checkout/', { plan: 'pro', interval: 'month' });
          return checkout.ok ? ((await checkout.json()) as { data: { url: string } }).data.url : undefined;
        },
        30_000,
        250,
      );
      expect((await payOnHostedCheckout(url)).status).toBe(303);

      // No POST /api/billing/sync/: only the delivered webhook can make the user Pro.
      const status = await waitForValue(
        async () => {
          const body = (await (await call('GET', '/api/billing/status/')).json()) as {
            data?: { isPro: boolean; status: string | null };
          };
          return body.data?.isPro ? body.data : undefined;
        },
        30_000,
        250,
      );
      expect(['active', 'trialing']).toContain(status.status);
      // No webhook request was answered with a redirect (the log line of each request names its status).
      const redirected = server
        .output()
        .split('\n')
        .filter((line) => /stripe\/webhook/.test(line) && /"statusCode":30[1-8]\b/.test(line));
      expect(redirected).toEqual([]);
    } finally {
      server.child.kill('SIGKILL');
    }
  }, 120_000);
});

describe('the server process without its database', () => {
  it('exits 1 with the reason, and without the password in the URL', async () => {
    const unreachable = `postgres://tierbase:hunter2-database-password@127.0.0.1:${await freePort()}/tierbase`;
    const server = startServer({ DATA_DIR: tempDataDir(), PORT: '0', DATABASE_URL: unreachable });
    expect(await server.exited).toBe(1);
    expect(server.output()).toContain('Tierbase failed to start');
    expect(server.output()).toContain('ECONNREFUSED');
    expect(server.output()).not.toContain('hunter2');
  });
});

async function countMigrations(dataDir: string): Promise<number> {
  const pglite = await PGlite.create(path.join(dataDir, 'pglite'));
  try {
    const result = await pglite.query<{ count: number }>(
      'select count(*)::int as count from drizzle.__drizzle_migrations',
    );
    return result.rows[0]?.count ?? 0;
  } finally {
    await pglite.close();
  }
}

function waitFor(condition: () => boolean, timeout: number): Promise<void> {
  return vi.waitFor(
    () => {
      if (!condition()) throw new Error('the condition did not hold in time');
    },
    { timeout, interval: 20 },
  );
}
