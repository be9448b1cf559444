import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RunningEmulator, startEmulator } from '@tierbase/stripe-emulator';
import { Redis } from 'ioredis';
import pg from 'pg';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageIdFor } from '../src/email/delivery.ts';
import { JOB_SCHEMA } from '../src/jobs/queue.ts';
import { withDatabase } from '../test/global-setup.ts';
import { freePort, sleep, waitFor } from '../test/helper.ts';
import { NGINX_BIN, type RunningNginx, startNginx } from '../test/nginx.helpers.ts';
import { SmtpSink } from '../test/smtp-sink.ts';

/**
 * Scale-out, end to end: three built server processes (apps/api/dist/server.js, as production runs
 * them) on one PostgreSQL database and one Redis, behind real nginx with the shipped
 * deploy/nginx.conf, billing pointed at one Stripe emulator and mail at one SMTP server. Each check
 * is what an operator would look at after `docker compose up --scale api=3`. Run with
 * `npm run test:scale`; it prints its figures.
 */

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const SERVER_ENTRY = path.join(repoRoot, 'apps/api/dist/server.js');
const CLI_ENTRY = path.join(repoRoot, 'apps/api/dist/cli.js');
const ADMIN_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const STRIPE_KEY = 'sk_test_tierbase_scale';
const MAIL_FROM = 'Tierbase <no-reply@tierbase.test>';
const PASSWORD = 'correct horse battery staple 9';
const LOGIN_LIMIT = 5;
/** Above 3 × LOGIN_LIMIT, which counters kept per instance would let through across three. */
const MAX_LOGIN_ATTEMPTS = 30;
const LOAD_SECONDS = 6;
const LOAD_CONNECTIONS = 8;
const DAY = 24 * 3600;

interface Instance {
  name: string;
  url: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

/** Figures, printed as they are measured and again together at the end. */
const figures: Record<string, Record<string, unknown>> = {};
function report(check: string, values: Record<string, unknown>) {
  figures[check] = values;
  console.log(`[scale] ${check}: ${JSON.stringify(values)}`);
}

const run = randomBytes(4).toString('hex');
const databaseName = `tierbase_scale_${run}`;
const databaseUrl = withDatabase(ADMIN_DATABASE_URL, databaseName);
const keyPrefix = `tierbase-scale:${run}:`;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tierbase-scale-'));

let admin: pg.Client | undefined;
let db: pg.Pool | undefined;
let sink: SmtpSink | undefined;
let emulator: RunningEmulator | undefined;
let stripe: Stripe;
let nginx: RunningNginx | undefined;
let instances: Instance[] = [];

/** Only the cookies a browser would send back: name=value of each Set-Cookie. */
class CookieJar {
  readonly cookies = new Map<string, string>();
  store(response: Response) {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';', 1)[0] ?? '';
      const name = pair.slice(0, pair.indexOf('=')).trim();
      const value = pair.slice(pair.indexOf('=') + 1).trim();
      if (!value || /max-age=0/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
  get header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }
}

interface CallOptions {
  method?: string;
  body?: unknown;
  jar?: CookieJar;
  csrf?: string;
  headers?: Record<string, string>;
}

/**
 * One request. Straight to an instance it carries X-Forwarded-Proto, as nginx would (production
 * redirects plain HTTP, and trusts the header from 127.0.0.1, where nginx runs).
 */
async function call(baseUrl: string, url: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (baseUrl !== nginx?.url) headers['x-forwarded-proto'] = 'https';
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.csrf) headers['x-csrftoken'] = options.csrf;
  if (options.jar?.cookies.size) headers.cookie = options.jar.header;
  const response = await fetch(`${baseUrl}${url}`, {
    method: options.method ?? 'GET',
    headers,
    redirect: 'manual',
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  options.jar?.store(response);
  const text = await response.text();
  return { status: response.status, text, json: () => JSON.parse(text) };
}

async function csrfToken(baseUrl: string, jar: CookieJar): Promise<string> {
  const response = await call(baseUrl, '/api/csrf/', { jar });
  expect(response.status).toBe(200);
  return response.json().data.csrfToken as string;
}

async function query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
  if (!db) throw new Error('no database');
  return (await db.query<T>(sql, params)).rows;
}

function instanceEnv(port: number): Record<string, string> {
  if (!emulator || !sink) throw new Error('emulator and SMTP first');
  return {
    PATH: process.env.PATH ?? '',
    HOME: workDir,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    APP_URL: 'https://tierbase.test',
    SECRET_KEY: `scale-test-secret-${run}-${'x'.repeat(32)}`,
    DATA_DIR: path.join(workDir, 'data'),
    DATABASE_URL: databaseUrl,
    REDIS_URL,
    REDIS_KEY_PREFIX: keyPrefix,
    // nginx runs on this machine, so it reaches the instances from loopback.
    TRUSTED_PROXIES: '127.0.0.1',
    STRIPE_SECRET_KEY: STRIPE_KEY,
    STRIPE_WEBHOOK_SECRET: emulator.webhookSecret,
    STRIPE_API_BASE: emulator.url,
    SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
    MAIL_FROM,
    JOB_POLL_INTERVAL_SECONDS: '0.5',
    LOG_LEVEL: 'info',
    RATE_LIMIT_LOGIN_PER_15_MINUTES: String(LOGIN_LIMIT),
    // The load of the last check comes from one address and one user: only the login limit bites.
    RATE_LIMIT_GLOBAL_PER_MINUTE: '1000000',
    RATE_LIMIT_USER_PER_MINUTE: '1000000',
    RATE_LIMIT_WEBHOOK_PER_MINUTE: '1000000',
  };
}

function startInstance(name: string, port: number): Instance {
  let output = '';
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    cwd: repoRoot,
    env: instanceEnv(port),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, url: `http://127.0.0.1:${port}`, child, exited, output: () => output };
}

async function waitUntilServing(instance: Instance): Promise<void> {
  let exitCode: number | null | undefined;
  void instance.exited.then((code) => {
    exitCode = code;
  });
  await waitFor(
    async () => {
      if (exitCode !== undefined) {
        throw new Error(`${instance.name} exited with ${exitCode}:\n${instance.output()}`);
      }
      try {
        return (await call(instance.url, '/api/csrf/')).status === 200;
      } catch {
        return false; // not listening yet
      }
    },
    60_000,
    100,
  ).catch((error: unknown) => {
    throw new Error(`${instance.name} did not start: ${String(error)}\n${instance.output()}`);
  });
}

/** Runs the built CLI against the shared database, as an operator would. */
function runCli(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
      cwd: repoRoot,
      env: instanceEnv(0),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`cli ${args.join(' ')} exited ${code}:\n${output}`)),
    );
  });
}

function missingPrerequisite(): string | undefined {
  if (!fs.existsSync(SERVER_ENTRY)) return `${SERVER_ENTRY} is missing: run npm run build`;
  if (!fs.existsSync(NGINX_BIN)) return `${NGINX_BIN} is not installed (apt-get install nginx)`;
  return undefined;
}

beforeAll(async () => {
  const missing = missingPrerequisite();
  if (missing) throw new Error(`test:scale cannot run: ${missing}`);

  admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  await admin.query(`create database "${databaseName}"`);
  db = new pg.Pool({ connectionString: databaseUrl, max: 3 });

  sink = new SmtpSink(await freePort());
  await sink.start();
  emulator = await startEmulator({
    webhookSecret: `whsec_${randomBytes(16).toString('hex')}`,
    webhookRetryDelaysMs: [200, 500, 1000],
  });
  stripe = new Stripe(STRIPE_KEY, {
    host: emulator.host,
    port: emulator.port,
    protocol: 'http',
    maxNetworkRetries: 0,
  });

  // All three at once, as an orchestrator starts replicas: migrations and the job queue's schema
  // are created by whichever instance gets there first.
  const ports = await Promise.all([freePort(), freePort(), freePort()]);
  const started = Date.now();
  instances = ports.map((port, index) => startInstance(`api-${index + 1}`, port));
  await Promise.all(instances.map(waitUntilServing));
  const startMs = Date.now() - started;

  nginx = await startNginx({ upstreams: instances.map((instance) => new URL(instance.url).host) });
  // Stripe → nginx → any instance, as in production.
  await stripe.webhookEndpoints.create({
    url: `${nginx.url}/api/stripe/webhook/`,
    enabled_events: ['*'],
  });
  await runCli(['stripe:sync-plans']);
  report('startup', { instances: instances.length, secondsToServeAll: startMs / 1000 });
});

afterAll(async () => {
  for (const instance of instances) {
    if (instance.child.exitCode === null) instance.child.kill('SIGTERM');
  }
  await Promise.all(
    instances.map(async (instance) => {
      const force = setTimeout(() => instance.child.kill('SIGKILL'), 30_000);
      await instance.exited;
      clearTimeout(force);
    }),
  );
  await nginx?.stop();
  await emulator?.stop();
  await sink?.stop();
  await db?.end();
  if (admin) {
    await admin.query(`drop database if exists "${databaseName}" with (force)`);
    await admin.end();
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
  fs.rmSync(workDir, { recursive: true, force: true });
  console.log(`[scale] figures:\n${JSON.stringify(figures, null, 2)}`);
});

/** The signed-in user every later check uses; set by the first. */
const user = { email: `scale-${run}@example.com`, id: '', jar: new CookieJar() };

describe('three instances behind nginx, one PostgreSQL, one Redis', () => {
  it('a session made through nginx is valid on every instance', async () => {
    const edge = nginx!.url;
    const signUp = new CookieJar();
    const registered = await call(edge, '/api/register/', {
      method: 'POST',
      jar: signUp,
      csrf: await csrfToken(edge, signUp),
      body: { email: user.email, password: PASSWORD, name: 'Ada' },
    });
    expect(registered.status, registered.text).toBeLessThan(300);
    // Whether login waits for a verified address is not this test's concern: the address is
    // verified as the emailed link would, so login works either way.
    await query('update users set email_verified = true where lower(email) = lower($1)', [user.email]);

    const loggedIn = await call(edge, '/api/login/', {
      method: 'POST',
      jar: user.jar,
      csrf: await csrfToken(edge, user.jar),
      body: { email: user.email, password: PASSWORD },
    });
    expect(loggedIn.status, loggedIn.text).toBe(200);
    user.id = loggedIn.json().data.user.id;

    const answers = await Promise.all(
      instances.map(async (instance) => {
        const response = await call(instance.url, '/api/profile/', { jar: user.jar });
        return { instance: instance.name, status: response.status, id: response.json().data?.user?.id };
      }),
    );
    report('session', { answers });
    for (const answer of answers)
      expect(answer).toEqual({ instance: answer.instance, status: 200, id: user.id });
  });

  it('the login limit is one budget across the instances', async () => {
    /** Wrong-password logins for `email` from one client address until the first 429. */
    const attemptsUntilLimited = async (targets: Instance[], email: string, clientAddress: string) => {
      const jar = new CookieJar();
      const token = await csrfToken(targets[0]!.url, jar);
      const spread: string[] = [];
      for (let attempt = 1; attempt <= MAX_LOGIN_ATTEMPTS; attempt++) {
        const target = targets[(attempt - 1) % targets.length]!;
        const response = await call(target.url, '/api/login/', {
          method: 'POST',
          jar,
          csrf: token,
          // A client address of its own per run, so the two runs never share a per-address budget.
          headers: { 'x-forwarded-for': clientAddress },
          body: { email, password: 'not the password at all' },
        });
        if (response.status === 429) return { allowed: attempt - 1, spread };
        expect(response.status, response.text).toBe(401);
        spread.push(target.name);
      }
      return { allowed: Number.POSITIVE_INFINITY, spread };
    };

    const one = await attemptsUntilLimited([instances[0]!], `limit-one-${run}@example.com`, '203.0.113.10');
    const three = await attemptsUntilLimited(instances, `limit-three-${run}@example.com`, '203.0.113.11');
    report('rate limit', {
      configured: LOGIN_LIMIT,
      allowedOnOneInstance: one.allowed,
      allowedAcrossThree: three.allowed,
      acrossThreeServedBy: three.spread,
    });
    expect(one.allowed).toBeGreaterThan(1);
    expect(one.allowed).toBeLessThan(MAX_LOGIN_ATTEMPTS);
    // Counters in memory would let each instance allow its own budget (three times as many).
    expect(three.allowed).toBe(one.allowed);
    expect(new Set(three.spread).size).toBe(Math.min(instances.length, one.allowed));
  });

  it('a webhook delivered 10× at once across the instances takes effect once', async () => {
    const edge = nginx!.url;
    // A Pro trial through the app and the emulator's hosted Checkout; its webhooks reach the app
    // through nginx.
    const checkout = await call(edge, '/api/billing/checkout/', {
      method: 'POST',
      jar: user.jar,
      csrf: await csrfToken(edge, user.jar),
      body: { plan: 'pro', interval: 'month' },
    });
    expect(checkout.status, checkout.text).toBe(200);
    const paid = await fetch(checkout.json().data.url as string, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        cardNumber: '4242424242424242',
        expiry: '12 / 34',
        cvc: '123',
        name: 'Ada Lovelace',
      }).toString(),
    });
    expect(paid.status).toBe(303);
    await emulator!.webhooks.flush();
    const [subscription] = await waitFor(async () => {
      const rows = await query<{ status: string; stripe_customer_id: string; trial_end: Date }>(
        `select s.status, s.stripe_customer_id, s.trial_end from subscriptions s
           join organizations o on o.id = s.organization_id where o.personal_user_id = $1`,
        [user.id],
      );
      return rows[0]?.status === 'trialing' ? rows : undefined;
    });

    // The trial's end comes near while Stripe cannot deliver, so the event waits for us to send it.
    for (const endpoint of (await stripe.webhookEndpoints.list()).data) {
      await stripe.webhookEndpoints.del(endpoint.id);
    }
    const customer = (await stripe.customers.retrieve(subscription!.stripe_customer_id)) as Stripe.Customer;
    const clockId = typeof customer.test_clock === 'string' ? customer.test_clock : customer.test_clock!.id;
    const trialEnd = Math.floor(subscription!.trial_end.getTime() / 1000);
    await stripe.testHelpers.testClocks.advance(clockId, { frozen_time: trialEnd - 2 * DAY });
    await waitFor(async () => (await stripe.testHelpers.testClocks.retrieve(clockId)).status === 'ready');
    const event = (await stripe.events.list({ limit: 100 })).data.find(
      (candidate) =>
        candidate.type === 'customer.subscription.trial_will_end' &&
        (candidate.data.object as Stripe.Subscription).customer === customer.id,
    );
    expect(event, 'the emulator emitted customer.subscription.trial_will_end').toBeDefined();

    const payload = JSON.stringify(event);
    const deliveries = Array.from({ length: 10 }, (_, index) => instances[index % instances.length]!);
    const started = Date.now();
    const answers = await Promise.all(
      deliveries.map(async (instance) => {
        const response = await fetch(`${instance.url}/api/stripe/webhook/`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-forwarded-proto': 'https',
            'stripe-signature': Stripe.webhooks.generateTestHeaderString({
              payload,
              secret: emulator!.webhookSecret,
            }),
          },
          body: payload,
        });
        const body = (await response.json()) as { data?: { outcome?: string } };
        return { status: response.status, outcome: body.data?.outcome ?? 'none' };
      }),
    );
    const outcomes: Record<string, number> = {};
    for (const { outcome } of answers) outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    const durationMs = Date.now() - started;

    const rows = await query<{ processed: boolean; attempts: number }>(
      'select processed, attempts from webhook_events where event_id = $1',
      [event!.id],
    );
    const outbox = await waitFor(async () => {
      const found = await query<{ id: string; status: string }>(
        `select id, status from email_outbox where template = 'trial_ending_soon' and to_address = $1`,
        [user.email],
      );
      return found.length > 0 && found.every((row) => row.status === 'sent') ? found : undefined;
    });
    // Three workers poll every half second: give a duplicate time to show.
    await sleep(2000);
    const received = sink!.received.filter((mail) => mail.messageId === messageId(outbox[0]!.id));
    report('webhook', {
      deliveries: deliveries.length,
      statuses: answers.map((answer) => answer.status),
      outcomes,
      durationMs,
      eventRows: rows.length,
      attempts: rows[0]?.attempts,
      outboxRows: outbox.length,
      mailsReceived: received.length,
    });
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    // One delivery processed the event; the others found it taken (in progress) or done (duplicate).
    expect(outcomes.processed).toBe(1);
    expect((outcomes.in_progress ?? 0) + (outcomes.duplicate ?? 0)).toBe(deliveries.length - 1);
    expect(rows).toEqual([{ processed: true, attempts: 1 }]);
    expect(outbox).toHaveLength(1);
    expect(received).toHaveLength(1);
  });

  it('jobs run once though three workers poll', async () => {
    const edge = nginx!.url;
    const jar = new CookieJar();
    const before = await query<{ id: string }>('select id from email_outbox where to_address = $1', [
      user.email,
    ]);
    const requested = await call(edge, '/api/password-reset/', {
      method: 'POST',
      jar,
      csrf: await csrfToken(edge, jar),
      body: { email: user.email },
    });
    expect(requested.status, requested.text).toBe(200);
    const known = new Set(before.map((row) => row.id));
    const [reset] = await waitFor(async () => {
      const rows = await query<{ id: string; status: string }>(
        'select id, status from email_outbox where to_address = $1',
        [user.email],
      );
      const fresh = rows.filter((row) => !known.has(row.id));
      return fresh.length > 0 && fresh.every((row) => row.status === 'sent') ? fresh : undefined;
    });
    await sleep(2000);

    // Every mail the instances sent in this run, not only this one: each outbox row once.
    const sent = await query<{ id: string }>(`select id from email_outbox where status = 'sent'`);
    const byMessageId = new Map<string, number>();
    for (const mail of sink!.received) {
      byMessageId.set(mail.messageId ?? '', (byMessageId.get(mail.messageId ?? '') ?? 0) + 1);
    }
    const duplicates = [...byMessageId].filter(([, count]) => count > 1);
    const jobs = await query<{ state: string; count: number }>(
      `select state, count(*)::int as count from ${JOB_SCHEMA}.job group by state order by state`,
    );
    report('jobs', {
      outboxRowsSent: sent.length,
      mailsReceived: sink!.received.length,
      duplicateMessageIds: duplicates.length,
      jobStates: Object.fromEntries(jobs.map((row) => [row.state, row.count])),
    });
    expect(sink!.received.filter((mail) => mail.messageId === messageId(reset!.id))).toHaveLength(1);
    expect(duplicates).toEqual([]);
    expect(sink!.received).toHaveLength(sent.length);
    expect(new Set(byMessageId.keys())).toEqual(new Set(sent.map((row) => messageId(row.id))));
  });

  it('SIGTERM of one instance under steady load fails no request', async () => {
    const victim = instances[1]!;
    const logBefore = nginx!.accessLog().length;
    const load = steadyLoad(
      `${nginx!.url}/api/profile/`,
      user.jar.header,
      LOAD_CONNECTIONS,
      LOAD_SECONDS * 1000,
    );
    await sleep((LOAD_SECONDS * 1000) / 3);
    const signalledAt = Date.now();
    victim.child.kill('SIGTERM');
    const exit = victim.exited.then((code) => ({ code, afterMs: Date.now() - signalledAt }));
    const result = await load;
    const { code: exitCode, afterMs: exitedAfterMs } = await exit;

    const lines = nginx!.accessLog().slice(logBefore);
    const failed = lines.filter((line) => line.status !== 200);
    // An upstream list ("a, b") means nginx tried one instance and handed the request on.
    const retried = lines.filter((line) => String(line.upstream).includes(','));
    const servedBy: Record<string, number> = {};
    for (const line of lines) {
      const last = String(line.upstream).split(',').pop()!.trim();
      const name = instances.find((instance) => instance.url.endsWith(last))?.name ?? last;
      servedBy[name] = (servedBy[name] ?? 0) + 1;
    }
    report('sigterm under load', {
      seconds: LOAD_SECONDS,
      connections: LOAD_CONNECTIONS,
      requests: result.requests,
      ok: result.ok,
      failed: result.failed,
      failures: result.failures,
      requestsPerSecond: Math.round(result.requests / LOAD_SECONDS),
      latencyMs: result.latencyMs,
      nginxRetried: retried.length,
      nginxRetriedStatuses: [...new Set(retried.map((line) => line.upstream_status))],
      servedBy,
      victim: victim.name,
      victimExitCode: exitCode,
      victimExitedAfterMs: exitedAfterMs,
    });
    expect(result.requests).toBeGreaterThan(100);
    expect(result.failures).toEqual({});
    expect(result.ok).toBe(result.requests);
    expect(failed).toEqual([]);
    // The victim was in rotation before the signal, and its drain ended cleanly.
    expect(servedBy[victim.name]).toBeGreaterThan(0);
    // Exit 1 would be the forced exit after the 25 s drain deadline.
    expect(exitCode, victim.output().slice(-4000)).toBe(0);
  });
});

const messageId = (outboxId: string) => messageIdFor(outboxId, MAIL_FROM);

/**
 * `connections` clients, each sending GET `url` one after another until `durationMs` has passed;
 * every request is awaited to its end, so each one counts as answered or failed (none is cut off
 * when the time is up).
 */
async function steadyLoad(url: string, cookie: string, connections: number, durationMs: number) {
  const deadline = Date.now() + durationMs;
  const latencies: number[] = [];
  // How many requests failed, by reason (status or error).
  const failures: Record<string, number> = {};
  const fail = (reason: string) => {
    failures[reason] = (failures[reason] ?? 0) + 1;
  };
  let ok = 0;
  const client = async () => {
    while (Date.now() < deadline) {
      const started = performance.now();
      try {
        const response = await fetch(url, { headers: { cookie }, signal: AbortSignal.timeout(10_000) });
        await response.arrayBuffer();
        if (response.status === 200) ok++;
        else fail(`HTTP ${response.status}`);
      } catch (error) {
        fail(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      }
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  latencies.sort((a, b) => a - b);
  const at = (quantile: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(quantile * latencies.length))] ?? 0);
  return {
    requests: latencies.length,
    ok,
    failed: latencies.length - ok,
    failures,
    latencyMs: { p50: at(0.5), p99: at(0.99), max: at(1) },
  };
}
