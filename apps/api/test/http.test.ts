import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PROBE_REUSE_MS } from '../src/http/health.ts';
import { createTestApp, type TestApp, TestClient } from './helper.ts';

let t: TestApp;
const answer = async () => ({ success: true, data: null });

beforeAll(async () => {
  t = await createTestApp({
    routes: (app) => {
      app.post('/api/test/open', { config: { csrf: false } }, answer);
      app.post('/api/test/guarded', answer);
    },
  });
});
afterAll(async () => t?.close());

describe('HTTP layer', () => {
  it('answers an unknown path with the 404 envelope', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/nope/' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ success: false, error: 'Not found.', code: 'NOT_FOUND', status: 404 });
  });

  it('answers a known path with the wrong method with 405 and Allow', async () => {
    const client = new TestClient(t.app);
    const res = await client.request({ method: 'DELETE', url: '/api/csrf/' });
    expect(res.statusCode).toBe(405);
    expect(res.json()).toMatchObject({ success: false, code: 'METHOD_NOT_ALLOWED', status: 405 });
    expect(res.headers.allow).toContain('GET');
  });

  it('refuses unsafe methods without a matching CSRF token', async () => {
    const missing = await t.app.inject({ method: 'POST', url: '/api/csrf/' });
    expect(missing.statusCode).toBe(403);
    expect(missing.json()).toMatchObject({ code: 'CSRF_FAILED', status: 403 });
    const client = new TestClient(t.app);
    const token = await client.csrfToken();
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/csrf/',
      headers: { cookie: `csrftoken=${token}`, 'x-csrftoken': `${token.slice(0, -1)}x` },
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toMatchObject({ code: 'CSRF_FAILED' });
  });

  it('lets a route that declares `csrf: false` take no token, and only that route', async () => {
    for (const url of ['/api/test/open', '/api/test/open/']) {
      expect((await t.app.inject({ method: 'POST', url })).statusCode, url).toBe(200);
    }
    const guarded = await t.app.inject({ method: 'POST', url: '/api/test/guarded/' });
    expect(guarded.statusCode).toBe(403);
    expect(guarded.json()).toMatchObject({ code: 'CSRF_FAILED' });
    // Stripe's webhook declares it: an unsigned post is refused for its signature, not for CSRF.
    const webhook = await t.app.inject({ method: 'POST', url: '/api/stripe/webhook/', payload: {} });
    expect(webhook.json().code).not.toBe('CSRF_FAILED');
  });

  it('issues a CSRF cookie that scripts can read, with and without the trailing slash', async () => {
    for (const url of ['/api/csrf/', '/api/csrf']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      const cookie = res.cookies.find((c) => c.name === 'csrftoken');
      expect(cookie?.value).toBe(res.json().data.csrfToken);
      expect(cookie?.httpOnly).toBeFalsy();
      expect(cookie?.sameSite).toBe('Lax');
    }
  });

  it('sends the security headers and echoes a safe X-Request-ID', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/health/',
      headers: { 'x-request-id': 'abc-123' },
    });
    expect(res.headers['x-request-id']).toBe('abc-123');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    const unsafe = await t.app.inject({
      method: 'GET',
      url: '/health/',
      headers: { 'x-request-id': 'bad id\n' },
    });
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    // Error answers carry them too: a 404 and a refused (CSRF) POST.
    for (const answer of [
      await t.app.inject({ method: 'GET', url: '/api/no-such-route/' }),
      await t.app.inject({ method: 'POST', url: '/api/logout/' }),
    ]) {
      expect(answer.statusCode).toBeGreaterThanOrEqual(400);
      expect(answer.headers['x-frame-options']).toBe('DENY');
      expect(answer.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('answers a burst of health checks with one database probe, and probes again after a second', async () => {
    const ping = vi.spyOn(t.app.database, 'ping');
    try {
      // A fresh window: whatever earlier tests probed is older than the reuse time.
      await new Promise((resolve) => setTimeout(resolve, PROBE_REUSE_MS + 50));
      const answers = await Promise.all(
        Array.from({ length: 20 }, () => t.app.inject({ method: 'GET', url: '/health/ready' })),
      );
      expect(answers.map((answer) => answer.statusCode)).toEqual(Array(20).fill(200));
      expect(ping).toHaveBeenCalledTimes(1);
      // Waiting out the reuse time is the behaviour under test: the next check probes anew.
      await new Promise((resolve) => setTimeout(resolve, PROBE_REUSE_MS + 50));
      expect((await t.app.inject({ method: 'GET', url: '/health/' })).statusCode).toBe(200);
      expect(ping).toHaveBeenCalledTimes(2);
    } finally {
      ping.mockRestore();
    }
  });

  it('publishes OpenAPI at /api/docs', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
    expect(res.statusCode).toBe(200);
    expect(res.json().openapi).toMatch(/^3\./);
    expect(Object.keys(res.json().paths)).toContain('/api/csrf');
  });
});

describe('HTTP layer in production', () => {
  let prod: TestApp;
  beforeAll(async () => {
    prod = await createTestApp({
      env: {
        NODE_ENV: 'production',
        SECRET_KEY: 'a-production-secret-that-is-long-enough-0123456789',
        APP_URL: 'https://app.example.com',
        TRUSTED_PROXIES: '127.0.0.1',
        CORS_ORIGINS: 'https://www.example.com',
        STRIPE_EMULATOR: 'true',
      },
      routes: (app) => {
        app.get('/api/test/plain', { config: { httpsRedirect: false } }, answer);
      },
    });
  });
  afterAll(async () => prod?.close());

  it('serves plain HTTP to the routes that declare `httpsRedirect: false`: their own, health, metrics, the webhook', async () => {
    expect((await prod.app.inject({ method: 'GET', url: '/api/test/plain/' })).statusCode).toBe(200);
    for (const url of ['/health/live', '/health/ready', '/health/']) {
      expect((await prod.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    }
    // Not served in production without METRICS_TOKEN: 404, but not a redirect.
    expect((await prod.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
    const webhook = await prod.app.inject({ method: 'POST', url: '/api/stripe/webhook/', payload: {} });
    expect(webhook.statusCode).not.toBe(301);
    expect(webhook.json().code).not.toBe('CSRF_FAILED');
  });

  it('redirects plain HTTP to HTTPS, believing X-Forwarded-Proto only from a trusted proxy', async () => {
    const plain = await prod.app.inject({ method: 'GET', url: '/api/csrf/?a=1' });
    expect(plain.statusCode).toBe(301);
    expect(plain.headers.location).toBe('https://app.example.com/api/csrf/?a=1');
    const viaProxy = await prod.app.inject({
      method: 'GET',
      url: '/api/csrf/',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(viaProxy.statusCode).toBe(200);
    const spoofed = await prod.app.inject({
      method: 'GET',
      url: '/api/csrf/',
      remoteAddress: '203.0.113.9',
      headers: { 'x-forwarded-proto': 'https' },
    });
    expect(spoofed.statusCode).toBe(301);
    // Load balancers check health over plain HTTP.
    expect((await prod.app.inject({ method: 'GET', url: '/health/' })).statusCode).toBe(200);
  });

  it('sends HSTS for a year and lets only allow-listed origins in with credentials', async () => {
    const https = { 'x-forwarded-proto': 'https' };
    const allowed = await prod.app.inject({
      method: 'GET',
      url: '/api/csrf/',
      headers: { ...https, origin: 'https://www.example.com' },
    });
    expect(allowed.headers['strict-transport-security']).toContain('max-age=31536000');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://www.example.com');
    expect(allowed.headers['access-control-allow-credentials']).toBe('true');
    const other = await prod.app.inject({
      method: 'GET',
      url: '/api/csrf/',
      headers: { ...https, origin: 'https://evil.example' },
    });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('CORS in development', () => {
  let dev: TestApp;
  beforeAll(async () => {
    dev = await createTestApp({ env: { NODE_ENV: 'development' } });
  });
  afterAll(async () => dev?.close());

  it('reflects any origin with credentials, for the SPA on another port', async () => {
    const res = await dev.app.inject({
      method: 'OPTIONS',
      url: '/api/login/',
      headers: {
        origin: 'http://localhost:3000',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,x-csrftoken',
      },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(String(res.headers['access-control-allow-headers']).toLowerCase()).toContain('x-csrftoken');
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });
});
