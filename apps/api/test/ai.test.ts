import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { billingPeriod } from '../src/ai/period.ts';
import { type AiHarness, aiRows, makePro, proUser, seedUsage, startAiHarness } from './ai.helpers.ts';
import { createTestApp, TestClient } from './helper.ts';
import { registered } from './users.helpers.ts';

let h: AiHarness;
beforeAll(async () => {
  h = await startAiHarness();
});
afterAll(async () => h?.close());
beforeEach(() => h.stub.reset());

describe('AI generate: access', () => {
  it('asks for a session, then for Pro, and stores nothing for a refused caller', async () => {
    const anonymous = await new TestClient(h.t.app).post('/api/ai/generate/', { prompt: 'hi' });
    expect(anonymous.statusCode).toBe(401);

    const { client, user } = await registered(h.t);
    const free = await client.post('/api/ai/generate/', { prompt: 'hi' });
    expect(free.statusCode).toBe(403);
    expect(free.json()).toMatchObject({ code: 'SUBSCRIPTION_INACTIVE', links: { pricing: '/pricing' } });
    expect((await client.get('/api/ai/status/')).statusCode).toBe(403);
    expect((await client.get('/api/ai/history/')).statusCode).toBe(403);
    expect(h.stub.requests).toHaveLength(0);
    expect(await aiRows(h.t, user.id)).toHaveLength(0);

    // A canceled subscription is not Pro either.
    const lapsed = await registered(h.t);
    await makePro(h.t, lapsed.user.id, { status: 'canceled' });
    expect((await lapsed.client.post('/api/ai/generate/', { prompt: 'hi' })).statusCode).toBe(403);
  });

  it('answers 503 AI_NOT_CONFIGURED, saying how to configure it, when no provider is set', async () => {
    const t = await createTestApp({ workers: false });
    try {
      const { client, user } = await registered(t);
      await makePro(t, user.id);
      const res = await client.post('/api/ai/generate/', { prompt: 'hi' });
      expect(res.statusCode).toBe(503);
      expect(res.json().code).toBe('AI_NOT_CONFIGURED');
      expect(res.json().error).toMatch(/OPENAI_API_KEY/);
      const status = await client.get('/api/ai/status/');
      expect(status.json().data).toMatchObject({ configured: false, usage: { requests: { used: 0 } } });
      expect(await aiRows(t, user.id)).toHaveLength(0);
    } finally {
      await t.close();
    }
  });
});

describe('AI generate: a Pro user', () => {
  it('gets a completion through the SDK, recorded with usage, latency and outcome', async () => {
    const { client, user } = await proUser(h.t);
    const res = await client.post('/api/ai/generate/', {
      prompt: 'Say hello',
      system: 'Be brief.',
      maxTokens: 50,
    });
    expect(res.statusCode).toBe(200);
    const data = res.json().data;
    expect(data).toMatchObject({
      output: 'Hello, world!',
      model: 'stub-model',
      usage: { promptTokens: 12, completionTokens: 4, totalTokens: 16 },
      finishReason: 'stop',
    });
    expect(data.latencyMs).toBeGreaterThanOrEqual(0);

    // What reached the provider: the model, the messages, the bound.
    expect(h.stub.requests).toHaveLength(1);
    expect(h.stub.requests[0]?.body).toMatchObject({
      model: 'stub-model',
      max_tokens: 50,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Say hello' },
      ],
    });

    const [row] = await aiRows(h.t, user.id);
    expect(row).toMatchObject({
      id: data.id,
      status: 'completed',
      prompt: 'Say hello',
      output: 'Hello, world!',
      total_tokens: 16,
      model: 'stub-model',
    });
    expect(row?.latency_ms).not.toBeNull();
    // The prompt is data, not a log line.
    expect(h.t.logs.text).not.toContain('Say hello');
  });

  it('defaults maxTokens to the plan maximum and reports the length finish', async () => {
    const { client } = await proUser(h.t);
    h.stub.behaviour.tokens = ['a', 'b', 'c', 'd', 'e'];
    const res = await client.post('/api/ai/generate/', { prompt: 'letters', maxTokens: 3 });
    expect(res.json().data).toMatchObject({ output: 'abc', finishReason: 'length' });
    await client.post('/api/ai/generate/', { prompt: 'letters' });
    expect(h.stub.requests[1]?.body.max_tokens).toBe(2000);
  });

  it('bounds the prompt and maxTokens by the plan, storing nothing for a refused call', async () => {
    const { client, user } = await proUser(h.t);
    const long = await client.post('/api/ai/generate/', {
      prompt: 'x'.repeat(7_990),
      system: 'y'.repeat(11),
    });
    expect(long.statusCode).toBe(400);
    expect(long.json().code).toBe('VALIDATION_ERROR');
    expect(long.json().details.prompt[0]).toMatch(/8000/);

    const greedy = await client.post('/api/ai/generate/', { prompt: 'hi', maxTokens: 2_001 });
    expect(greedy.statusCode).toBe(400);
    expect(greedy.json().details).toHaveProperty('maxTokens');

    const blank = await client.post('/api/ai/generate/', { prompt: '   ' });
    expect(blank.statusCode).toBe(400);
    const unknown = await client.post('/api/ai/generate/', { prompt: 'hi', temperature: 2 });
    expect(unknown.statusCode).toBe(400);

    expect(h.stub.requests).toHaveLength(0);
    expect(await aiRows(h.t, user.id)).toHaveLength(0);
  });

  it('falls back to an estimate when the provider reports no usage', async () => {
    const { client, user } = await proUser(h.t);
    h.stub.behaviour.omitUsage = true;
    const res = await client.post('/api/ai/generate/', { prompt: 'abcdefgh', maxTokens: 20 });
    expect(res.statusCode).toBe(200);
    const usage = res.json().data.usage;
    expect(usage.totalTokens).toBeGreaterThan(0);
    const [row] = await aiRows(h.t, user.id);
    expect(row?.total_tokens).toBe(usage.totalTokens);
  });
});

describe('AI quota', () => {
  it('lets exactly the remaining requests through when twenty arrive at once', async () => {
    const { client, user } = await proUser(h.t);
    await seedUsage(h.t, user.id, { requests: 495, tokensEach: 1 });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => client.post('/api/ai/generate/', { prompt: 'hi', maxTokens: 5 })),
    );
    const statuses = results.map((res) => res.statusCode).sort();
    expect(statuses.filter((status) => status === 200)).toHaveLength(5);
    expect(statuses.filter((status) => status === 429)).toHaveLength(15);
    const refused = results.find((res) => res.statusCode === 429)!.json();
    expect(refused.code).toBe('AI_QUOTA_EXCEEDED');
    expect(h.stub.requests).toHaveLength(5);

    const rows = await aiRows(h.t, user.id);
    expect(rows.filter((row) => row.status !== 'failed')).toHaveLength(500);
    const status = await client.get('/api/billing/status/');
    expect(status.json().data.aiUsage.requests).toEqual({ used: 500, limit: 500 });
  });

  it('never lets parallel calls overshoot the token quota', async () => {
    const { client, user } = await proUser(h.t);
    // Each call reserves its bound: prompt bytes (2) + framing (16) + maxTokens (10) = 28.
    const reservation = 2 + 16 + 10;
    // The provider reports exactly that much, so the outcome does not depend on timing.
    h.stub.behaviour.tokens = Array.from({ length: 10 }, (_, i) => `t${i}`);
    h.stub.behaviour.promptTokens = 18;
    await seedUsage(h.t, user.id, { requests: 1, tokensEach: 500_000 - reservation * 4 - 5 });
    const results = await Promise.all(
      Array.from({ length: 20 }, () => client.post('/api/ai/generate/', { prompt: 'hi', maxTokens: 10 })),
    );
    expect(results.filter((res) => res.statusCode === 200)).toHaveLength(4);
    expect(results.filter((res) => res.statusCode === 429)).toHaveLength(16);
    const usage = (await client.get('/api/billing/status/')).json().data.aiUsage;
    expect(usage.tokens.limit).toBe(500_000);
    expect(usage.tokens.used).toBeLessThanOrEqual(500_000);
    expect(usage.tokens.used).toBe(500_000 - 5);
    expect(usage.requests.used).toBe(5);
  });

  it('says when the quota resets, from the subscription period', async () => {
    const periodEnd = new Date(Date.now() + 3 * 24 * 3600 * 1000);
    const { client, user } = await proUser(h.t, { periodEnd });
    await seedUsage(h.t, user.id, { requests: 500, tokensEach: 1 });
    const res = await client.post('/api/ai/generate/', { prompt: 'hi' });
    expect(res.statusCode).toBe(429);
    expect(res.json().error).toContain(periodEnd.toISOString());
    expect(res.json().links.resetsAt).toBe(periodEnd.toISOString());
    expect(h.stub.requests).toHaveLength(0);

    // Usage from before the period does not count.
    const other = await proUser(h.t, { periodEnd });
    await seedUsage(h.t, other.user.id, {
      requests: 500,
      tokensEach: 1,
      at: new Date(periodEnd.getTime() - 40 * 24 * 3600 * 1000),
    });
    expect((await other.client.post('/api/ai/generate/', { prompt: 'hi' })).statusCode).toBe(200);
  });

  it('shows usage against quota in the billing status (null on the free plan)', async () => {
    const free = await registered(h.t);
    expect((await free.client.get('/api/billing/status/')).json().data.aiUsage).toBeNull();

    const periodEnd = new Date(Date.now() + 10 * 24 * 3600 * 1000);
    const { client } = await proUser(h.t, { periodEnd });
    await client.post('/api/ai/generate/', { prompt: 'hi', maxTokens: 10 });
    const usage = (await client.get('/api/billing/status/')).json().data.aiUsage;
    expect(usage).toEqual({
      period: {
        start: billingPeriod({ currentPeriodEnd: periodEnd, interval: 'month' }).start.toISOString(),
        end: periodEnd.toISOString(),
      },
      requests: { used: 1, limit: 500 },
      tokens: { used: 16, limit: 500_000 },
    });
    const status = (await client.get('/api/ai/status/')).json().data;
    expect(status).toMatchObject({
      configured: true,
      model: 'stub-model',
      limits: { maxPromptChars: 8000, maxOutputTokens: 2000 },
      usage,
    });
  });
});

describe('AI history', () => {
  it("lists the caller's own requests only, newest first, a page at a time", async () => {
    const alice = await proUser(h.t);
    const bob = await proUser(h.t);
    for (const n of [1, 2, 3, 4, 5]) {
      expect((await alice.client.post('/api/ai/generate/', { prompt: `alice ${n}` })).statusCode).toBe(200);
    }
    await bob.client.post('/api/ai/generate/', { prompt: 'bob secret' });

    const first = (await alice.client.get('/api/ai/history/?limit=2')).json().data;
    expect(first.items.map((item: { prompt: string }) => item.prompt)).toEqual(['alice 5', 'alice 4']);
    expect(first.items[0]).toMatchObject({
      status: 'completed',
      output: 'Hello, world!',
      model: 'stub-model',
      system: null,
      usage: { totalTokens: 16 },
      errorCode: null,
    });
    const second = (await alice.client.get(`/api/ai/history/?limit=2&cursor=${first.nextCursor}`)).json()
      .data;
    expect(second.items.map((item: { prompt: string }) => item.prompt)).toEqual(['alice 3', 'alice 2']);
    const third = (await alice.client.get(`/api/ai/history/?limit=2&cursor=${second.nextCursor}`)).json()
      .data;
    expect(third.items.map((item: { prompt: string }) => item.prompt)).toEqual(['alice 1']);
    expect(third.nextCursor).toBeNull();

    // Bob sees his own only, even with Alice's cursor in hand.
    const bobs = (await bob.client.get('/api/ai/history/')).json().data;
    expect(bobs.items.map((item: { prompt: string }) => item.prompt)).toEqual(['bob secret']);
    const withAlicesCursor = (await bob.client.get(`/api/ai/history/?cursor=${first.nextCursor}`)).json()
      .data;
    expect(JSON.stringify(withAlicesCursor)).not.toContain('alice');
    const aliceAll = (await alice.client.get('/api/ai/history/?limit=100')).json().data;
    expect(JSON.stringify(aliceAll)).not.toContain('bob');

    expect((await new TestClient(h.t.app).get('/api/ai/history/')).statusCode).toBe(401);
    const forged = await alice.client.get('/api/ai/history/?cursor=not-a-cursor');
    expect(forged.statusCode).toBe(400);
    expect(forged.json().details).toHaveProperty('cursor');
  });
});

describe('AI API description', () => {
  it('publishes the AI routes in the OpenAPI document', async () => {
    const res = await h.t.app.inject({ method: 'GET', url: '/api/docs/json' });
    const paths = Object.keys(res.json().paths);
    expect(paths).toEqual(expect.arrayContaining(['/api/ai/generate', '/api/ai/history', '/api/ai/status']));
  });
});

describe('billing period', () => {
  it('is one interval back from the period end, rolling forward when the end has passed', () => {
    const now = new Date('2026-03-15T12:00:00Z');
    expect(
      billingPeriod({ currentPeriodEnd: new Date('2026-03-31T00:00:00Z'), interval: 'month' }, now),
    ).toEqual({
      start: new Date('2026-02-28T00:00:00Z'),
      end: new Date('2026-03-31T00:00:00Z'),
    });
    expect(
      billingPeriod({ currentPeriodEnd: new Date('2026-09-01T00:00:00Z'), interval: 'year' }, now),
    ).toEqual({
      start: new Date('2025-09-01T00:00:00Z'),
      end: new Date('2026-09-01T00:00:00Z'),
    });
    // The renewal has not reached us: the period still turns over on time.
    expect(
      billingPeriod({ currentPeriodEnd: new Date('2026-03-10T00:00:00Z'), interval: 'month' }, now),
    ).toEqual({
      start: new Date('2026-03-10T00:00:00Z'),
      end: new Date('2026-04-10T00:00:00Z'),
    });
    // Unknown: the calendar month (UTC).
    expect(billingPeriod(undefined, now)).toEqual({
      start: new Date('2026-03-01T00:00:00Z'),
      end: new Date('2026-04-01T00:00:00Z'),
    });
  });
});
