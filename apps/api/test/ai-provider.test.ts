import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type AiHarness,
  aiRows,
  browserHeaders,
  listen,
  parseSse,
  proUser,
  startAiHarness,
  waitForRows,
} from './ai.helpers.ts';

let h: AiHarness;
let origin: string;
beforeAll(async () => {
  h = await startAiHarness();
  origin = await listen(h.t);
});
afterAll(async () => h?.close());
beforeEach(() => h.stub.reset());

const usageOf = async (client: { get(url: string): Promise<{ json(): { data: { aiUsage: unknown } } }> }) =>
  (await client.get('/api/billing/status/')).json().data.aiUsage as {
    requests: { used: number };
    tokens: { used: number };
  };

describe('provider errors', () => {
  it('retries a 5xx within the bound and succeeds', async () => {
    const { client, user } = await proUser(h.t);
    h.stub.behaviour.failCount = 2;
    h.stub.behaviour.failStatus = 503;
    const res = await client.post('/api/ai/generate/', { prompt: 'hi' });
    expect(res.statusCode).toBe(200);
    expect(h.stub.requests).toHaveLength(3);
    const rows = await aiRows(h.t, user.id);
    expect(rows.map((row) => row.status)).toEqual(['completed']);
  });

  it('answers 502 AI_PROVIDER_ERROR after the retries run out, counting nothing', async () => {
    const { client, user } = await proUser(h.t);
    h.stub.behaviour.failCount = 10;
    h.stub.behaviour.failStatus = 500;
    const res = await client.post('/api/ai/generate/', { prompt: 'hi' });
    expect(res.statusCode).toBe(502);
    expect(res.json().code).toBe('AI_PROVIDER_ERROR');
    expect(res.json().error).not.toContain('stub failure');
    expect(h.stub.requests).toHaveLength(3); // the first attempt and AI_MAX_RETRIES=2
    const [row] = await aiRows(h.t, user.id);
    expect(row).toMatchObject({ status: 'failed', error_code: 'AI_PROVIDER_ERROR', total_tokens: 0 });
    expect(await usageOf(client)).toMatchObject({ requests: { used: 0 }, tokens: { used: 0 } });
    const history = (await client.get('/api/ai/history/')).json().data;
    expect(history.items[0]).toMatchObject({ status: 'failed', errorCode: 'AI_PROVIDER_ERROR' });
  });

  it('answers 503 AI_PROVIDER_UNAVAILABLE when the provider keeps rate-limiting us', async () => {
    const { client } = await proUser(h.t);
    h.stub.behaviour.failCount = 10;
    h.stub.behaviour.failStatus = 429;
    const res = await client.post('/api/ai/generate/', { prompt: 'hi' });
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('AI_PROVIDER_UNAVAILABLE');
    expect(h.stub.requests).toHaveLength(3);
  });

  it('does not wait out a Retry-After longer than the bound', async () => {
    const { client } = await proUser(h.t);
    h.stub.behaviour.failCount = 10;
    h.stub.behaviour.failStatus = 429;
    h.stub.behaviour.failHeaders = { 'retry-after': '120' };
    const started = Date.now();
    const res = await client.post('/api/ai/generate/', { prompt: 'hi' });
    expect(res.statusCode).toBe(503);
    expect(h.stub.requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('does not retry a request the provider rejects (4xx)', async () => {
    const { client, user } = await proUser(h.t);
    h.stub.behaviour.failCount = 10;
    h.stub.behaviour.failStatus = 400;
    const res = await client.post('/api/ai/generate/', { prompt: 'hi' });
    expect(res.statusCode).toBe(502);
    expect(h.stub.requests).toHaveLength(1);
    expect((await aiRows(h.t, user.id))[0]?.status).toBe('failed');
  });

  it('times out a slow provider, retries, then answers 503, counting nothing', async () => {
    const { client, user } = await proUser(h.t);
    h.stub.behaviour.delayMs = 1_000; // AI_TIMEOUT_MS is 400
    const res = await client.post('/api/ai/generate/', { prompt: 'hi' });
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('AI_PROVIDER_UNAVAILABLE');
    expect(h.stub.requests).toHaveLength(3);
    expect((await aiRows(h.t, user.id))[0]).toMatchObject({ status: 'failed', total_tokens: 0 });
    expect(await usageOf(client)).toMatchObject({ requests: { used: 0 } });
  });

  it('recovers when a slow provider answers on a retry', async () => {
    const { client } = await proUser(h.t);
    h.stub.behaviour.hang = true;
    const pending = client.post('/api/ai/generate/', { prompt: 'hi' });
    await h.stub.waitFor((requests) => requests.length === 1);
    h.stub.behaviour.hang = false;
    const res = await pending;
    expect(res.statusCode).toBe(200);
    expect(h.stub.requests[0]?.aborted).toBe(true);
  });
});

describe('a client that goes away', () => {
  it('cancels the provider request of a non-streamed call and records it as cancelled', async () => {
    const { client, user } = await proUser(h.t);
    h.stub.behaviour.hang = true;
    const abort = new AbortController();
    const call = fetch(`${origin}/api/ai/generate/`, {
      method: 'POST',
      headers: await browserHeaders(client),
      body: JSON.stringify({ prompt: 'never mind' }),
      signal: abort.signal,
    }).catch((error: unknown) => error);
    await h.stub.waitFor((requests) => requests.length === 1);
    abort.abort();
    await call;
    await h.stub.waitFor((requests) => requests[0]?.aborted === true);
    const [row] = await waitForRows(h.t, user.id, (rows) => rows[0]?.status !== 'pending');
    expect(row).toMatchObject({ status: 'cancelled', output: '', completion_tokens: 0 });
    // Cancelled, not retried.
    expect(h.stub.requests).toHaveLength(1);
  });
});

describe('streaming', () => {
  it('sends the answer token by token as server-sent events and records it', async () => {
    const { client, user } = await proUser(h.t);
    const res = await fetch(`${origin}/api/ai/generate/`, {
      method: 'POST',
      headers: await browserHeaders(client),
      body: JSON.stringify({ prompt: 'stream please', stream: true, maxTokens: 100 }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // The security headers the hooks set survive the hijack.
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const events = parseSse(await res.text());
    expect(events.map((event) => event.event)).toEqual(['start', 'delta', 'delta', 'delta', 'delta', 'done']);
    expect(
      events
        .filter((event) => event.event === 'delta')
        .map((event) => (event.data as { text: string }).text)
        .join(''),
    ).toBe('Hello, world!');
    const done = events.at(-1)?.data as { id: string; usage: unknown; finishReason: string };
    expect(done).toMatchObject({
      usage: { promptTokens: 12, completionTokens: 4, totalTokens: 16 },
      finishReason: 'stop',
    });
    expect(h.stub.requests[0]?.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });

    const rows = await waitForRows(h.t, user.id, (list) => list[0]?.status === 'completed');
    expect(rows[0]).toMatchObject({ id: done.id, output: 'Hello, world!', total_tokens: 16 });
  });

  it('refuses before the stream starts with a normal JSON error', async () => {
    const { client } = await proUser(h.t);
    h.stub.behaviour.failCount = 10;
    const res = await fetch(`${origin}/api/ai/generate/`, {
      method: 'POST',
      headers: await browserHeaders(client),
      body: JSON.stringify({ prompt: 'hi', stream: true }),
    });
    expect(res.status).toBe(502);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toMatchObject({ code: 'AI_PROVIDER_ERROR' });
  });

  it('cancels the upstream request when the client disconnects, keeping the partial output', async () => {
    const { client, user } = await proUser(h.t);
    h.stub.behaviour.tokens = Array.from({ length: 50 }, (_, i) => `w${i} `);
    h.stub.behaviour.tokenDelayMs = 30;
    const abort = new AbortController();
    const res = await fetch(`${origin}/api/ai/generate/`, {
      method: 'POST',
      headers: await browserHeaders(client),
      body: JSON.stringify({ prompt: 'a long answer', stream: true }),
      signal: abort.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('w2 ')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    abort.abort();

    // The provider saw its connection closed before the end.
    await h.stub.waitFor((requests) => requests[0]?.aborted === true);
    expect(h.stub.requests[0]?.finished).toBe(false);
    const [row] = await waitForRows(h.t, user.id, (rows) => rows[0]?.status !== 'pending');
    expect(row?.status).toBe('cancelled');
    expect(row?.output).toMatch(/^w0 w1 w2 /);
    expect(row?.output.length).toBeLessThan(50 * 4);
    // What was generated is counted (estimated: the provider never sent its usage).
    expect(row?.completion_tokens).toBeGreaterThanOrEqual(3);
    expect(row?.completion_tokens).toBeLessThan(50);
    const history = (await client.get('/api/ai/history/')).json().data;
    expect(history.items[0]).toMatchObject({ status: 'cancelled' });
  });

  it('ends with an error event when the provider dies midway, keeping the partial output and counting nothing', async () => {
    const { client, user } = await proUser(h.t);
    h.stub.behaviour.tokens = ['one ', 'two ', 'three ', 'four '];
    h.stub.behaviour.dropAfterTokens = 2;
    const res = await fetch(`${origin}/api/ai/generate/`, {
      method: 'POST',
      headers: await browserHeaders(client),
      body: JSON.stringify({ prompt: 'hi', stream: true }),
    });
    const events = parseSse(await res.text());
    expect(events.map((event) => event.event)).toEqual(['start', 'delta', 'delta', 'error']);
    expect(events.at(-1)?.data).toMatchObject({ code: expect.stringMatching(/^AI_PROVIDER_/) });
    const [row] = await waitForRows(h.t, user.id, (rows) => rows[0]?.status === 'failed');
    expect(row).toMatchObject({ output: 'one two ', total_tokens: 0 });
    expect(await usageOf(client)).toMatchObject({ requests: { used: 0 }, tokens: { used: 0 } });
  });

  it('gives up on a stream that stalls, with a timeout error', async () => {
    const { client, user } = await proUser(h.t);
    h.stub.behaviour.stallAfterTokens = 1;
    const res = await fetch(`${origin}/api/ai/generate/`, {
      method: 'POST',
      headers: await browserHeaders(client),
      body: JSON.stringify({ prompt: 'hi', stream: true }),
    });
    const events = parseSse(await res.text());
    expect(events.map((event) => event.event)).toEqual(['start', 'delta', 'error']);
    expect(events.at(-1)?.data).toMatchObject({ code: 'AI_PROVIDER_UNAVAILABLE' });
    await h.stub.waitFor((requests) => requests[0]?.aborted === true);
    const [row] = await waitForRows(h.t, user.id, (rows) => rows[0]?.status === 'failed');
    expect(row?.output).toBe('Hello');
  });
});
