import { randomBytes } from 'node:crypto';
import { base32 } from '@better-auth/utils/base32';
import { createOTP } from '@better-auth/utils/otp';
import type { Profile, TwoFactorSetup } from '@tierbase/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TWO_FACTOR_ATTEMPTS_PER_SIGN_IN } from '../src/users/auth.ts';
import { createTestApp, type TestApp, TestClient } from './helper.ts';
import { createTeam } from './organizations.helpers.ts';
import {
  countRows,
  emailedToken,
  leakedSecrets,
  newEmail,
  registered,
  secrets,
  sessionCookieOf,
  sessionCount,
  strongPassword,
} from './users.helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

/** The current code of an authenticator app holding the base32 key, as the user's phone computes it. */
async function totp(secret: string): Promise<string> {
  const code = await createOTP(base32.decode(secret), { digits: 6, period: 30 }).totp();
  secrets.add(code);
  return code;
}

/** A 6-digit code that is not the current one (nor, almost surely, its neighbours'). */
function wrong(code: string): string {
  return String((Number(code) + 500_000) % 1_000_000).padStart(6, '0');
}

function pendingCookie(client: TestClient): string | undefined {
  const entry = [...client.cookies].find(([name]) => name.endsWith('two_factor'));
  if (entry) secrets.add(entry[1]);
  return entry?.[1];
}

/** A verified user who has turned two-factor on through Settings; their secret and backup codes. */
async function withTwoFactor() {
  const account = await registered(t);
  const begin = await account.client.post('/api/two-factor/enable/', { password: account.password });
  expect(begin.statusCode, begin.body).toBe(200);
  const setup = begin.json().data as TwoFactorSetup;
  secrets.add(setup.secret);
  for (const code of setup.backupCodes) secrets.add(code);
  const confirm = await account.client.post('/api/two-factor/confirm/', { code: await totp(setup.secret) });
  expect(confirm.statusCode, confirm.body).toBe(200);
  return { ...account, setup };
}

/** Signs in with the password on a new client: the first step only. */
async function passwordStep(email: string, password: string) {
  const client = new TestClient(t.app);
  const res = await client.post('/api/login/', { email, password });
  return { client, res };
}

describe('turning two-factor on', () => {
  it('needs the password, then a valid first code; the profile then shows it', async () => {
    const { client, password, user } = await registered(t);
    const profile = async () => ((await client.get('/api/profile/')).json().data as Profile).user;
    expect((await profile()).twoFactorEnabled).toBe(false);

    const missing = await client.post('/api/two-factor/enable/', {});
    expect(missing.statusCode).toBe(400);
    expect(missing.json().code).toBe('VALIDATION_ERROR');
    const wrongPassword = await client.post('/api/two-factor/enable/', { password: `${password}x` });
    expect(wrongPassword.statusCode).toBe(400);
    expect(wrongPassword.json().details).toEqual({ password: ['The password is incorrect.'] });
    expect(await countRows(t, 'two_factors where user_id = $1', [user.id])).toBe(0);

    const begin = await client.post('/api/two-factor/enable/', { password });
    expect(begin.statusCode).toBe(200);
    const setup = begin.json().data as TwoFactorSetup;
    secrets.add(setup.secret);
    for (const code of setup.backupCodes) secrets.add(code);
    expect(setup.totpUri).toMatch(/^otpauth:\/\/totp\/Tierbase:.+\?/);
    expect(new URL(setup.totpUri).searchParams.get('secret')).toBe(setup.secret);
    expect(setup.secret).toMatch(/^[A-Z2-7]+=*$/);
    expect(setup.qrCode).toMatch(/^data:image\/svg\+xml;base64,/);
    expect(Buffer.from(setup.qrCode.split(',')[1] ?? '', 'base64').toString()).toContain('<svg');
    expect(setup.backupCodes).toHaveLength(10);
    expect(new Set(setup.backupCodes).size).toBe(10);
    expect(begin.headers['cache-control']).toBe('no-store');
    // Stored encrypted: neither the key nor a backup code is in the row.
    const [row] = await t.app.database.query<{ secret: string; backup_codes: string; verified: boolean }>(
      'select secret, backup_codes, verified from two_factors where user_id = $1',
      [user.id],
    );
    expect(row?.verified).toBe(false);
    expect(row?.secret).not.toContain(setup.secret);
    expect(row?.backup_codes).not.toContain(setup.backupCodes[0]);

    // Not on until a code proves the app holds the key.
    expect((await profile()).twoFactorEnabled).toBe(false);
    const bad = await client.post('/api/two-factor/confirm/', { code: wrong(await totp(setup.secret)) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details.code).toBeDefined();
    const notDigits = await client.post('/api/two-factor/confirm/', { code: 'abcdef' });
    expect(notDigits.statusCode).toBe(400);
    expect((await profile()).twoFactorEnabled).toBe(false);

    const before = sessionCookieOf(client)[1];
    const confirm = await client.post('/api/two-factor/confirm/', { code: await totp(setup.secret) });
    expect(confirm.statusCode).toBe(200);
    expect((confirm.json().data as Profile).user.twoFactorEnabled).toBe(true);
    // The session was rotated, and the client carries on with the new one.
    expect(sessionCookieOf(client)[1]).not.toBe(before);
    expect((await profile()).twoFactorEnabled).toBe(true);

    const again = await client.post('/api/two-factor/enable/', { password });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('CONFLICT');
  });

  it('keeps the active workspace across the rotated sessions of turning it on and off', async () => {
    const { client, password } = await registered(t);
    const teamId = await createTeam(client, 'Rotation Ltd');
    const workspace = async () => ((await client.get('/api/profile/')).json().data as Profile).workspace;
    expect((await workspace()).id).toBe(teamId);

    const begin = await client.post('/api/two-factor/enable/', { password });
    const setup = begin.json().data as TwoFactorSetup;
    secrets.add(setup.secret);
    for (const code of setup.backupCodes) secrets.add(code);
    const before = sessionCookieOf(client)[1];
    const confirm = await client.post('/api/two-factor/confirm/', { code: await totp(setup.secret) });
    expect(confirm.statusCode, confirm.body).toBe(200);
    expect(sessionCookieOf(client)[1]).not.toBe(before);
    // The answer and the next request both show the team, not the personal workspace.
    expect((confirm.json().data as Profile).workspace).toMatchObject({ id: teamId, name: 'Rotation Ltd' });
    expect((await workspace()).id).toBe(teamId);

    const off = await client.post('/api/two-factor/disable/', {
      password,
      code: setup.backupCodes[0],
    });
    expect(off.statusCode, off.body).toBe(200);
    expect((off.json().data as Profile).workspace.id).toBe(teamId);
    expect((await workspace()).id).toBe(teamId);

    // A password change rotates the session too.
    const newPassword = strongPassword();
    const changed = await client.post('/api/password-change/', { currentPassword: password, newPassword });
    expect(changed.statusCode, changed.body).toBe(200);
    expect((await workspace()).id).toBe(teamId);
  });

  it('needs a session and the CSRF token', async () => {
    const anonymous = await new TestClient(t.app).post('/api/two-factor/enable/', { password: 'x' });
    expect(anonymous.statusCode).toBe(401);
    const { client, password } = await registered(t);
    const noCsrf = await t.app.inject({
      method: 'POST',
      url: '/api/two-factor/enable/',
      headers: { cookie: client.cookieHeader.replace(/csrftoken=[^;]+;? ?/, '') },
      payload: { password },
    });
    expect(noCsrf.statusCode).toBe(403);
    expect(noCsrf.json().code).toBe('CSRF_FAILED');
  });
});

describe('signing in with two-factor on', () => {
  it('gives no session for the password alone; a valid code starts it', async () => {
    const { email, password, user, setup } = await withTwoFactor();
    const before = await sessionCount(t, user.id);

    const { client, res } = await passwordStep(email, password);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ success: true, data: { twoFactorRequired: true } });
    expect([...client.cookies.keys()].some((name) => name.includes('session_token'))).toBe(false);
    expect(pendingCookie(client)).toBeDefined();
    expect(await sessionCount(t, user.id)).toBe(before);
    expect((await client.get('/api/profile/')).statusCode).toBe(401);

    const signedIn = await client.post('/api/login/two-factor/', { code: await totp(setup.secret) });
    expect(signedIn.statusCode).toBe(200);
    expect((signedIn.json().data as Profile).user.email).toBe(email);
    expect(pendingCookie(client)).toBeUndefined();
    expect((await client.get('/api/profile/')).statusCode).toBe(200);
    expect(await sessionCount(t, user.id)).toBe(before + 1);

    // A wrong password gets no pending sign-in.
    const wrongPassword = await passwordStep(email, `${password}x`);
    expect(wrongPassword.res.statusCode).toBe(401);
    expect(pendingCookie(wrongPassword.client)).toBeUndefined();
  });

  it('refuses a wrong code, and ends the pending sign-in after 5 of them', async () => {
    const { email, password, user, setup } = await withTwoFactor();
    const { client } = await passwordStep(email, password);
    const code = await totp(setup.secret);
    for (let i = 0; i < TWO_FACTOR_ATTEMPTS_PER_SIGN_IN; i += 1) {
      const res = await client.post('/api/login/two-factor/', { code: wrong(code) });
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('INVALID_TWO_FACTOR_CODE');
    }
    // Even the right code is now refused: the password must be entered again.
    const locked = await client.post('/api/login/two-factor/', { code: await totp(setup.secret) });
    expect(locked.statusCode).toBe(401);
    expect(locked.json().code).toBe('TWO_FACTOR_EXPIRED');
    expect((await client.get('/api/profile/')).statusCode).toBe(401);
    const sessions = await sessionCount(t, user.id);

    const retry = await passwordStep(email, password);
    const ok = await retry.client.post('/api/login/two-factor/', { code: await totp(setup.secret) });
    expect(ok.statusCode).toBe(200);
    expect(await sessionCount(t, user.id)).toBe(sessions + 1);
  });

  it('locks the second step of the account for 15 minutes after 10 wrong codes in a row', async () => {
    const { email, password, setup } = await withTwoFactor();
    for (let round = 0; round < 2; round += 1) {
      const { client } = await passwordStep(email, password);
      for (let i = 0; i < TWO_FACTOR_ATTEMPTS_PER_SIGN_IN; i += 1) {
        await client.post('/api/login/two-factor/', { code: wrong(await totp(setup.secret)) });
      }
    }
    const { client } = await passwordStep(email, password);
    const locked = await client.post('/api/login/two-factor/', { code: await totp(setup.secret) });
    expect(locked.statusCode).toBe(429);
    expect(locked.json().code).toBe('RATE_LIMITED');
    expect(locked.headers['retry-after']).toBe('900');
    expect((await client.get('/api/profile/')).statusCode).toBe(401);
  });

  it('answers 401 TWO_FACTOR_EXPIRED without a pending sign-in, and a session cookie is no substitute', async () => {
    const none = await new TestClient(t.app).post('/api/login/two-factor/', { code: '123456' });
    expect(none.statusCode).toBe(401);
    expect(none.json().code).toBe('TWO_FACTOR_EXPIRED');
    // A signed-in user (with two-factor on) cannot use the endpoint to test codes on their session.
    const { client, setup } = await withTwoFactor();
    const withSession = await client.post('/api/login/two-factor/', { code: await totp(setup.secret) });
    expect(withSession.statusCode).toBe(401);
    expect(withSession.json().code).toBe('TWO_FACTOR_EXPIRED');
  });

  it('takes a backup code once', async () => {
    const { email, password, setup } = await withTwoFactor();
    const backupCode = setup.backupCodes[3] ?? '';
    const first = await passwordStep(email, password);
    const res = await first.client.post('/api/login/two-factor/', { code: ` ${backupCode} ` });
    expect(res.statusCode).toBe(200);
    expect((await first.client.get('/api/profile/')).statusCode).toBe(200);

    const second = await passwordStep(email, password);
    const reused = await second.client.post('/api/login/two-factor/', { code: backupCode });
    expect(reused.statusCode).toBe(401);
    expect(reused.json().code).toBe('INVALID_TWO_FACTOR_CODE');
    const other = await second.client.post('/api/login/two-factor/', { code: setup.backupCodes[4] });
    expect(other.statusCode).toBe(200);
  });

  it('keeps the caller signed in until the code is given', async () => {
    const { email, password, client, setup } = await withTwoFactor();
    // Already signed in on this client, the user signs in again: the password step signs no one out.
    const res = await client.post('/api/login/', { email, password });
    expect(res.json().data).toEqual({ twoFactorRequired: true });
    expect((await client.get('/api/profile/')).statusCode).toBe(200);
    const old = sessionCookieOf(client)[1];
    const done = await client.post('/api/login/two-factor/', { code: await totp(setup.secret) });
    expect(done.statusCode).toBe(200);
    // A new session replaced the old one, which no longer works.
    expect(sessionCookieOf(client)[1]).not.toBe(old);
    const stale = await t.app.inject({
      method: 'GET',
      url: '/api/profile/',
      headers: { cookie: `${sessionCookieOf(client)[0]}=${old}` },
    });
    expect(stale.statusCode).toBe(401);
  });
});

describe('managing two-factor', () => {
  it('regenerates backup codes with the password; the old ones stop working', async () => {
    const { client, email, password, setup } = await withTwoFactor();
    const refused = await client.post('/api/two-factor/backup-codes/', { password: `${password}x` });
    expect(refused.statusCode).toBe(400);
    const res = await client.post('/api/two-factor/backup-codes/', { password });
    expect(res.statusCode).toBe(200);
    const { backupCodes } = res.json().data as { backupCodes: string[] };
    for (const code of backupCodes) secrets.add(code);
    expect(backupCodes).toHaveLength(10);
    expect(backupCodes).not.toContain(setup.backupCodes[0]);

    const old = await passwordStep(email, password);
    expect((await old.client.post('/api/login/two-factor/', { code: setup.backupCodes[0] })).statusCode).toBe(
      401,
    );
    expect((await old.client.post('/api/login/two-factor/', { code: backupCodes[0] })).statusCode).toBe(200);
  });

  it('turns off with the password and a current code; sign-in is then one step', async () => {
    const { client, email, password, user, setup } = await withTwoFactor();
    const noCode = await client.post('/api/two-factor/disable/', { password });
    expect(noCode.statusCode).toBe(400);
    const badCode = await client.post('/api/two-factor/disable/', {
      password,
      code: wrong(await totp(setup.secret)),
    });
    expect(badCode.statusCode).toBe(400);
    expect(badCode.json().details.code).toBeDefined();
    const badPassword = await client.post('/api/two-factor/disable/', {
      password: `${password}x`,
      code: await totp(setup.secret),
    });
    expect(badPassword.statusCode).toBe(400);
    expect(badPassword.json().details).toEqual({ password: ['The password is incorrect.'] });

    const res = await client.post('/api/two-factor/disable/', { password, code: await totp(setup.secret) });
    expect(res.statusCode).toBe(200);
    expect((res.json().data as Profile).user.twoFactorEnabled).toBe(false);
    expect((await client.get('/api/profile/')).statusCode).toBe(200);
    expect(await countRows(t, 'two_factors where user_id = $1', [user.id])).toBe(0);

    const { res: login } = await passwordStep(email, password);
    expect((login.json().data as Profile).user.email).toBe(email);

    const twice = await client.post('/api/two-factor/disable/', { password, code: '123456' });
    expect(twice.statusCode).toBe(409);
  });

  it('turns off with a backup code, for a lost authenticator', async () => {
    const { client, password, setup } = await withTwoFactor();
    const res = await client.post('/api/two-factor/disable/', { password, code: setup.backupCodes[9] });
    expect(res.statusCode).toBe(200);
    expect((res.json().data as Profile).user.twoFactorEnabled).toBe(false);
  });

  it('holds password and code checks in Settings to twice the login budget per user', async () => {
    const { client } = await registered(t);
    const budget = 2 * t.config.rateLimits.loginPer15Minutes;
    for (let i = 0; i < budget; i += 1) {
      const res = await client.post('/api/two-factor/enable/', { password: `wrong-${i}` });
      expect(res.statusCode).toBe(400);
    }
    const limited = await client.post('/api/two-factor/enable/', { password: 'wrong' });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();
  });

  it('the account export says it is on, and holds neither the key nor a backup code', async () => {
    const { client, setup } = await withTwoFactor();
    const res = await client.get('/api/account/export/');
    expect(res.statusCode).toBe(200);
    expect(res.json().account.twoFactorEnabled).toBe(true);
    expect(res.body).not.toContain(setup.secret);
    for (const code of setup.backupCodes) expect(res.body).not.toContain(code);
  });

  it('documents the endpoints in OpenAPI', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
    const paths = res.json().paths as Record<string, Record<string, { requestBody?: unknown }>>;
    for (const path of [
      '/api/two-factor/enable',
      '/api/two-factor/confirm',
      '/api/two-factor/disable',
      '/api/two-factor/backup-codes',
      '/api/login/two-factor',
    ]) {
      expect(paths[path]?.post?.requestBody, path).toBeDefined();
    }
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
        STRIPE_EMULATOR: 'true',
      },
    });
  });
  afterAll(async () => prod?.close());

  it('the pending cookie is __Secure-, HttpOnly, SameSite=Lax and lives 5 minutes; the code step reads it', async () => {
    const client = new TestClient(prod.app);
    const https = { 'x-forwarded-proto': 'https' };
    const post = (url: string, payload: object) =>
      client.request({ method: 'POST', url, headers: https, payload });
    await client.request({ method: 'GET', url: '/api/csrf/', headers: https });
    const email = newEmail();
    const password = strongPassword();
    expect((await post('/api/register/', { email, password })).statusCode).toBe(202);
    await post('/api/verify-email/', { token: await emailedToken(prod, email, 'verify-email') });
    const setup = (await post('/api/two-factor/enable/', { password })).json().data as TwoFactorSetup;
    secrets.add(setup.secret);
    expect((await post('/api/two-factor/confirm/', { code: await totp(setup.secret) })).statusCode).toBe(200);
    expect((await post('/api/logout/', {})).statusCode).toBe(200);

    const login = await post('/api/login/', { email, password });
    expect(login.json().data).toEqual({ twoFactorRequired: true });
    expect(login.cookies.map((cookie) => cookie.name)).toEqual(['__Secure-tierbase.two_factor']);
    expect(login.cookies[0]).toMatchObject({
      secure: true,
      httpOnly: true,
      sameSite: 'Lax',
      path: '/',
      maxAge: 300,
    });
    const done = await post('/api/login/two-factor/', { code: await totp(setup.secret) });
    expect(done.statusCode).toBe(200);
    expect(done.cookies.find((cookie) => cookie.name === '__Secure-tierbase.session_token')).toBeDefined();
    expect(leakedSecrets(prod)).toEqual([]);
  });
});

describe('logs', () => {
  it('never contain a secret, code, password or pending cookie', () => {
    expect(secrets.size).toBeGreaterThan(20);
    expect(leakedSecrets(t)).toEqual([]);
  });
});
