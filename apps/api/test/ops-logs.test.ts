import { randomBytes } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestApp, type TestApp, TestClient } from './helper.ts';

/**
 * What operators can read must not leak what users trust us with: drive the account flows
 * through the public API, then search every captured log line for the secrets involved.
 */
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

const EMAIL_ADDRESS = /[A-Z0-9._%+-]+@[A-Z0-9.-]+\.[A-Z]{2,}/i;

interface LogLine {
  msg?: string;
  reqId?: string;
  req?: { method: string; path: string; requestId: string };
  res?: { statusCode: number };
}

/** Every secret value a request or response carried, and the pieces a logger might print alone. */
class Secrets {
  readonly values = new Set<string>();
  add(value: string | undefined): void {
    if (!value) return;
    this.values.add(value);
    this.values.add(encodeURIComponent(value));
    // Signed cookies and JWTs are dot-separated: each part is secret on its own, except a JWT's
    // header, which is the same for every token.
    for (const part of value.split('.')) {
      if (part.length >= 12 && !part.startsWith('eyJhbGci')) this.values.add(part);
    }
  }
  fromResponse(response: LightMyRequestResponse): void {
    for (const cookie of response.cookies) this.add(cookie.value);
  }
}

/** Tokens in the links of the emails sent to an address, read from the outbox as from an inbox. */
async function emailedTokens(address: string): Promise<string[]> {
  const rows = await t.app.database.query<{ text: string; html: string }>(
    'select text, html from email_outbox where lower(to_address) = lower($1)',
    [address],
  );
  return rows.flatMap((row) =>
    [...`${row.text}\n${row.html}`.matchAll(/[#?&]token=([^\s&"'<>)]+)/g)].map((match) =>
      decodeURIComponent(match[1] ?? ''),
    ),
  );
}

describe('log hygiene', () => {
  it('logs no password, token, cookie or email address, and tags every request line with its id', async () => {
    const secrets = new Secrets();
    const suffix = randomBytes(4).toString('hex');
    const email = `Log.Hygiene.${suffix}@Example.com`;
    const password = `Tb-${randomBytes(12).toString('base64url')}-9x`;
    const wrongPassword = `Wrong-${randomBytes(12).toString('base64url')}`;
    for (const value of [email, email.toLowerCase(), password, wrongPassword]) secrets.add(value);

    const responses: LightMyRequestResponse[] = [];
    const send = async (client: TestClient, method: 'GET' | 'POST', url: string, payload?: object) => {
      const response = await client.request({ method, url, ...(payload ? { payload } : {}) });
      secrets.fromResponse(response);
      responses.push(response);
      return response;
    };

    const user = new TestClient(t.app);
    expect(
      (await send(user, 'POST', '/api/register/', { email, password, name: 'Log Hygiene' })).statusCode,
    ).toBe(202);

    const stranger = new TestClient(t.app);
    const wrong = await send(stranger, 'POST', '/api/login/', { email, password: wrongPassword });
    expect(wrong.statusCode).toBe(401);
    expect((await send(stranger, 'POST', '/api/login/', { email, password })).statusCode).toBe(200);
    expect((await send(stranger, 'GET', '/api/profile/')).statusCode).toBe(200);
    const reset = await send(new TestClient(t.app), 'POST', '/api/password-reset/', { email });
    expect(reset.statusCode).toBe(200);
    expect((await send(stranger, 'POST', '/api/logout/')).statusCode).toBe(200);

    // The verification and reset emails carry tokens; wait for the reset one to be written.
    const tokens = await vi.waitFor(
      async () => {
        const found = await emailedTokens(email);
        expect(found.length).toBeGreaterThanOrEqual(2);
        return found;
      },
      { timeout: 5000, interval: 100 },
    );
    for (const token of tokens) secrets.add(token);
    for (const client of [user, stranger]) for (const value of client.cookies.values()) secrets.add(value);

    const text = t.logs.text;
    expect(text.length).toBeGreaterThan(0);
    const leaked = [...secrets.values].filter((value) => text.includes(value));
    expect(leaked).toEqual([]);
    expect(text).not.toMatch(EMAIL_ADDRESS);
    expect(text).not.toMatch(/password"\s*:\s*"(?!\[redacted\])/i);

    // Each request's log lines carry its id, the same one the caller got in X-Request-ID.
    const lines = t.logs.lines.map((line) => JSON.parse(line) as LogLine);
    const requestLines = lines.filter((line) => line.req || line.res);
    expect(requestLines.length).toBeGreaterThanOrEqual(responses.length);
    for (const line of requestLines) {
      expect(line.reqId, JSON.stringify(line)).toMatch(/^[A-Za-z0-9._:-]{8,}$/);
      if (line.req) expect(line.req.requestId).toBe(line.reqId);
    }
    for (const response of responses) {
      const id = response.headers['x-request-id'];
      expect(typeof id).toBe('string');
      const completed = requestLines.find((line) => line.reqId === id && line.res);
      expect(completed?.res?.statusCode).toBe(response.statusCode);
    }
  });
});
