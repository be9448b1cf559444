import fs from 'node:fs';
import http from 'node:http';
import { ErrorCode, errorEnvelopeSchema } from '@tierbase/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, freePort, type TestApp } from './helper.ts';
import {
  nginxUnavailableReason,
  type RunningNginx,
  rawRequest,
  SHIPPED_NGINX_CONF,
  startNginx,
} from './nginx.helpers.ts';

/** A stand-in instance where the API itself is not under test: records requests, answers `respond`. */
interface FakeInstance {
  address: string;
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function startFakeInstance(
  respond: (request: http.IncomingMessage) => { status: number; body: unknown },
): Promise<FakeInstance> {
  const requests: FakeInstance['requests'] = [];
  const server = http.createServer((request, response) => {
    requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    request.resume();
    request.on('end', () => {
      const { status, body } = respond(request);
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Status, headers and JSON body of a raw HTTP/1.1 response. */
function parseRaw(raw: string): { status: number; headers: string; body: unknown } {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), headers: head.toLowerCase(), body: JSON.parse(body) };
}

const expectEnvelope = (body: unknown, status: number, code: ErrorCode) => {
  const envelope = errorEnvelopeSchema.parse(body);
  expect(envelope).toMatchObject({ success: false, code, status });
};

const ok = { status: 200, body: { success: true, data: {} } };
const unavailable = {
  status: 503,
  body: { success: false, error: 'Unavailable: database.', code: 'SERVICE_UNAVAILABLE', status: 503 },
};

describe('deploy/nginx.conf, statically', () => {
  it("answers every status it handles itself with the API's error envelope", () => {
    const conf = fs.readFileSync(SHIPPED_NGINX_CONF, 'utf8');
    const handled = [...conf.matchAll(/error_page ([\d ]+) (\S+);/g)];
    expect(handled.length).toBeGreaterThan(0);
    for (const [, statuses = '', target = ''] of handled) {
      const location = conf.match(new RegExp(`location = ${target} \\{([\\s\\S]*?)\\n\\s*\\}\\n`))?.[1];
      expect(location, `location for ${target}`).toBeDefined();
      expect(location).toContain('internal;');
      expect(location).toContain('default_type application/json;');
      const [, returned, body] = location?.match(/return (\d+) '([^']*)';/) ?? [];
      const envelope = errorEnvelopeSchema.parse(JSON.parse(body ?? ''));
      expect(envelope.status).toBe(Number(returned));
      // 494 (headers too large) is nginx's internal name for a 400.
      for (const status of statuses.trim().split(' ').map(Number)) {
        expect([status, 400]).toContain(envelope.status);
      }
    }
    for (const status of [400, 413, 502, 503, 504]) {
      expect(handled.some(([, statuses]) => statuses?.split(' ').includes(String(status)))).toBe(true);
    }
  });
});

const skipReason = nginxUnavailableReason();
if (skipReason) console.warn(`deploy-nginx tests skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('the shipped deploy/nginx.conf in front of instances', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  const nginxFor = async (upstreams: string[]): Promise<RunningNginx> => {
    const nginx = await startNginx({ upstreams });
    cleanups.push(nginx.stop);
    return nginx;
  };
  const fake = async (respond: Parameters<typeof startFakeInstance>[0]) => {
    const instance = await startFakeInstance(respond);
    cleanups.push(instance.close);
    return instance;
  };

  it("sets X-Forwarded-For to the client's address: a client cannot choose its own rate-limit bucket", async () => {
    const api: TestApp = await createTestApp({
      env: { TRUSTED_PROXIES: '127.0.0.1', RATE_LIMIT_GLOBAL_PER_MINUTE: '3' },
      workers: false,
    });
    cleanups.push(api.close);
    const apiPort = await freePort();
    await api.app.listen({ port: apiPort, host: '127.0.0.1' });
    const nginx = await nginxFor([`127.0.0.1:${apiPort}`]);

    const statuses: number[] = [];
    let last: unknown;
    for (const fakeClient of ['203.0.113.1', '203.0.113.2', '203.0.113.3', '203.0.113.4']) {
      const response = await fetch(`${nginx.url}/api/csrf/`, { headers: { 'x-forwarded-for': fakeClient } });
      statuses.push(response.status);
      last = await response.json();
    }
    // All four count against the one real client address (the per-IP limit is 3 a minute).
    expect(statuses).toEqual([200, 200, 200, 429]);
    expectEnvelope(last, 429, ErrorCode.RATE_LIMITED);
  });

  it('keeps query strings (reset tokens) and the Referer out of its access log', async () => {
    const instance = await fake(() => ok);
    const nginx = await nginxFor([instance.address]);
    const token = `tok${'A'.repeat(40)}`;

    const response = await fetch(`${nginx.url}/reset-password?token=${token}`, {
      headers: { referer: `http://localhost/reset-password?token=${token}` },
    });
    expect(response.status).toBe(200);
    // The token reached the app (which needs it) …
    expect(instance.requests[0]?.url).toBe(`/reset-password?token=${token}`);
    // … but not the log, which still says what was requested.
    expect(await nginx.waitForAccessLog(1)).toEqual([
      expect.objectContaining({ method: 'GET', path: '/reset-password', status: 200, client: '127.0.0.0' }),
    ]);
    expect(nginx.output()).not.toContain(token);
  });

  it('answers with the JSON 502 envelope when no instance is up, and logs no token then either', async () => {
    const nginx = await nginxFor([`127.0.0.1:${await freePort()}`]);
    const token = `tok${'B'.repeat(40)}`;

    const response = await fetch(`${nginx.url}/reset-password?token=${token}`);
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('retry-after')).toBe('5');
    expectEnvelope(await response.json(), 502, ErrorCode.SERVICE_UNAVAILABLE);
    expect(await nginx.waitForAccessLog(1)).toEqual([
      expect.objectContaining({ path: '/reset-password', status: 502 }),
    ]);
    // nginx's error log would quote the request line, query string included.
    expect(nginx.output()).not.toContain(token);
  });

  it('answers an oversized body itself with the JSON 413 envelope', async () => {
    const instance = await fake(() => ok);
    const nginx = await nginxFor([instance.address]);

    const response = await fetch(`${nginx.url}/api/profile/`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(1024 * 1024) }),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get('content-type')).toBe('application/json');
    expectEnvelope(await response.json(), 413, ErrorCode.PAYLOAD_TOO_LARGE);
    expect(instance.requests).toEqual([]);
  });

  it("answers requests it cannot parse or serve with the API's envelope, never an HTML page", async () => {
    const instance = await fake(() => ok);
    const nginx = await nginxFor([instance.address]);
    const cases: [string, number, ErrorCode][] = [
      ['GET / HTTP/1.1\r\nHost: x\r\nNot a header\r\n\r\n', 400, ErrorCode.VALIDATION_ERROR],
      ['NONSENSE\r\n\r\n', 400, ErrorCode.VALIDATION_ERROR],
      [`GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414, ErrorCode.URI_TOO_LONG],
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(9000)}\r\n\r\n`, 400, ErrorCode.VALIDATION_ERROR],
      ['TRACE / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 405, ErrorCode.METHOD_NOT_ALLOWED],
      // The error pages themselves are internal.
      ['GET /_nginx_error/502 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 404, ErrorCode.NOT_FOUND],
    ];
    for (const [request, status, code] of cases) {
      const answer = parseRaw(await rawRequest(nginx.port, request));
      expect(answer.status, request.slice(0, 40)).toBe(status);
      expect(answer.headers).toContain('content-type: application/json');
      expectEnvelope(answer.body, status, code);
    }
    expect(instance.requests).toEqual([]);
  });

  it('retries a GET on the next instance when one answers 503', async () => {
    const draining = await fake(() => unavailable);
    const healthy = await fake(() => ok);
    const nginx = await nginxFor([draining.address, healthy.address]);

    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${nginx.url}/api/profile/`)).status);
    expect(statuses).toEqual([200, 200, 200, 200]);
    // The 503 really happened, and was retried.
    expect(draining.requests.length).toBeGreaterThan(0);
  });

  it('never retries a POST that reached an instance', async () => {
    const draining = await fake(() => unavailable);
    const healthy = await fake(() => ok);
    const nginx = await nginxFor([draining.address, healthy.address]);

    const answers = [];
    for (let i = 0; i < 2; i++) {
      const response = await fetch(`${nginx.url}/api/billing/checkout/`, { method: 'POST', body: '{}' });
      answers.push({ status: response.status, body: await response.json() });
    }
    // One went to each instance; the draining one's answer came back as it was.
    expect(answers.map((a) => a.status).sort()).toEqual([200, 503]);
    expect(answers.find((a) => a.status === 503)?.body).toEqual(unavailable.body);
    expect(draining.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
    expect(healthy.requests.filter((r) => r.method === 'POST')).toHaveLength(1);
  });

  it("passes the health checks through: the instance's answer, 503 included, not nginx's", async () => {
    const instance = await fake((request) => (request.url === '/health/ready' ? unavailable : ok));
    const nginx = await nginxFor([instance.address]);

    const live = await fetch(`${nginx.url}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual(ok.body);
    const ready = await fetch(`${nginx.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual(unavailable.body);
    expect(instance.requests.map((r) => r.url)).toEqual(['/health/live', '/health/ready']);
    // The instance sees the client's address and the request id nginx logs.
    expect(instance.requests[0]?.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(instance.requests[0]?.headers['x-request-id']).toBe(
      (await nginx.waitForAccessLog(1))[0]?.request_id,
    );
  });

  it('sends every location the same forwarding headers (the streaming one included)', async () => {
    const instance = await fake(() => ok);
    const nginx = await nginxFor([instance.address]);
    for (const path of ['/api/profile/', '/api/ai/chat/stream/']) {
      await fetch(`${nginx.url}${path}`, { headers: { 'x-forwarded-for': '203.0.113.1' } });
    }
    for (const request of instance.requests) {
      expect(request.headers, request.url).toMatchObject({
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-proto': 'https',
        'x-request-id': expect.stringMatching(/^[0-9a-f]{32}$/),
      });
    }
    expect(instance.requests).toHaveLength(2);
  });
});
