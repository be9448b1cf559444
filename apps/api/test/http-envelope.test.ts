import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PAGE_PATHS } from '@tierbase/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, freePort, sleep, type TestApp, waitFor } from './helper.ts';

/*
 * Answers Fastify itself would give outside the envelope (router limits, draining), and the SPA's
 * fallback, which must tell a missing page from a real one.
 */

const ENVELOPE_KEYS = ['code', 'error', 'status', 'success'];

let t: TestApp;
let webRoot: string;
beforeAll(async () => {
  // The SPA's real shell (apps/web/index.html), served from a folder as the built app would be.
  webRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'tierbase-web-'));
  fs.copyFileSync(fileURLToPath(new URL('../../web/index.html', import.meta.url)), `${webRoot}/index.html`);
  fs.mkdirSync(`${webRoot}/assets`);
  fs.writeFileSync(`${webRoot}/assets/app-abc123.js`, 'console.log(1);\n');
  t = await createTestApp({ webRoot });
});
afterAll(async () => {
  await t?.close();
  if (webRoot) fs.rmSync(webRoot, { recursive: true, force: true });
});

describe("the router's own refusals", () => {
  it('answers a path parameter over 100 characters with 414 in the envelope', async () => {
    const res = await t.app.inject({ method: 'POST', url: `/api/admin/emails/${'a'.repeat(101)}/retry/` });
    expect(res.statusCode).toBe(414);
    expect(res.headers['content-type']).toContain('application/json');
    expect(Object.keys(res.json()).sort()).toEqual(ENVELOPE_KEYS);
    expect(res.json()).toMatchObject({ success: false, code: 'URI_TOO_LONG', status: 414 });
    expect(res.headers['x-request-id']).toBeTruthy();
    // At the limit the route itself answers (here: not signed in, so no CSRF token).
    const atLimit = await t.app.inject({
      method: 'POST',
      url: `/api/admin/emails/${'a'.repeat(100)}/retry/`,
    });
    expect(atLimit.json()).toMatchObject({ success: false, code: 'CSRF_FAILED' });
  });

  it('answers a path parameter that is not UTF-8 with 400 in the envelope', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/emails/a%FFb/retry/' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      success: false,
      error: 'The URL is not valid.',
      code: 'VALIDATION_ERROR',
      status: 400,
    });
  });
});

describe("what Node's HTTP parser refuses", () => {
  /** Sends raw bytes and returns what came back before the server closed the connection. */
  async function exchange(port: number, request: string) {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write(request);
    await once(socket, 'close');
    const [head = '', body = ''] = Buffer.concat(chunks).toString('utf8').split('\r\n\r\n');
    return { head, body: JSON.parse(body) as unknown };
  }

  it('answers a malformed request and oversized headers in the envelope', async () => {
    const port = await freePort();
    await t.app.listen({ port, host: '127.0.0.1' });
    const malformed = await exchange(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(malformed.head).toMatch(/^HTTP\/1\.1 400 /);
    expect(malformed.body).toEqual({
      success: false,
      error: 'The request is not valid HTTP.',
      code: 'VALIDATION_ERROR',
      status: 400,
    });
    const oversized = await exchange(
      port,
      `GET /api/csrf/ HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(oversized.head).toMatch(/^HTTP\/1\.1 431 /);
    expect(oversized.body).toMatchObject({ success: false, code: 'PAYLOAD_TOO_LARGE', status: 431 });
  });
});

describe('a server that is shutting down', () => {
  it('answers a request arriving while close() drains with 503, Retry-After and the envelope', async () => {
    const draining = await createTestApp({ workers: false });
    const port = await freePort();
    await draining.app.listen({ port, host: '127.0.0.1' });
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // Half a request: the connection is busy, so close() waits for it instead of dropping it idle.
    socket.write('GET /api/csrf/ HTTP/1.1\r\nHost: localhost\r\n');
    // A fixed pause on purpose: the half request reaches the server before close() (nothing
    // observable says it has been read).
    await sleep(100);
    const closed = draining.app.close();
    await waitFor(() => !draining.app.server.listening);
    // The rest of the request arrives once the server has stopped accepting and is draining.
    socket.write('\r\n');
    await once(socket, 'end');
    await closed;
    await draining.database.drop();

    const [head = '', body = ''] = Buffer.concat(chunks).toString('utf8').split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 503 /);
    expect(head.toLowerCase()).toContain('retry-after: 5');
    expect(head.toLowerCase()).toContain('connection: close');
    expect(head.toLowerCase()).toContain('content-type: application/json');
    expect(JSON.parse(body)).toEqual({
      success: false,
      error: 'The server is shutting down. Try again.',
      code: 'SERVICE_UNAVAILABLE',
      status: 503,
    });
  });
});

describe('the SPA fallback', () => {
  it('answers an unknown page with 404, still serving the app so it shows its Not Found page', async () => {
    for (const url of ['/no-such-page', '/pricing/extra', '/settings/../nope', '/admin/nope']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.body).toContain('<div id="root"></div>');
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('answers every page of the router with 200, with or without a trailing slash', async () => {
    for (const page of PAGE_PATHS) {
      for (const url of [page, `${page}/`.replace('//', '/'), `${page}?next=%2Fpro`]) {
        const res = await t.app.inject({ method: 'GET', url });
        expect(res.statusCode, url).toBe(200);
        expect(res.body).toContain('<div id="root"></div>');
      }
    }
  });

  it('keeps the JSON envelope for unknown API paths and missing assets', async () => {
    for (const url of ['/api/unknown', '/api/unknown/', '/assets/app-old999.js']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toEqual({ success: false, error: 'Not found.', code: 'NOT_FOUND', status: 404 });
    }
    const asset = await t.app.inject({ method: 'GET', url: '/assets/app-abc123.js' });
    expect(asset.statusCode).toBe(200);
  });
});
