import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp, TestClient } from './helper.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
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
  });

  it('publishes OpenAPI at /api/docs', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
    expect(res.statusCode).toBe(200);
    expect(res.json().openapi).toMatch(/^3\./);
    expect(Object.keys(res.json().paths)).toContain('/api/csrf');
  });
});
