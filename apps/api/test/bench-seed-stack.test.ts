/**
 * The seed's stack that `npm run bench -- --django` races (bench/seed-django, decision 34) does the
 * work the race credits it with: health runs a query, the profile needs a signed-in session and
 * reads the database, the webhook checks Stripe's signature and records each event once. A stack
 * that answered without that work would make every multiple the bench prints a flattering one.
 * It runs on PostgreSQL and Redis with Debian's Django packages (.ci/run installs them).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareSeedStack, seedStackCommand, seedStackVersion } from '../bench/seed-stack.ts';
import { freePort, waitFor } from './helper.ts';

const databaseUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL;

function whySkipped(): string | undefined {
  if (!databaseUrl || !redisUrl)
    return 'DATABASE_URL or REDIS_URL is unset (the seed runs on PostgreSQL and Redis)';
  try {
    seedStackVersion();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
const skipped = whySkipped();
if (skipped) console.warn(`bench-seed-stack: the seed's stack is not tested: ${skipped}`);

const HTTPS = { 'x-forwarded-proto': 'https' };

describe.skipIf(Boolean(skipped))("the bench's reconstruction of the seed's stack", () => {
  const secret = `whsec_${randomBytes(12).toString('hex')}`;
  const databaseName = `tierbase_test_seed_${randomBytes(4).toString('hex')}`;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierbase-seed-stack-'));
  let server: ChildProcess | undefined;
  let base = '';
  let cookie = '';
  let database: pg.Client;

  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    await admin(`create database "${databaseName}"`);
    const url = new URL(databaseUrl ?? '');
    url.pathname = `/${databaseName}`;
    const env = {
      DATABASE_URL: url.toString(),
      REDIS_URL: redisUrl ?? '',
      SECRET_KEY: randomBytes(32).toString('hex'),
      STRIPE_WEBHOOK_SECRET: secret,
      STATIC_ROOT: workDir,
      CACHE_KEY_PREFIX: `tierbase-test-seed-${randomBytes(4).toString('hex')}`,
    };
    cookie = prepareSeedStack(env);
    const port = await freePort();
    const [command, args] = seedStackCommand(port, 2, path.join(workDir, 'access.log'));
    server = spawn(command, args, { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
    base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => (await fetch(`${base}/health/`, { headers: HTTPS }).catch(() => undefined))?.ok,
    );
    database = new pg.Client({ connectionString: url.toString() });
    await database.connect();
  }, 60_000);

  afterAll(async () => {
    await database?.end();
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    await admin(`drop database if exists "${databaseName}" with (force)`);
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('answers health with the envelope, and sends plain HTTP to HTTPS as its middlewares do', async () => {
    const health = await fetch(`${base}/health/`, { headers: HTTPS });
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      success: true,
      data: { status: 'ok', checks: { database: 'ok' } },
    });
    expect(health.headers.get('strict-transport-security')).toContain('max-age=');
    const plain = await fetch(`${base}/health/`, { redirect: 'manual' });
    expect(plain.status).toBe(301);
    expect(plain.headers.get('location')).toMatch(/^https:\/\//);
  });

  it('serves the profile to the signed-in session only, read from the database', async () => {
    const signedIn = await fetch(`${base}/api/profile/`, { headers: { ...HTTPS, cookie } });
    expect(signedIn.status).toBe(200);
    const { data } = (await signedIn.json()) as { data: { user: { email: string; subscription: unknown } } };
    expect(data.user).toMatchObject({ email: 'bench@example.com', subscription: null });
    // A subscription written to its table shows on the next request.
    await database.query(
      `insert into seed_subscription (user_id, stripe_customer_id, stripe_subscription_id, status, created_at, updated_at)
       select id, 'cus_1', 'sub_1', 'active', now(), now() from auth_user where email = 'bench@example.com'`,
    );
    const after = await fetch(`${base}/api/profile/`, { headers: { ...HTTPS, cookie } });
    expect(await after.json()).toMatchObject({
      data: { user: { subscription: { status: 'active' } }, is_pro: true },
    });

    const anonymous = await fetch(`${base}/api/profile/`, { headers: HTTPS });
    expect(anonymous.status).toBe(403);
    const forged = await fetch(`${base}/api/profile/`, { headers: { ...HTTPS, cookie: 'sessionid=forged' } });
    expect(forged.status).toBe(403);
  });

  it("checks Stripe's signature and records each event once", async () => {
    const payload = JSON.stringify({
      id: `evt_${randomBytes(8).toString('hex')}`,
      object: 'event',
      type: 'customer.created',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: 'cus_1', object: 'customer' } },
    });
    const deliver = (signingSecret: string) =>
      fetch(`${base}/api/stripe/webhook/`, {
        method: 'POST',
        headers: {
          ...HTTPS,
          'content-type': 'application/json',
          'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: signingSecret }),
        },
        body: payload,
      });

    const forged = await deliver('whsec_not_the_real_one');
    expect(forged.status).toBe(400);
    expect(await forged.json()).toMatchObject({ success: false, code: 'INVALID_SIGNATURE' });
    expect((await database.query('select count(*)::int as n from seed_webhookevent')).rows[0].n).toBe(0);

    const first = await deliver(secret);
    expect(await first.json()).toMatchObject({ success: true, data: { outcome: 'processed' } });
    const again = await deliver(secret);
    expect(await again.json()).toMatchObject({ success: true, data: { outcome: 'duplicate' } });
    const rows = await database.query('select processed from seed_webhookevent');
    expect(rows.rows).toEqual([{ processed: true }]);
  });
});
