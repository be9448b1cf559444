import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, freePort, type TestApp, TestClient } from './helper.ts';
import { signUpAndVerify } from './users.helpers.ts';

/**
 * Redis is optional but, once configured, shared: this file runs its own throwaway redis-server,
 * stops it under the running app and starts it again. Limits that protect capacity let requests
 * through while it is down, so readiness stays 200 (reported degraded); limits that protect
 * accounts (login) answer 503 rather than lift.
 */
const REDIS = '/usr/bin/redis-server';
const missing = !fs.existsSync(REDIS);
if (missing) console.warn(`Skipping the Redis outage test: ${REDIS} not found.`);

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    REDIS,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  await vi.waitFor(
    () =>
      new Promise<void>((resolve, reject) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.end();
          resolve();
        });
        socket.once('error', () => reject(new Error('redis-server did not start')));
      }),
    { timeout: 5000, interval: 50 },
  );
  return child;
}

async function stopRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

describe.skipIf(missing)('Redis outage', () => {
  let port: number;
  let redis: ChildProcess;
  let t: TestApp;

  beforeAll(async () => {
    port = await freePort();
    redis = await startRedis(port);
    t = await createTestApp({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } });
  });
  afterAll(async () => {
    await t?.close();
    if (redis) await stopRedis(redis);
  });

  it('reports Redis down as degraded while staying ready, refuses logins, and recovers when it returns', async () => {
    const client = new TestClient(t.app);
    const email = 'outage@example.com';
    const password = 'correct horse battery staple 9';
    await signUpAndVerify(t, client, { email, password });
    expect((await t.app.inject({ method: 'GET', url: '/health/ready' })).json().data).toEqual({
      status: 'ok',
      checks: { database: 'ok', redis: 'ok' },
    });

    await stopRedis(redis);
    // The API still serves, so every instance stays in the load balancer: 200, reported degraded.
    for (const url of ['/health/ready', '/health/']) {
      const ready = await t.app.inject({ method: 'GET', url });
      expect(ready.statusCode, url).toBe(200);
      expect(ready.json(), url).toEqual({
        success: true,
        data: { status: 'degraded', checks: { database: 'ok', redis: 'down' } },
      });
    }
    const live = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(live.statusCode).toBe(200);
    expect(live.json()).toEqual({ success: true, data: { status: 'ok' } });
    // Capacity limits fail open: reading the profile still works.
    expect((await client.get('/api/profile/')).statusCode).toBe(200);
    // The login limit fails closed: no unlimited password guessing while Redis is away.
    const login = await new TestClient(t.app).post('/api/login/', { email, password });
    expect(login.statusCode).toBe(503);
    expect(login.json().code).toBe('SERVICE_UNAVAILABLE');

    redis = await startRedis(port);
    await expect
      .poll(async () => (await t.app.inject({ method: 'GET', url: '/health/ready' })).json().data?.status, {
        timeout: 5000,
        interval: 100,
      })
      .toBe('ok');
    expect((await new TestClient(t.app).post('/api/login/', { email, password })).statusCode).toBe(200);
  });
});
