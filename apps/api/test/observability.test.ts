import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { emailOutbox } from '../src/db/schema/email.ts';
import { proUser, startAiHarness } from './ai.helpers.ts';
import { type BillingHarness, signUp, startBillingHarness, subscribe } from './billing-harness.ts';
import { createTestApp, createTestDatabase, LogCapture, TestClient, waitFor } from './helper.ts';

const METRICS_TOKEN = 'metrics-token-for-the-suite-0123';
const bearer = { authorization: `Bearer ${METRICS_TOKEN}` };

/**
 * The sum of the Prometheus samples `name{labels…} value` whose labels include `labels`, or
 * undefined when there is none.
 */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) {
      sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

/** A local HTTP server that records every request it receives (an OTLP collector, a Sentry ingest). */
async function startReceiver() {
  const received: { method: string; url: string; contentType: string; body: string }[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        method: request.method ?? '',
        url: request.url ?? '',
        contentType: String(request.headers['content-type'] ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('GET /metrics with billing on the emulator', () => {
  let h: BillingHarness;
  const scrape = async () => {
    const response = await h.t.app.inject({ method: 'GET', url: '/metrics', headers: bearer });
    expect(response.statusCode).toBe(200);
    return response.body;
  };

  beforeAll(async () => {
    h = await startBillingHarness({ env: { METRICS_TOKEN, STRIPE_TIMEOUT_MS: '400' } });
  });
  afterAll(async () => h?.close());

  it('needs the bearer token when one is set', async () => {
    const missing = await h.t.app.inject({ method: 'GET', url: '/metrics' });
    expect(missing.statusCode).toBe(401);
    expect(missing.json()).toMatchObject({ success: false, code: 'AUTHENTICATION_REQUIRED', status: 401 });
    const wrong = await h.t.app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${METRICS_TOKEN.replace(/.$/, 'x')}` },
    });
    expect(wrong.statusCode).toBe(401);
    const ok = await h.t.app.inject({ method: 'GET', url: '/metrics', headers: bearer });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-type']).toMatch(/^text\/plain/);
  });

  it('times requests by route pattern, never by raw URL', async () => {
    await h.t.app.inject({ method: 'GET', url: '/api/billing/plans/' });
    await h.t.app.inject({ method: 'GET', url: '/api/no-such-thing/secret-token-abc123?token=zzz' });
    const text = await scrape();
    expect(
      sample(text, 'http_request_duration_seconds_count', {
        method: 'GET',
        route: '/api/billing/plans',
        status_code: '200',
      }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      sample(text, 'http_request_duration_seconds_count', { route: 'unmatched', status_code: '404' }),
    ).toBeGreaterThanOrEqual(1);
    expect(text).not.toContain('secret-token-abc123');
    expect(text).not.toContain('zzz');
    // Process metrics come with it.
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('counts webhook outcomes and their lag', async () => {
    const before = await scrape();
    const processedBefore = sample(before, 'stripe_webhook_events_total', { outcome: 'processed' }) ?? 0;
    const { client } = await signUp(h.t);
    const { sessionId } = await subscribe(client);
    expect(sessionId).toBeTruthy();
    await h.emulator.webhooks.flush();
    const after = await scrape();
    expect(sample(after, 'stripe_webhook_events_total', { outcome: 'processed' })).toBeGreaterThan(
      processedBefore,
    );
    expect(sample(after, 'stripe_webhook_lag_seconds_count')).toBeGreaterThan(0);
  });

  it('counts ignored, duplicate and failed webhook deliveries, and the lag of an old event', async () => {
    const OUTCOMES = ['processed', 'duplicate', 'ignored', 'failed'] as const;
    const outcomes = (text: string) =>
      OUTCOMES.map((outcome) => sample(text, 'stripe_webhook_events_total', { outcome }) ?? 0);
    const deliver = (eventId: string, customer: string) => {
      const payload = JSON.stringify({
        id: eventId,
        object: 'event',
        type: 'customer.subscription.updated',
        api_version: '2026-10-28.endive',
        // Sent two minutes ago (a retried delivery): the lag histogram sees it.
        created: Math.floor(Date.now() / 1000) - 120,
        livemode: false,
        pending_webhooks: 1,
        request: { id: null, idempotency_key: null },
        data: { object: { id: `sub_${randomBytes(6).toString('hex')}`, object: 'subscription', customer } },
      });
      const signature = Stripe.webhooks.generateTestHeaderString({
        payload,
        secret: h.emulator.webhookSecret,
      });
      return h.t.app.inject({
        method: 'POST',
        url: '/api/stripe/webhook/',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        payload,
      });
    };
    const before = await scrape();
    const lagBefore = sample(before, 'stripe_webhook_lag_seconds_sum') ?? 0;

    // A customer Stripe does not have: acknowledged with a note, counted as ignored.
    const unknown = `evt_${randomBytes(8).toString('hex')}`;
    expect((await deliver(unknown, 'cus_nobody_knows')).statusCode).toBe(200);
    // The same event again: a duplicate.
    expect((await deliver(unknown, 'cus_nobody_knows')).statusCode).toBe(200);
    // Stripe down while the event is applied: failed, answered 5xx so Stripe retries.
    h.emulator.faults.failNext(1, '500');
    const failed = await deliver(`evt_${randomBytes(8).toString('hex')}`, 'cus_nobody_knows');
    h.emulator.faults.clear();
    expect(failed.statusCode).toBe(502);

    const after = await scrape();
    const was = outcomes(before);
    const delta = outcomes(after).map((count, index) => [OUTCOMES[index], count - (was[index] ?? 0)]);
    expect(Object.fromEntries(delta)).toEqual({ processed: 0, duplicate: 1, ignored: 1, failed: 1 });
    expect((sample(after, 'stripe_webhook_lag_seconds_sum') ?? 0) - lagBefore).toBeGreaterThanOrEqual(
      3 * 120,
    );
  });

  it('counts a failed Stripe call by operation, and logs it with the request id', async () => {
    const before = sample(await scrape(), 'stripe_call_failures_total') ?? 0;
    const { client } = await signUp(h.t);
    h.emulator.faults.failNext(1, '500');
    const failed = await client.post('/api/billing/checkout/', { plan: 'pro', interval: 'month' });
    h.emulator.faults.clear();
    expect(failed.statusCode).toBe(502);

    // The billing module logged the failure through the request's own logger.
    const requestId = failed.headers['x-request-id'];
    const line = h.t.logs.lines
      .map((raw) => JSON.parse(raw) as { msg?: string; reqId?: string; operation?: string; type?: string })
      .find((entry) => entry.msg === 'stripe call failed' && entry.reqId === requestId);
    expect(line?.operation).toBe('customers.create');
    const after = await scrape();
    expect(sample(after, 'stripe_call_failures_total')).toBe(before + 1);
    expect(
      sample(after, 'stripe_call_failures_total', {
        operation: 'customers.create',
        type: String(line?.type),
      }),
    ).toBeGreaterThanOrEqual(1);
  });

  it('reports the outbox: mail still queued and mail given up on', async () => {
    await h.t.app.database.db.insert(emailOutbox).values(
      ['failed', 'failed', 'queued'].map((status, index) => ({
        template: 'metrics-test',
        toAddress: `metrics-${index}@example.com`,
        subject: 'metrics',
        html: '<p>x</p>',
        text: 'x',
        status: status as 'failed' | 'queued',
      })),
    );
    const rows = await h.t.app.database.db.select({ status: emailOutbox.status }).from(emailOutbox);
    const text = await scrape();
    expect(sample(text, 'email_outbox_emails', { status: 'failed' })).toBe(
      rows.filter((row) => row.status === 'failed').length,
    );
    expect(sample(text, 'email_outbox_emails', { status: 'queued' })).toBe(
      rows.filter((row) => row.status === 'queued').length,
    );
    expect(text).not.toContain('example.com');
  });
});

describe('metrics fed by the AI service and the job queue', () => {
  it('counts AI tokens by model and kind, and the service logs with the request id', async () => {
    const h = await startAiHarness();
    try {
      const metrics = async () => (await h.t.app.inject({ method: 'GET', url: '/metrics' })).body;
      const before = await metrics();
      const { client } = await proUser(h.t);
      const response = await client.post('/api/ai/generate/', { prompt: 'Say hello' });
      expect(response.statusCode).toBe(200);
      const { usage } = (
        response.json() as { data: { usage: { promptTokens: number; completionTokens: number } } }
      ).data;
      const after = await metrics();
      for (const [kind, tokens] of [
        ['prompt', usage.promptTokens],
        ['completion', usage.completionTokens],
      ] as const) {
        const delta =
          (sample(after, 'ai_tokens_total', { kind }) ?? 0) -
          (sample(before, 'ai_tokens_total', { kind }) ?? 0);
        expect(delta).toBe(tokens);
      }
      const finished = h.t.logs.lines
        .map((raw) => JSON.parse(raw) as { msg?: string; reqId?: string })
        .find((entry) => entry.msg === 'ai request finished');
      expect(finished?.reqId).toBe(response.headers['x-request-id']);
    } finally {
      await h.close();
    }
  });

  it('counts job attempts that failed, and the final failure apart', async () => {
    const t = await createTestApp({
      env: { JOB_POLL_INTERVAL_SECONDS: '0.5', JOB_STOP_TIMEOUT_SECONDS: '1' },
    });
    try {
      await t.app.jobs.createQueue('test.metrics-doomed', { retryLimit: 1, retryDelaySeconds: 1 });
      await t.app.jobs.work('test.metrics-doomed', async () => {
        throw new Error('always');
      });
      const id = await t.app.jobs.send('test.metrics-doomed', {});
      await waitFor(async () => {
        const rows = await t.app.database.query<{ state: string }>(
          'select state::text from pgboss.job where id = $1',
          [id],
        );
        return rows[0]?.state === 'failed';
      });
      const text = (await t.app.inject({ method: 'GET', url: '/metrics' })).body;
      expect(sample(text, 'job_failures_total', { queue: 'test.metrics-doomed', final: 'false' })).toBe(1);
      expect(sample(text, 'job_failures_total', { queue: 'test.metrics-doomed', final: 'true' })).toBe(1);
    } finally {
      await t.close();
    }
  });
});

describe('GET /metrics by environment', () => {
  const production = {
    NODE_ENV: 'production',
    SECRET_KEY: 'a-production-secret-key-of-32-characters!',
    APP_URL: 'https://app.example.com',
    STRIPE_EMULATOR: 'true',
  };

  it('is not served in production without METRICS_TOKEN', async () => {
    const t = await createTestApp({ workers: false, env: production });
    try {
      // Plain HTTP from inside the cluster, as Prometheus scrapes: not redirected, not served.
      const response = await t.app.inject({ method: 'GET', url: '/metrics' });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ success: false, code: 'NOT_FOUND' });
    } finally {
      await t.close();
    }
  });

  it('is served in production with the token only', async () => {
    const t = await createTestApp({ workers: false, env: { ...production, METRICS_TOKEN } });
    try {
      expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      const ok = await t.app.inject({ method: 'GET', url: '/metrics', headers: bearer });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain('http_request_duration_seconds');
    } finally {
      await t.close();
    }
  });

  it('is open in development and test without a token', async () => {
    const t = await createTestApp({ workers: false });
    try {
      expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('OpenTelemetry', () => {
  it('exports a span per request to the OTLP endpoint, with the route and no query string', async () => {
    const collector = await startReceiver();
    const t = await createTestApp({
      workers: false,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_SERVICE_NAME: 'tierbase-test' },
    });
    try {
      const response = await t.app.inject({
        method: 'GET',
        url: '/api/billing/plans/?token=secret-in-query',
      });
      expect(response.statusCode).toBe(200);
    } finally {
      // Closing flushes the batch of spans.
      await t.close();
      await collector.close();
    }
    const traces = collector.received.filter((request) => request.url === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    expect(traces[0]?.method).toBe('POST');
    expect(traces[0]?.contentType).toMatch(/^application\/json/);
    const body = traces.map((request) => request.body).join('\n');
    expect(body).toContain('tierbase-test');
    expect(body).toContain('/api/billing/plans');
    expect(body).not.toContain('secret-in-query');
  });

  it('loads nothing without an endpoint', async () => {
    const t = await createTestApp({ workers: false });
    try {
      expect(t.app.hasPlugin('@fastify/otel')).toBe(false);
    } finally {
      await t.close();
    }
  });
});

describe('error reporting (SENTRY_DSN)', () => {
  it('sends an unexpected 500 to the DSN, without cookies, headers, body or email addresses', async () => {
    const ingest = await startReceiver();
    const database = await createTestDatabase();
    const config = loadConfig({
      NODE_ENV: 'test',
      SENTRY_DSN: `http://publickey@127.0.0.1:${ingest.port}/42`,
      ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
    });
    const logs = new LogCapture();
    const app = await buildApp(config, {
      ...(database.pglite ? { pglite: database.pglite } : {}),
      workers: false,
      logStream: logs,
    });
    app.post('/api/test/boom', async () => {
      throw new Error('boom while mailing ada.lovelace@example.com');
    });
    await app.ready();
    try {
      const client = new TestClient(app);
      client.cookies.set('sessionid', 'session-cookie-value-xyz');
      const response = await client.request({
        method: 'POST',
        url: '/api/test/boom',
        headers: { authorization: 'Bearer auth-header-value-xyz' },
        payload: { email: 'grace.hopper@example.com', password: 'body-password-xyz' },
      });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toMatchObject({ success: false, code: 'INTERNAL_ERROR' });
      const envelope = await waitFor(() =>
        ingest.received.find((request) => request.url.startsWith('/api/42/envelope')),
      );
      expect(envelope.method).toBe('POST');
      expect(envelope.body).toContain('boom while mailing [email]');
      expect(envelope.body).toContain(response.headers['x-request-id']);
      expect(envelope.body).toContain('/api/test/boom');
      for (const secret of [
        '@example.com',
        'session-cookie-value-xyz',
        'auth-header-value-xyz',
        'body-password-xyz',
        'csrftoken',
      ]) {
        expect(envelope.body).not.toContain(secret);
      }
    } finally {
      await app.close();
      await database.drop();
      await ingest.close();
    }
  });
});
