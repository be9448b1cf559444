/**
 * The rate-limit counters (http/rate-limit.ts): several limits count in one store call, in order,
 * and the first one exceeded ends the count, as if each had been checked alone. Then the app-wide
 * limits as a signed-in caller meets them: per IP and per user, counted together.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryRateLimitStore, type RateLimitStore, redisRateLimitStore } from '../src/http/rate-limit.ts';
import { createTestApp, type TestApp, TestClient } from './helper.ts';
import { registered } from './users.helpers.ts';

const redisUrl = process.env.REDIS_URL;
if (!redisUrl) console.warn('rate-limit: REDIS_URL is unset, so the Redis counters are not tested');

function storeContract(name: string, makeStore: () => RateLimitStore) {
  describe(name, () => {
    it('counts each counter in order and stops after the first one over its max', async () => {
      const store = makeStore();
      const id = randomBytes(4).toString('hex');
      const first = { key: `a:${id}`, max: 2, windowMs: 60_000 };
      const second = { key: `b:${id}`, max: 10, windowMs: 30_000 };
      expect((await store.hit([first, second])).map((s) => s.current)).toEqual([1, 1]);
      expect((await store.hit([first, second])).map((s) => s.current)).toEqual([2, 2]);
      // The first is over its max: the second is not counted.
      const refused = await store.hit([first, second]);
      expect(refused.map((s) => s.current)).toEqual([3]);
      expect(refused[0]?.ttlMs).toBeGreaterThan(0);
      expect(refused[0]?.ttlMs).toBeLessThanOrEqual(60_000);
      const alone = await store.hit([second]);
      expect(alone.map((s) => s.current)).toEqual([3]);
      expect(alone[0]?.ttlMs).toBeLessThanOrEqual(30_000);
    });

    it('counts hits sent together as if sent one after another', async () => {
      const store = makeStore();
      const id = randomBytes(4).toString('hex');
      const first = { key: `a:${id}`, max: 3, windowMs: 60_000 };
      const second = { key: `b:${id}`, max: 10, windowMs: 60_000 };
      const together = await Promise.all(Array.from({ length: 5 }, () => store.hit([first, second])));
      // Each hit has its own place on the first counter; the two over its max stop there.
      expect(together.map((states) => states[0]?.current).sort()).toEqual([1, 2, 3, 4, 5]);
      const passed = together.filter((states) => states.length === 2);
      expect(passed.map((states) => states[0]?.current).sort()).toEqual([1, 2, 3]);
      expect(passed.map((states) => states[1]?.current).sort()).toEqual([1, 2, 3]);
      for (const states of together) expect(states[0]?.ttlMs).toBeGreaterThan(0);
      // The refused two cost the second counter nothing.
      expect((await store.hit([second])).map((s) => s.current)).toEqual([4]);
    });
  });
}

storeContract('memory counters', () => memoryRateLimitStore());

describe.skipIf(!redisUrl)('Redis counters', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(redisUrl ?? '', { maxRetriesPerRequest: 1 });
  });
  afterAll(() => redis?.disconnect());
  storeContract('one script call', () =>
    redisRateLimitStore(redis, `tierbase-test:${randomBytes(6).toString('hex')}:rl:`),
  );

  it('sends the hits of one turn on the same counters as one call, and others apart', async () => {
    // Its own connection, so the commands counted are this test's alone.
    const own = new Redis(redisUrl ?? '', { maxRetriesPerRequest: 1 });
    try {
      const store = redisRateLimitStore(own, `tierbase-test:${randomBytes(6).toString('hex')}:rl:`);
      await store.hit([{ key: 'warm', max: 1, windowMs: 1000 }]); // loads the script
      const sent: string[] = [];
      const sendCommand = own.sendCommand.bind(own);
      own.sendCommand = (command, stream) => {
        sent.push(command.name);
        return sendCommand(command, stream);
      };
      const flood = { key: 'ip:flood', max: 100, windowMs: 60_000 };
      const other = { key: 'ip:other', max: 100, windowMs: 60_000 };
      const states = await Promise.all([
        ...Array.from({ length: 20 }, () => store.hit([flood])),
        store.hit([other]),
      ]);
      expect(sent).toEqual(['evalsha', 'evalsha']);
      expect(
        states
          .slice(0, 20)
          .map((s) => s[0]?.current)
          .sort((a, b) => (a ?? 0) - (b ?? 0)),
      ).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(states[20]?.[0]?.current).toBe(1);
    } finally {
      own.disconnect();
    }
  });
});

describe('memory counters: windows', () => {
  it('start a new window once the last one has passed', async () => {
    let now = 1_000_000;
    const store = memoryRateLimitStore(10, () => now);
    const counter = { key: 'k', max: 1, windowMs: 1000 };
    await store.hit([counter]);
    now += 400;
    expect(await store.hit([counter])).toEqual([{ current: 2, ttlMs: 600 }]);
    now += 600;
    expect(await store.hit([counter])).toEqual([{ current: 1, ttlMs: 1000 }]);
  });
});

describe('app-wide limits for a signed-in caller', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: { RATE_LIMIT_GLOBAL_PER_MINUTE: '20', RATE_LIMIT_USER_PER_MINUTE: '25' },
    });
  });
  afterAll(async () => t?.close());

  it('counts per IP and per user, and a request the IP limit refuses uses none of the user budget', async () => {
    // Signed up from 127.0.0.1, inject's default address.
    const { client } = await registered(t);
    const from = (remoteAddress: string) =>
      client.request({ method: 'GET', url: '/api/profile/', remoteAddress });
    const flooder = '203.0.113.50';
    for (let i = 1; i <= 20; i++) expect((await from(flooder)).statusCode, `request ${i}`).toBe(200);
    for (let i = 0; i < 30; i++) {
      const refused = await from(flooder);
      expect(refused.statusCode).toBe(429);
      expect(refused.json()).toMatchObject({ success: false, code: 'RATE_LIMITED', status: 429 });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    }
    // The same address without a session is the same per-IP counter.
    const anonymous = await new TestClient(t.app).request({
      method: 'GET',
      url: '/api/profile/',
      remoteAddress: flooder,
    });
    expect(anonymous.statusCode).toBe(429);
    // From elsewhere the user is served: the 30 refused requests did not count against them.
    expect((await from('198.51.100.7')).statusCode).toBe(200);
  });

  it('answers health probes however often, and they use none of the address budget', async () => {
    const prober = '203.0.113.60';
    const probe = (url: string) =>
      new TestClient(t.app).request({ method: 'GET', url, remoteAddress: prober });
    for (let i = 0; i < 15; i++) {
      for (const url of ['/health/', '/health/ready', '/health/live']) {
        expect((await probe(url)).statusCode, `${url} #${i + 1}`).toBe(200);
      }
    }
    // 45 probes, and the address still has its whole per-IP budget (20) for the API.
    const csrf = () => probe('/api/csrf/');
    for (let i = 1; i <= 20; i++) expect((await csrf()).statusCode, `request ${i}`).toBe(200);
    expect((await csrf()).statusCode).toBe(429);
  });
});
