import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, TestClient } from './helper.ts';
import { leakedSecrets, newEmail, registered, sessionCount, strongPassword } from './users.helpers.ts';

let t: TestApp;
beforeAll(async () => {
  // Small per-user and per-IP login budgets, so the limits are reached in a few requests.
  t = await createTestApp({
    env: { RATE_LIMIT_USER_PER_MINUTE: '8', RATE_LIMIT_LOGIN_PER_IP_PER_15_MINUTES: '8' },
    // Outside /api/ on purpose: what a route's config says decides, not its path.
    routes: (app) => {
      app.get('/custom/counted', async () => ({ success: true, data: null }));
      app.get('/api/custom/uncounted', { config: { limits: { perUser: false } } }, async () => ({
        success: true,
        data: null,
      }));
    },
  });
});
afterAll(async () => t?.close());

/** A login attempt from a given client IP. */
function loginFrom(app: TestApp, ip: string, body: { email: string; password: string }) {
  return new TestClient(app.app).request({
    method: 'POST',
    url: '/api/login/',
    payload: body,
    remoteAddress: ip,
  });
}

describe('login rate limit', () => {
  it('holds one IP to five attempts for an email, even with the right password, and no one else', async () => {
    const { email, password, user } = await registered(t);
    const attacker = '203.0.113.7';
    for (let attempt = 1; attempt <= 5; attempt++) {
      const res = await loginFrom(t, attacker, { email, password: strongPassword() });
      expect(res.statusCode, `attempt ${attempt}`).toBe(401);
    }
    // Counted by the normalized email: a change of case is the same counter.
    const sixth = await loginFrom(t, attacker, { email: email.toUpperCase(), password });
    expect(sixth.statusCode).toBe(429);
    expect(sixth.json()).toMatchObject({ success: false, code: 'RATE_LIMITED', status: 429 });
    const retryAfter = Number(sixth.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
    expect(sixth.cookies.find((c) => c.name.includes('session_token'))).toBeUndefined();
    expect(await sessionCount(t, user.id)).toBe(1);

    // The owner, from another address, is not locked out by the attacker's attempts.
    const owner = await loginFrom(t, '198.51.100.20', { email, password });
    expect(owner.statusCode).toBe(200);
    expect(await sessionCount(t, user.id)).toBe(2);

    // Another email from the attacker's address is its own counter (under the per-IP ceiling).
    const other = await registered(t);
    const res = await loginFrom(t, attacker, { email: other.email, password: other.password });
    expect(res.statusCode).toBe(200);
  });

  it('holds one IP to a ceiling of attempts across many emails', async () => {
    const sprayer = '203.0.113.99';
    // RATE_LIMIT_LOGIN_PER_IP_PER_15_MINUTES is 8 in this file: one password tried on 8 accounts.
    for (let attempt = 1; attempt <= 8; attempt++) {
      const res = await loginFrom(t, sprayer, { email: newEmail(), password: strongPassword() });
      expect(res.statusCode, `attempt ${attempt}`).toBe(401);
    }
    const { email, password } = await registered(t);
    const ninth = await loginFrom(t, sprayer, { email, password });
    expect(ninth.statusCode).toBe(429);
    expect(ninth.json().code).toBe('RATE_LIMITED');
    expect(Number(ninth.headers['retry-after'])).toBeGreaterThan(0);
    // Everyone else is unaffected.
    expect((await loginFrom(t, '198.51.100.21', { email, password })).statusCode).toBe(200);
  });

  it('does not count a request that fails validation', async () => {
    const email = newEmail();
    for (let attempt = 1; attempt <= 6; attempt++) {
      const res = await new TestClient(t.app).post('/api/login/', { email, password: 'x', extra: 1 });
      expect(res.statusCode).toBe(400);
    }
    const res = await new TestClient(t.app).post('/api/login/', { email, password: strongPassword() });
    expect(res.statusCode).toBe(401);
  });
});

describe('per-user API limit', () => {
  it('limits an authenticated user on /api/* and no one else', async () => {
    const { client } = await registered(t);
    const statuses: number[] = [];
    for (let i = 0; i < 9; i++) statuses.push((await client.get('/api/profile/')).statusCode);
    expect(statuses.slice(0, 8).every((status) => status === 200)).toBe(true);
    const limited = await client.get('/api/profile/');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();

    const other = await registered(t);
    expect((await other.client.get('/api/profile/')).statusCode).toBe(200);
  });

  it('counts the routes whose config does not opt out, whatever their path', async () => {
    const { client } = await registered(t);
    // Health, metrics and a route declaring `limits: { perUser: false }` never use up the budget.
    for (let i = 0; i < 9; i++) {
      for (const url of ['/health/ready', '/metrics', '/api/custom/uncounted/']) {
        expect((await client.get(url)).statusCode, url).toBe(200);
      }
    }
    expect((await client.get('/api/profile/')).statusCode).toBe(200);
    // A route that declares nothing is counted, outside /api/ too: 1 + 7 more reach the 8.
    for (let i = 0; i < 7; i++) expect((await client.get('/custom/counted')).statusCode).toBe(200);
    expect((await client.get('/custom/counted')).statusCode).toBe(429);
    expect((await client.get('/api/profile/')).statusCode).toBe(429);
  });
});

const redisUrl = process.env.REDIS_URL;
if (!redisUrl)
  console.warn('users-limits: REDIS_URL is unset, so the login limit shared across instances is not tested');

describe.skipIf(!redisUrl)('login rate limit across instances (Redis)', () => {
  let first: TestApp;
  let second: TestApp;
  beforeAll(async () => {
    const env = { REDIS_KEY_PREFIX: `tierbase-test:${randomBytes(6).toString('hex')}:` };
    first = await createTestApp({ env });
    second = await createTestApp({ env, database: first.database });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('counts attempts on both instances against one budget', async () => {
    const { email, password } = await registered(first);
    for (let attempt = 1; attempt <= 5; attempt++) {
      const app = attempt % 2 === 0 ? first : second;
      const res = await new TestClient(app.app).post('/api/login/', { email, password: strongPassword() });
      expect(res.statusCode, `attempt ${attempt}`).toBe(401);
    }
    const sixthOnFirst = await new TestClient(first.app).post('/api/login/', { email, password });
    expect(sixthOnFirst.statusCode).toBe(429);
    const sixthOnSecond = await new TestClient(second.app).post('/api/login/', { email, password });
    expect(sixthOnSecond.statusCode).toBe(429);
    expect(sixthOnSecond.headers['retry-after']).toBeDefined();
    expect(leakedSecrets(first)).toEqual([]);
    expect(leakedSecrets(second)).toEqual([]);
  });
});

describe('logs', () => {
  it('never contain the passwords, tokens, cookies or email addresses used', () => {
    expect(leakedSecrets(t)).toEqual([]);
  });
});
