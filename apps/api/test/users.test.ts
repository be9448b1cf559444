import { randomBytes } from 'node:crypto';
import { REGISTER_MESSAGE } from '@tierbase/contracts';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { requireStaff, requireUser } from '../src/users/guards.ts';
import { passwordHasher } from '../src/users/password-hasher.ts';
import { createTestApp, type TestApp, TestClient } from './helper.ts';
import {
  countRows,
  emailCount,
  emailedToken,
  leakedSecrets,
  newEmail,
  registered,
  secrets,
  sessionCookieOf,
  sessionCount,
  signedIn,
  strongPassword,
  userByEmail,
} from './users.helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

describe('POST /api/register/', () => {
  it('creates the user, profile and credential, emails a verification link and starts no session', async () => {
    const email = newEmail('Alice');
    const password = strongPassword();
    const client = new TestClient(t.app);
    const res = await client.post('/api/register/', {
      email: email.toUpperCase(),
      password,
      name: 'Alice Liddell',
    });

    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ success: true, data: { message: REGISTER_MESSAGE } });
    expect(res.cookies.find((c) => c.name.includes('session_token'))).toBeUndefined();

    const user = await userByEmail(t, email);
    expect(user).toMatchObject({
      email: email.toLowerCase(),
      name: 'Alice Liddell',
      email_verified: false,
      is_staff: false,
    });
    expect(await countRows(t, 'profiles where user_id = $1', [user!.id])).toBe(1);
    expect(await sessionCount(t, user!.id)).toBe(0);
    const [account] = await t.app.database.query<{ password: string; provider_id: string }>(
      'select password, provider_id from accounts where user_id = $1',
      [user!.id],
    );
    // scrypt: "salt:key" in hex, never the password itself.
    expect(account?.provider_id).toBe('credential');
    expect(account?.password).toMatch(/^[0-9a-f]{32}:[0-9a-f]{128}$/);
    expect(await emailCount(t, email, 'verify-email')).toBe(1);
    expect((await client.get('/api/profile/')).statusCode).toBe(401);
  });

  it('signs the new user in through the emailed verification link, once', async () => {
    const email = newEmail();
    const client = new TestClient(t.app);
    expect((await client.post('/api/register/', { email, password: strongPassword() })).statusCode).toBe(202);
    const token = await emailedToken(t, email, 'verify-email');

    const verified = await client.post('/api/verify-email/', { token });
    expect(verified.statusCode).toBe(200);
    const cookie = verified.cookies.find((c) => c.name.includes('session_token'));
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie?.secure).toBeFalsy();
    const profile = await client.get('/api/profile/');
    expect(profile.statusCode).toBe(200);
    expect(profile.json().data.user).toMatchObject({ email, emailVerified: true });

    // The link signs in only the first time: afterwards it merely confirms.
    const again = await new TestClient(t.app).post('/api/verify-email/', { token });
    expect(again.statusCode).toBe(200);
    expect(again.cookies.find((c) => c.name.includes('session_token'))).toBeUndefined();
    const user = await userByEmail(t, email);
    expect(await sessionCount(t, user!.id)).toBe(1);
  });

  it('answers a taken address exactly like a new one, emails its owner and changes nothing', async () => {
    const owner = await registered(t, { name: 'Owner' });
    const before = await countRows(t, 'users');
    const sessionsBefore = await countRows(t, 'sessions');
    const hash = vi.spyOn(passwordHasher, 'hash');
    try {
      const fresh = await new TestClient(t.app).post('/api/register/', {
        email: newEmail(),
        password: strongPassword(),
      });
      const freshHashes = hash.mock.calls.length;
      hash.mockClear();
      const taken = await new TestClient(t.app).post('/api/register/', {
        email: owner.email.replace(/^./, (c) => c.toUpperCase()),
        password: strongPassword(),
      });
      // The same work on both paths: the submitted password is hashed once either way (scrypt is
      // what a stopwatch would see).
      expect(freshHashes).toBe(1);
      expect(hash.mock.calls.length).toBe(freshHashes);

      expect(taken.statusCode).toBe(fresh.statusCode);
      expect(taken.json()).toEqual(fresh.json());
      expect(taken.cookies.map((c) => c.name)).toEqual(fresh.cookies.map((c) => c.name));
      const varying = new Set(['date', 'x-request-id', 'content-length']);
      const headerNames = (res: typeof fresh) =>
        Object.keys(res.headers)
          .filter((name) => !varying.has(name))
          .sort();
      expect(headerNames(taken)).toEqual(headerNames(fresh));
      expect(taken.headers['content-length']).toBe(fresh.headers['content-length']);
    } finally {
      hash.mockRestore();
    }

    expect(await countRows(t, 'users where lower(email) = lower($1)', [owner.email])).toBe(1);
    expect(await countRows(t, 'users')).toBe(before + 1);
    expect(await countRows(t, 'sessions')).toBe(sessionsBefore);
    expect(await sessionCount(t, owner.user.id)).toBe(1);
    expect(await emailCount(t, owner.email, 'verify-email')).toBe(1);
    expect(await emailCount(t, owner.email, 'account-exists')).toBe(1);
    const [notice] = await t.app.database.query<{ text: string; subject: string }>(
      "select text, subject from email_outbox where to_address = $1 and template = 'account-exists'",
      [owner.email],
    );
    expect(notice?.subject).toMatch(/tried to sign up/);
    expect(notice?.text).toContain('Hi Owner,');
    expect(notice?.text).toContain(`${t.config.appUrl}/login`);
    expect(notice?.text).toContain(`${t.config.appUrl}/forgot-password`);
  });

  it('rejects each weak password rule with 400 VALIDATION_ERROR on details.password', async () => {
    const email = `margaret.hamilton@${randomBytes(4).toString('hex')}.example.com`;
    secrets.add(email);
    const cases: [string, RegExp][] = [
      ['Xq9!vb', /too short/],
      ['84019275320175', /entirely numeric/],
      // Contains the local part, the whole address, or is within a few edits of it.
      ['Apollo-Margaret.Hamilton-1969', /too similar/],
      [`${email.toUpperCase()}#`, /too similar/],
      ['margaret.hamiltn', /too similar/],
      ['password123', /too easy to guess/],
      ['qwertyuiop', /too easy to guess/],
    ];
    for (const [password, message] of cases) {
      const res = await new TestClient(t.app).post('/api/register/', { email, password, name: 'Margaret' });
      expect(res.statusCode, password).toBe(400);
      const body = res.json();
      expect(body.code).toBe('VALIDATION_ERROR');
      expect(body.details.password.join(' '), password).toMatch(message);
    }
    expect(await userByEmail(t, email)).toBeUndefined();
    expect(await emailCount(t, email, 'verify-email')).toBe(0);
  });

  it('answers malformed JSON, wrong types, missing and unknown fields with 400 and writes nothing', async () => {
    const client = new TestClient(t.app);
    const token = await client.csrfToken();
    const before = await countRows(t, 'users');
    const headers = {
      'content-type': 'application/json',
      'x-csrftoken': token,
      cookie: `csrftoken=${token}`,
    };

    const malformed = await t.app.inject({
      method: 'POST',
      url: '/api/register/',
      headers,
      payload: '{"email": ',
    });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toMatchObject({ code: 'INVALID_JSON', status: 400 });

    const wrongType = await client.post('/api/register/', { email: 42, password: strongPassword() });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().code).toBe('VALIDATION_ERROR');
    expect(Object.keys(wrongType.json().details)).toContain('email');

    const missing = await client.post('/api/register/', { email: newEmail() });
    expect(missing.statusCode).toBe(400);
    expect(Object.keys(missing.json().details)).toContain('password');

    const unknown = await client.post('/api/register/', {
      email: newEmail(),
      password: strongPassword(),
      isStaff: true,
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().code).toBe('VALIDATION_ERROR');
    expect(unknown.json().details).toHaveProperty('isStaff');

    const badEmail = await client.post('/api/register/', {
      email: 'not-an-email',
      password: strongPassword(),
    });
    expect(badEmail.statusCode).toBe(400);
    expect(badEmail.json().details).toHaveProperty('email');

    expect(await countRows(t, 'users')).toBe(before);
  });

  it('answers an oversized body with 413 and other content types with 415, writing nothing', async () => {
    const client = new TestClient(t.app);
    const email = newEmail();
    const huge = await client.post('/api/register/', { email, password: 'x'.repeat(2 * 1024 * 1024) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413 });

    const password = strongPassword();
    const text = await client.request({
      method: 'POST',
      url: '/api/register/',
      headers: { 'content-type': 'text/plain' },
      payload: JSON.stringify({ email, password }),
    });
    expect(text.statusCode).toBe(415);
    expect(text.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 });

    const form = await client.request({
      method: 'POST',
      url: '/api/register/',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ email, password }).toString(),
    });
    expect(form.statusCode).toBe(415);
    expect(form.json().code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await userByEmail(t, email)).toBeUndefined();
  });

  it('refuses a missing or wrong CSRF token with 403 CSRF_FAILED and writes nothing', async () => {
    const email = newEmail();
    const payload = { email, password: strongPassword() };
    const missing = await t.app.inject({ method: 'POST', url: '/api/register/', payload });
    expect(missing.statusCode).toBe(403);
    expect(missing.json()).toMatchObject({ code: 'CSRF_FAILED', status: 403 });

    const client = new TestClient(t.app);
    const token = await client.csrfToken();
    const wrong = await client.request({
      method: 'POST',
      url: '/api/register/',
      headers: { 'x-csrftoken': `${token.slice(0, -2)}xx` },
      payload,
    });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().code).toBe('CSRF_FAILED');
    expect(await userByEmail(t, email)).toBeUndefined();
  });
});

describe('POST /api/login/ and /api/logout/', () => {
  it('signs in with a new session each time and deletes the session the request carried', async () => {
    const { client, email, password, user } = await registered(t);
    const [, firstCookie] = sessionCookieOf(client);

    const res = await client.post('/api/login/', { email: email.toUpperCase(), password });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.user).toMatchObject({ id: user.id, email });
    const [, secondCookie] = sessionCookieOf(client);
    expect(secondCookie).not.toBe(firstCookie);
    // The registration session was replaced, not kept beside the new one.
    expect(await sessionCount(t, user.id)).toBe(1);

    const other = await signedIn(t, email, password);
    expect(sessionCookieOf(other)[1]).not.toBe(secondCookie);
    expect(await sessionCount(t, user.id)).toBe(2);
    expect((await client.get('/api/profile/')).statusCode).toBe(200);
    expect((await other.get('/api/profile/')).statusCode).toBe(200);
  });

  it('ends the session a request carried when a verification link signs in another account', async () => {
    const first = await registered(t);
    const email = newEmail();
    const res = await first.client.post('/api/register/', { email, password: strongPassword() });
    expect(res.statusCode).toBe(202);
    // Registering leaves the caller as they were.
    expect(await sessionCount(t, first.user.id)).toBe(1);
    const token = await emailedToken(t, email, 'verify-email');
    expect((await first.client.post('/api/verify-email/', { token })).statusCode).toBe(200);
    expect(await sessionCount(t, first.user.id)).toBe(0);
    expect((await first.client.get('/api/profile/')).json().data.user.email).toBe(email);
  });

  it('answers a wrong password and an unknown email identically with 401 INVALID_CREDENTIALS', async () => {
    const { email, user } = await registered(t);
    const wrong = await new TestClient(t.app).post('/api/login/', { email, password: strongPassword() });
    const unknown = await new TestClient(t.app).post('/api/login/', {
      email: newEmail(),
      password: strongPassword(),
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(wrong.json()).toMatchObject({ success: false, code: 'INVALID_CREDENTIALS', status: 401 });
    expect(wrong.cookies.find((c) => c.name.includes('session_token'))).toBeUndefined();
    // Only the registration session exists.
    expect(await sessionCount(t, user.id)).toBe(1);
  });

  it('validates the login body (missing field, unknown field)', async () => {
    const client = new TestClient(t.app);
    const missing = await client.post('/api/login/', { email: newEmail() });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().details).toHaveProperty('password');
    const unknown = await client.post('/api/login/', { email: newEmail(), password: 'x', remember: true });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().details).toHaveProperty('remember');
  });

  it('destroys the session on logout: the old cookie replayed afterwards gets 401', async () => {
    const { client, user } = await registered(t);
    const [name, value] = sessionCookieOf(client);
    const csrf = await client.csrfToken();

    const res = await client.post('/api/logout/');
    expect(res.statusCode).toBe(200);
    expect(await sessionCount(t, user.id)).toBe(0);
    expect(client.cookies.has(name)).toBe(false);

    const replay = await t.app.inject({
      method: 'GET',
      url: '/api/profile/',
      headers: { cookie: `${name}=${encodeURIComponent(value)}; csrftoken=${csrf}` },
    });
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toMatchObject({ code: 'AUTHENTICATION_REQUIRED', status: 401 });

    const again = await client.post('/api/logout/');
    expect(again.statusCode).toBe(401);
  });

  it('ignores a session cookie whose signature is wrong', async () => {
    const { client } = await registered(t);
    const [name, value] = sessionCookieOf(client);
    const token = value.slice(0, value.lastIndexOf('.'));
    const forged = `${token}.${Buffer.alloc(32).toString('base64')}`;
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/profile/',
      headers: { cookie: `${name}=${encodeURIComponent(forged)}` },
    });
    expect(res.statusCode).toBe(401);
    // The unsigned token alone is not a credential either.
    const bare = await t.app.inject({
      method: 'GET',
      url: '/api/profile/',
      headers: { cookie: `${name}=${token}` },
    });
    expect(bare.statusCode).toBe(401);
  });

  it('slides a session expiry forward once a day of use', async () => {
    const { client, user } = await registered(t);
    // As if the session had been created two days ago.
    await t.app.database.query(
      "update sessions set expires_at = now() + interval '5 days' where user_id = $1",
      [user.id],
    );
    const res = await client.get('/api/profile/');
    expect(res.statusCode).toBe(200);
    expect(res.cookies.find((c) => c.name.includes('session_token'))?.maxAge).toBe(7 * 24 * 3600);
    const [row] = await t.app.database.query<{ days: number }>(
      'select extract(epoch from (expires_at - now())) / 86400 as days from sessions where user_id = $1',
      [user.id],
    );
    expect(Number(row?.days)).toBeGreaterThan(6.9);

    await t.app.database.query(
      "update sessions set expires_at = now() - interval '1 second' where user_id = $1",
      [user.id],
    );
    expect((await client.get('/api/profile/')).statusCode).toBe(401);
  });
});

describe('/api/profile/', () => {
  it('needs a session', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/profile/' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ success: false, code: 'AUTHENTICATION_REQUIRED', status: 401 });
    const patch = await new TestClient(t.app).patch('/api/profile/', { name: 'Nobody' });
    expect(patch.statusCode).toBe(401);
  });

  it('updates the name and refuses other fields', async () => {
    const { client, user } = await registered(t);
    const res = await client.patch('/api/profile/', { name: '  Ada Lovelace ' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.user.name).toBe('Ada Lovelace');
    expect((await userByEmail(t, user.email))?.name).toBe('Ada Lovelace');

    const staff = await client.patch('/api/profile/', { name: 'Ada', isStaff: true });
    expect(staff.statusCode).toBe(400);
    expect(staff.json().details).toHaveProperty('isStaff');
    const empty = await client.patch('/api/profile/', { name: '' });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().details).toHaveProperty('name');
    const row = await userByEmail(t, user.email);
    expect(row).toMatchObject({ name: 'Ada Lovelace', is_staff: false });
  });

  it('reads the trial end from the profile row', async () => {
    const { client, user } = await registered(t);
    await t.app.database.query("update profiles set trial_end = '2030-01-02T03:04:05Z' where user_id = $1", [
      user.id,
    ]);
    const res = await client.get('/api/profile/');
    expect(res.json().data.trialEnd).toBe('2030-01-02T03:04:05.000Z');
  });
});

describe('Cache-Control', () => {
  it('is no-store on every API answer: session-dependent reads, sign-in, errors, public reads', async () => {
    const { client, email, password } = await registered(t);
    const login = await new TestClient(t.app).post('/api/login/', { email, password });
    expect(login.statusCode).toBe(200);
    expect(login.cookies.some((c) => c.name.includes('session_token'))).toBe(true);
    const answers = {
      login,
      profile: await client.get('/api/profile/'),
      billingStatus: await client.get('/api/billing/status/'),
      csrf: await client.get('/api/csrf/'),
      anonymousProfile: await t.app.inject({ method: 'GET', url: '/api/profile/' }),
      notFound: await client.get('/api/no-such-route/'),
    };
    expect(answers.profile.statusCode).toBe(200);
    expect(answers.billingStatus.statusCode).toBe(200);
    for (const [name, res] of Object.entries(answers)) {
      expect(res.headers['cache-control'], name).toBe('no-store');
    }
    // The SPA's pages keep their own policy.
    const page = await t.app.inject({ method: 'GET', url: '/login' });
    expect(page.headers['cache-control']).not.toBe('no-store');
  });
});

describe('guards', () => {
  const user = {
    id: 'u1',
    email: 'x@example.com',
    name: '',
    emailVerified: true,
    isStaff: false,
    createdAt: new Date(),
    twoFactorEnabled: false,
  };
  const workspace = { id: 'o1', name: 'Ada', personal: true, role: 'owner' as const };
  it('requireUser: 401 when anonymous', () => {
    expect(() => requireUser({ auth: null })).toThrow(
      expect.objectContaining({ status: 401, code: 'AUTHENTICATION_REQUIRED' }),
    );
    expect(
      requireUser({
        auth: { user, sessionId: 's', workspace, isPro: false, subscription: null, trialEnd: null },
      }).user.id,
    ).toBe('u1');
  });
  it('requireStaff: 401 when anonymous, 403 when not staff', () => {
    expect(() => requireStaff({ auth: null })).toThrow(expect.objectContaining({ status: 401 }));
    expect(() =>
      requireStaff({
        auth: { user, sessionId: 's', workspace, isPro: false, subscription: null, trialEnd: null },
      }),
    ).toThrow(expect.objectContaining({ status: 403, code: 'PERMISSION_DENIED' }));
    expect(
      requireStaff({
        auth: {
          user: { ...user, isStaff: true },
          sessionId: 's',
          workspace,
          isPro: false,
          subscription: null,
          trialEnd: null,
        },
      }).user.isStaff,
    ).toBe(true);
  });
});

describe('OpenAPI', () => {
  it('documents every account endpoint with its request schema', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
    const paths = res.json().paths as Record<string, Record<string, { requestBody?: unknown }>>;
    for (const path of [
      '/api/register',
      '/api/login',
      '/api/logout',
      '/api/password-reset',
      '/api/password-reset/confirm',
      '/api/verify-email',
      '/api/verify-email/resend',
      '/api/password-change',
      '/api/sessions/revoke-others',
    ]) {
      expect(paths[path]?.post, path).toBeDefined();
    }
    expect(paths['/api/profile']?.get).toBeDefined();
    expect(paths['/api/profile']?.patch?.requestBody).toBeDefined();
    expect(paths['/api/register']?.post?.requestBody).toBeDefined();
  });
});

describe('logs', () => {
  it('never contain the passwords, tokens, cookies or email addresses used', () => {
    expect(secrets.size).toBeGreaterThan(10);
    expect(leakedSecrets(t)).toEqual([]);
  });
});

describe('in production', () => {
  let prod: TestApp;
  beforeAll(async () => {
    prod = await createTestApp({
      env: {
        NODE_ENV: 'production',
        SECRET_KEY: randomBytes(32).toString('base64url'),
        APP_URL: 'https://app.example.com',
        TRUSTED_PROXIES: '127.0.0.1',
        // Production refuses to start without a billing provider; this test needs none.
        STRIPE_EMULATOR: 'true',
      },
    });
  });
  afterAll(async () => prod?.close());

  it('sets the session cookie Secure (with the __Secure- prefix) and reads it back', async () => {
    const client = new TestClient(prod.app);
    const https = { 'x-forwarded-proto': 'https' };
    const csrf = await client.request({ method: 'GET', url: '/api/csrf/', headers: https });
    expect(csrf.statusCode).toBe(200);
    const email = newEmail();
    const registered = await client.request({
      method: 'POST',
      url: '/api/register/',
      headers: https,
      payload: { email, password: strongPassword() },
    });
    expect(registered.statusCode).toBe(202);
    const res = await client.request({
      method: 'POST',
      url: '/api/verify-email/',
      headers: https,
      payload: { token: await emailedToken(prod, email, 'verify-email') },
    });
    expect(res.statusCode).toBe(200);
    const cookie = res.cookies.find((c) => c.name.includes('session_token'));
    expect(cookie?.name.startsWith('__Secure-')).toBe(true);
    expect(cookie).toMatchObject({ secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
    const profile = await client.request({ method: 'GET', url: '/api/profile/', headers: https });
    expect(profile.statusCode).toBe(200);
    expect(leakedSecrets(prod)).toEqual([]);
  });
});
