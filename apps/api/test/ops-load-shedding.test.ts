import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, type TestApp } from './helper.ts';

/** Holds the event loop, as a CPU-bound request or a long GC pause would. */
function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: nothing else in this process runs meanwhile
  }
}

// In a file of its own: blocking the loop here must not trip another test's app.
describe('load shedding (@fastify/under-pressure)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ workers: false, env: { MAX_EVENT_LOOP_DELAY_MS: '1' } });
  });
  afterAll(async () => t?.close());

  it('answers 503 in the envelope with Retry-After while the event loop lags; liveness and /metrics still answer', async () => {
    // Longer than the 1 s sampling interval, so the next sample sees the delay.
    blockEventLoop(1500);
    // The sampler's timer runs once the loop is free again; well before its next sample clears it.
    const shed = await vi.waitFor(
      async () => {
        const response = await t.app.inject({ method: 'GET', url: '/api/billing/plans/' });
        expect(response.statusCode).toBe(503);
        return response;
      },
      { timeout: 500, interval: 10 },
    );
    expect(shed.headers['retry-after']).toBe('5');
    expect(shed.headers['x-request-id']).toBeTruthy();
    expect(shed.json()).toEqual({
      success: false,
      error: 'The server is busy. Try again shortly.',
      code: 'SERVICE_UNAVAILABLE',
      status: 503,
    });
    const live = await t.app.inject({ method: 'GET', url: '/health/live' });
    expect(live.statusCode).toBe(200);
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toMatch(/http_request_duration_seconds_count\{[^}]*status_code="503"/);
  });

  it('is off with every limit at 0', async () => {
    const off = await createTestApp({
      workers: false,
      env: { MAX_EVENT_LOOP_DELAY_MS: '0', MAX_HEAP_USED_BYTES: '0', MAX_RSS_BYTES: '0' },
    });
    try {
      expect(off.app.hasDecorator('isUnderPressure')).toBe(false);
    } finally {
      await off.close();
    }
  });

  it('sheds on heap use over its limit too', async () => {
    const heavy = await createTestApp({
      workers: false,
      env: { MAX_EVENT_LOOP_DELAY_MS: '0', MAX_HEAP_USED_BYTES: '1' },
    });
    try {
      // The first sample is taken one interval (1 s) after start.
      const shed = await vi.waitFor(
        async () => {
          const response = await heavy.app.inject({ method: 'GET', url: '/api/billing/plans/' });
          expect(response.statusCode).toBe(503);
          return response;
        },
        { timeout: 3000, interval: 100 },
      );
      expect(shed.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
      expect((await heavy.app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    } finally {
      await heavy.close();
    }
  });
});
