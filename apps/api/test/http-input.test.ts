import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../src/db/schema/index.ts';
import { makePro } from './ai.helpers.ts';
import { type BillingHarness, signUp, startBillingHarness } from './billing-harness.ts';
import type { TestClient } from './helper.ts';
import { type OpenAiStub, startOpenAiStub } from './openai-stub-server.ts';

/*
 * Input PostgreSQL cannot store or compare (NUL, lone UTF-16 surrogates, timestamps out of its
 * range) is refused by the shared validation layer with 400 and the envelope, on every route that
 * takes string input, instead of reaching the database and failing there with a 500.
 */

let h: BillingHarness;
let stub: OpenAiStub;
let user: TestClient;
let pro: TestClient;
let staff: TestClient;

beforeAll(async () => {
  stub = await startOpenAiStub();
  h = await startBillingHarness({
    env: { OPENAI_API_KEY: 'sk-test-stub-key', OPENAI_BASE_URL: stub.baseUrl, AI_MODEL: 'stub-model' },
  });
  user = (await signUp(h.t)).client;
  const proAccount = await signUp(h.t);
  await makePro(h.t, proAccount.userId);
  pro = proAccount.client;
  const staffAccount = await signUp(h.t, `staff-${randomBytes(3).toString('hex')}@example.com`);
  await h.t.app.database.db.update(users).set({ isStaff: true }).where(eq(users.id, staffAccount.userId));
  await h.t.app.sessions.invalidateUser(staffAccount.userId);
  staff = staffAccount.client;
});
afterAll(async () => {
  await h?.close();
  await stub?.close();
});

/** base64url of the JSON [createdAt, id] pair, the shape of the cursors the API hands out. */
const cursorOf = (createdAt: string, id: string) =>
  Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');

// Bodies are written by hand: JSON.stringify would never produce a lone surrogate escape.
type Case = [
  name: string,
  who: () => TestClient | undefined,
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  body?: string,
];

const cases: Case[] = [
  // Bodies: a NUL and a lone surrogate, as JSON escapes, in each kind of string field.
  [
    'reset-confirm token with NUL',
    () => undefined,
    'POST',
    '/api/password-reset/confirm/',
    '{"token":"abc\\u0000def","password":"Tb-long-enough-password-9x"}',
  ],
  [
    'reset-confirm token with a lone surrogate',
    () => undefined,
    'POST',
    '/api/password-reset/confirm/',
    '{"token":"abc\\ud800def","password":"Tb-long-enough-password-9x"}',
  ],
  ['verify-email token with NUL', () => undefined, 'POST', '/api/verify-email/', '{"token":"a\\u0000b"}'],
  ['profile name with NUL', () => user, 'PATCH', '/api/profile/', '{"name":"Ada\\u0000Lovelace"}'],
  ['profile name with a lone surrogate', () => user, 'PATCH', '/api/profile/', '{"name":"Ada \\udc00"}'],
  [
    'login email with NUL',
    () => undefined,
    'POST',
    '/api/login/',
    '{"email":"a\\u0000@example.com","password":"x"}',
  ],
  [
    'register name with a lone surrogate',
    () => undefined,
    'POST',
    '/api/register/',
    '{"email":"new@example.com","password":"Tb-long-enough-password-9x","name":"\\ud83d"}',
  ],
  ['AI prompt with NUL', () => pro, 'POST', '/api/ai/generate/', '{"prompt":"Hello\\u0000world"}'],
  [
    'AI system with a lone surrogate',
    () => pro,
    'POST',
    '/api/ai/generate/',
    '{"prompt":"Hi","system":"\\udfff"}',
  ],
  [
    'checkout plan with NUL',
    () => user,
    'POST',
    '/api/billing/checkout/',
    '{"plan":"pro\\u0000","interval":"month"}',
  ],
  ['sync session id with NUL', () => user, 'POST', '/api/billing/sync/', '{"sessionId":"cs_\\u0000"}'],
  [
    'password change with a lone surrogate',
    () => user,
    'POST',
    '/api/password-change/',
    '{"currentPassword":"x","newPassword":"Tb-long-enough-\\ud800-password"}',
  ],
  // Query strings and path parameters, percent-encoded.
  ['dev outbox recipient with NUL', () => undefined, 'GET', '/dev/mail/messages/?to=a%00@example.com'],
  ['admin search with NUL', () => staff, 'GET', '/api/admin/users/?search=ada%00'],
  ['admin replay event id with NUL', () => staff, 'POST', '/api/admin/webhook-events/evt_%00/replay/'],
  ['admin email retry id with NUL', () => staff, 'POST', '/api/admin/emails/a%00b/retry/'],
  ['invoices cursor with NUL', () => user, 'GET', '/api/invoices/?startingAfter=in_%00'],
  // Cursors: well-formed, but out of PostgreSQL's range, not a date at all, or hiding a NUL.
  [
    'AI history cursor in year 275760',
    () => pro,
    'GET',
    `/api/ai/history/?cursor=${cursorOf('+275760-09-13T00:00:00.000Z', 'x')}`,
  ],
  [
    'AI history cursor with a NUL in its id',
    () => pro,
    'GET',
    `/api/ai/history/?cursor=${cursorOf(new Date().toISOString(), 'a\u0000b')}`,
  ],
  [
    'AI history cursor that is no date',
    () => pro,
    'GET',
    `/api/ai/history/?cursor=${cursorOf('1e999', 'x')}`,
  ],
  [
    'admin users cursor in year 275760',
    () => staff,
    'GET',
    `/api/admin/users/?cursor=${encodeURIComponent(cursorOf('+275760-09-13T00:00:00.000Z', 'x'))}`,
  ],
  [
    'admin users cursor in the old "<date>|<id>" form, out of range',
    () => staff,
    'GET',
    `/api/admin/users/?cursor=${encodeURIComponent('-271821-04-20T00:00:00.000Z|x')}`,
  ],
  ['invoices cursor that is no invoice id', () => user, 'GET', '/api/invoices/?startingAfter=%22%3B--'],
];

describe('bad input is refused before the database sees it', () => {
  it.each(cases)('%s → 400 in the envelope', async (_name, who, method, url, body) => {
    const client = who();
    const headers: Record<string, string> = body ? { 'content-type': 'application/json' } : {};
    const res = client
      ? await client.request({ method, url, headers, ...(body ? { payload: body } : {}) })
      : await h.t.app.inject({
          method,
          url,
          headers: { ...headers, ...(await csrfHeaders()) },
          ...(body ? { payload: body } : {}),
        });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toContain('application/json');
    const json = res.json();
    expect(json).toMatchObject({ success: false, code: 'VALIDATION_ERROR', status: 400 });
    expect(typeof json.error).toBe('string');
    // The fields at fault are named.
    expect(Object.keys(json.details ?? {}).length).toBeGreaterThan(0);
  });

  it('refuses a header value with NUL (a user agent is recorded with the session)', async () => {
    const { email } = await signUp(h.t);
    const res = await h.t.app.inject({
      method: 'POST',
      url: '/api/login/',
      headers: { ...(await csrfHeaders()), 'user-agent': 'Mozilla\u0000/5.0' },
      payload: { email, password: 'correct horse battery staple 9' },
    });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { 'headers.user-agent': [expect.any(String)] },
    });
  });

  it('still accepts the text people type: accents, emoji, CJK, and the cursors the API gave out', async () => {
    const named = await user.patch('/api/profile/', { name: 'Zoë 😀 李' });
    expect(named.statusCode).toBe(200);
    expect(named.json().data.user.name).toBe('Zoë 😀 李');
    const search = await staff.get(`/api/admin/users/?limit=1&search=${encodeURIComponent('zoë')}`);
    expect(search.statusCode).toBe(200);
    const page = await staff.get('/api/admin/users/?limit=1');
    const next = page.json().data.nextCursor as string;
    expect(next).toBeTruthy();
    expect((await staff.get(`/api/admin/users/?limit=1&cursor=${encodeURIComponent(next)}`)).statusCode).toBe(
      200,
    );
    const history = await pro.get(`/api/ai/history/?cursor=${cursorOf(new Date().toISOString(), 'x')}`);
    expect(history.statusCode).toBe(200);
  });
});

async function csrfHeaders(): Promise<Record<string, string>> {
  const res = await h.t.app.inject({ method: 'GET', url: '/api/csrf/' });
  const token = res.json().data.csrfToken as string;
  return { cookie: `csrftoken=${token}`, 'x-csrftoken': token };
}
