import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_RESET_QUEUE } from '../src/users/accounts.ts';
import { createAuth } from '../src/users/auth.ts';
import { CLEANUP_QUEUE } from '../src/users/plugin.ts';
import { deleteExpired } from '../src/users/sessions.ts';
import { createOrPromoteStaff } from '../src/users/staff.ts';
import { createTestApp, type TestApp, TestClient } from './helper.ts';
import {
  countRows,
  emailCount,
  emailedToken,
  emailedTokens,
  jobsDone,
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
  // Reset emails are sent by a job: poll for it often.
  t = await createTestApp({ env: { JOB_POLL_INTERVAL_SECONDS: '0.5' } });
});
afterAll(async () => t?.close());

describe('password reset', () => {
  it('answers the same for a known and an unknown email, and only emails the known one', async () => {
    const { email } = await registered(t);
    const unknownEmail = newEmail();
    const known = await new TestClient(t.app).post('/api/password-reset/', { email });
    const unknown = await new TestClient(t.app).post('/api/password-reset/', { email: unknownEmail });
    expect(known.statusCode).toBe(200);
    expect(unknown.statusCode).toBe(200);
    expect(known.json()).toEqual(unknown.json());
    // The stored token is hashed: the emailed one does not appear in the table.
    const token = await emailedToken(t, email, 'password-reset');
    expect(await countRows(t, 'verifications where identifier like $1', [`%${token}%`])).toBe(0);
    await jobsDone(t, PASSWORD_RESET_QUEUE);
    expect(await emailCount(t, email, 'password-reset')).toBe(1);
    expect(await emailCount(t, unknownEmail, 'password-reset')).toBe(0);
  });

  it('does the same work in the request for a known and an unknown email: one lookup and one job', async () => {
    // No workers: what the request itself did is all there is to see.
    const quiet = await createTestApp({ workers: false });
    try {
      const { email } = await registered(quiet, { verified: false });
      const jobs = () => countRows(quiet, 'pgboss.job where name = $1', [PASSWORD_RESET_QUEUE]);
      const resetRows = () => countRows(quiet, 'verifications');
      const outbox = () => countRows(quiet, 'email_outbox');
      const [jobsBefore, resetsBefore, mailBefore] = [await jobs(), await resetRows(), await outbox()];
      const known = await new TestClient(quiet.app).post('/api/password-reset/', { email });
      expect(known.statusCode).toBe(200);
      expect([await jobs(), await resetRows(), await outbox()]).toEqual([
        jobsBefore + 1,
        resetsBefore,
        mailBefore,
      ]);
      const unknown = await new TestClient(quiet.app).post('/api/password-reset/', { email: newEmail() });
      expect(unknown.statusCode).toBe(200);
      expect([await jobs(), await resetRows(), await outbox()]).toEqual([
        jobsBefore + 2,
        resetsBefore,
        mailBefore,
      ]);
      expect(unknown.json()).toEqual(known.json());
      expect(leakedSecrets(quiet)).toEqual([]);
    } finally {
      await quiet.close();
    }
  });

  it('a used reset link ends every other outstanding one: the newer used, the older is refused', async () => {
    const { email, user } = await registered(t);
    await new TestClient(t.app).post('/api/password-reset/', { email });
    await emailedTokens(t, email, 'password-reset', 1);
    await new TestClient(t.app).post('/api/password-reset/', { email });
    const [newer, older] = await emailedTokens(t, email, 'password-reset', 2);
    expect(newer).not.toBe(older);
    // Asking again does not end the earlier link (nobody can spoil an owner's link by asking).
    expect(await countRows(t, 'verifications where value = $1', [user.id])).toBe(2);

    const password = strongPassword();
    const used = await new TestClient(t.app).post('/api/password-reset/confirm/', { token: newer, password });
    expect(used.statusCode).toBe(200);
    const stale = await new TestClient(t.app).post('/api/password-reset/confirm/', {
      token: older,
      password: strongPassword(),
    });
    expect(stale.statusCode).toBe(400);
    expect(stale.json()).toMatchObject({ code: 'INVALID_TOKEN', status: 400 });
    expect(await countRows(t, 'verifications where value = $1', [user.id])).toBe(0);
    await signedIn(t, email, password);
  });

  it('a used reset link ends every other outstanding one: the older used, the newer is refused', async () => {
    const { email } = await registered(t);
    await new TestClient(t.app).post('/api/password-reset/', { email });
    await emailedTokens(t, email, 'password-reset', 1);
    await new TestClient(t.app).post('/api/password-reset/', { email });
    const [newer, older] = await emailedTokens(t, email, 'password-reset', 2);

    const password = strongPassword();
    const used = await new TestClient(t.app).post('/api/password-reset/confirm/', { token: older, password });
    expect(used.statusCode).toBe(200);
    const stale = await new TestClient(t.app).post('/api/password-reset/confirm/', {
      token: newer,
      password: strongPassword(),
    });
    expect(stale.statusCode).toBe(400);
    expect(stale.json().code).toBe('INVALID_TOKEN');
    await signedIn(t, email, password);
  });

  it('resets with the emailed token once, ends every session, and refuses the token again', async () => {
    const { client, email, password, user } = await registered(t);
    const other = await signedIn(t, email, password);
    const [cookieName, oldCookie] = sessionCookieOf(other);
    expect(await sessionCount(t, user.id)).toBe(2);

    await new TestClient(t.app).post('/api/password-reset/', { email });
    const token = await emailedToken(t, email, 'password-reset');
    const [mail] = await t.app.database.query<{ text: string }>(
      "select text from email_outbox where to_address = $1 and template = 'password-reset'",
      [email],
    );
    // In the fragment only: a browser sends no fragment to a server or in a Referer.
    expect(mail?.text).toContain(`${t.config.appUrl}/reset-password#token=`);
    expect(mail?.text).not.toMatch(/[?&]token=/);

    const newPassword = strongPassword();
    const reset = await new TestClient(t.app).post('/api/password-reset/confirm/', {
      token,
      password: newPassword,
    });
    expect(reset.statusCode).toBe(200);
    expect(await sessionCount(t, user.id)).toBe(0);

    const replay = await t.app.inject({
      method: 'GET',
      url: '/api/profile/',
      headers: { cookie: `${cookieName}=${encodeURIComponent(oldCookie)}` },
    });
    expect(replay.statusCode).toBe(401);
    expect((await client.get('/api/profile/')).statusCode).toBe(401);

    const oldLogin = await new TestClient(t.app).post('/api/login/', { email, password });
    expect(oldLogin.statusCode).toBe(401);
    await signedIn(t, email, newPassword);

    const reused = await new TestClient(t.app).post('/api/password-reset/confirm/', {
      token,
      password: strongPassword(),
    });
    expect(reused.statusCode).toBe(400);
    expect(reused.json()).toMatchObject({ code: 'INVALID_TOKEN', status: 400 });
    await signedIn(t, email, newPassword);
  });

  it('refuses an expired token with 400 INVALID_TOKEN and keeps the password', async () => {
    const { email, password, user } = await registered(t);
    await new TestClient(t.app).post('/api/password-reset/', { email });
    const token = await emailedToken(t, email, 'password-reset');
    // The token expires an hour after it is issued.
    const [row] = await t.app.database.query<{ seconds: number }>(
      'select extract(epoch from (expires_at - created_at)) as seconds from verifications where value = $1',
      [user.id],
    );
    expect(Number(row?.seconds)).toBeCloseTo(3600, -1);
    await t.app.database.query(
      "update verifications set expires_at = now() - interval '1 second' where value = $1",
      [user.id],
    );
    const res = await new TestClient(t.app).post('/api/password-reset/confirm/', {
      token,
      password: strongPassword(),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('INVALID_TOKEN');
    await signedIn(t, email, password);
  });

  it('applies the password policy to the new password and leaves the token usable', async () => {
    const { email, user } = await registered(t);
    await new TestClient(t.app).post('/api/password-reset/', { email });
    const token = await emailedToken(t, email, 'password-reset');
    const weak = await new TestClient(t.app).post('/api/password-reset/confirm/', { token, password: email });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().code).toBe('VALIDATION_ERROR');
    expect(weak.json().details.password.join(' ')).toMatch(/similar/);
    expect(await sessionCount(t, user.id)).toBe(1);
    const ok = await new TestClient(t.app).post('/api/password-reset/confirm/', {
      token,
      password: strongPassword(),
    });
    expect(ok.statusCode).toBe(200);
  });

  it('refuses a made-up token and validates the body', async () => {
    const client = new TestClient(t.app);
    const made = await client.post('/api/password-reset/confirm/', {
      token: 'nope',
      password: strongPassword(),
    });
    expect(made.statusCode).toBe(400);
    expect(made.json().code).toBe('INVALID_TOKEN');
    const missing = await client.post('/api/password-reset/confirm/', { password: strongPassword() });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().details).toHaveProperty('token');
    const bad = await client.post('/api/password-reset/', { email: 'nope' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details).toHaveProperty('email');
  });
});

describe('email verification', () => {
  it('verifies the address with the token from the email, and refuses a bad token', async () => {
    const { client, email, user } = await registered(t, { name: 'Grace', verified: false });
    const [mail] = await t.app.database.query<{ text: string; html: string }>(
      "select text, html from email_outbox where to_address = $1 and template = 'verify-email'",
      [email],
    );
    // In the fragment only, in both parts of the email.
    expect(mail?.text).toContain(`${t.config.appUrl}/verify-email#token=`);
    expect(mail?.html).toContain(`${t.config.appUrl}/verify-email#token=`);
    expect(`${mail?.text}${mail?.html}`).not.toMatch(/[?&](amp;)?token=/);
    const token = await emailedToken(t, email, 'verify-email');

    const bad = await new TestClient(t.app).post('/api/verify-email/', { token: `${token.slice(0, -3)}abc` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'INVALID_TOKEN', status: 400 });
    expect((await userByEmail(t, email))?.email_verified).toBe(false);

    const res = await new TestClient(t.app).post('/api/verify-email/', { token });
    expect(res.statusCode).toBe(200);
    expect((await userByEmail(t, email))?.email_verified).toBe(true);
    expect((await client.get('/api/profile/')).json().data.user).toMatchObject({
      id: user.id,
      emailVerified: true,
    });
  });

  it('resends a verification email to the signed-in user, within a limit', async () => {
    const { client, email } = await registered(t, { verified: false });
    const anonymous = await new TestClient(t.app).post('/api/verify-email/resend/');
    expect(anonymous.statusCode).toBe(401);

    const res = await client.post('/api/verify-email/resend/');
    expect(res.statusCode).toBe(200);
    expect(await emailCount(t, email, 'verify-email')).toBe(2);
    const token = await emailedToken(t, email, 'verify-email');
    const [resent] = await t.app.database.query<{ text: string }>(
      "select text from email_outbox where to_address = $1 and template = 'verify-email' order by created_at desc limit 1",
      [email],
    );
    expect(resent?.text).toContain(`${t.config.appUrl}/verify-email#token=`);
    expect((await new TestClient(t.app).post('/api/verify-email/', { token })).statusCode).toBe(200);

    const already = await client.post('/api/verify-email/resend/');
    expect(already.statusCode).toBe(200);
    expect(await emailCount(t, email, 'verify-email')).toBe(2);
    await client.post('/api/verify-email/resend/');
    const limited = await client.post('/api/verify-email/resend/');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
  });
});

describe('password change and sessions', () => {
  it('refuses a wrong current password with 400 VALIDATION_ERROR on currentPassword', async () => {
    const { client, email, password } = await registered(t);
    const res = await client.post('/api/password-change/', {
      currentPassword: strongPassword(),
      newPassword: strongPassword(),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_ERROR');
    expect(res.json().details).toHaveProperty('currentPassword');
    await signedIn(t, email, password);

    const weak = await client.post('/api/password-change/', {
      currentPassword: password,
      newPassword: '12345678',
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().details).toHaveProperty('newPassword');
    await signedIn(t, email, password);
  });

  it('changes the password, ends the other sessions and keeps the caller signed in', async () => {
    const { client, email, password, user } = await registered(t);
    const other = await signedIn(t, email, password);
    const newPassword = strongPassword();
    const res = await client.post('/api/password-change/', { currentPassword: password, newPassword });
    expect(res.statusCode).toBe(200);
    expect((await client.get('/api/profile/')).statusCode).toBe(200);
    expect((await other.get('/api/profile/')).statusCode).toBe(401);
    expect(await sessionCount(t, user.id)).toBe(1);
    expect((await new TestClient(t.app).post('/api/login/', { email, password })).statusCode).toBe(401);
    await signedIn(t, email, newPassword);
  });

  it('revokes every other session of the user, and no one else’s', async () => {
    const { client, email, password, user } = await registered(t);
    const second = await signedIn(t, email, password);
    const third = await signedIn(t, email, password);
    const stranger = await registered(t);

    const anonymous = await new TestClient(t.app).post('/api/sessions/revoke-others/');
    expect(anonymous.statusCode).toBe(401);

    const res = await second.post('/api/sessions/revoke-others/');
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual({ revoked: 2 });
    expect((await second.get('/api/profile/')).statusCode).toBe(200);
    expect((await client.get('/api/profile/')).statusCode).toBe(401);
    expect((await third.get('/api/profile/')).statusCode).toBe(401);
    expect(await sessionCount(t, user.id)).toBe(1);
    expect((await stranger.client.get('/api/profile/')).statusCode).toBe(200);
  });
});

describe('expired rows', () => {
  it('deletes expired sessions and reset tokens, and nothing live, on an hourly schedule', async () => {
    const expired = await registered(t);
    const live = await registered(t);
    await new TestClient(t.app).post('/api/password-reset/', { email: expired.email });
    await new TestClient(t.app).post('/api/password-reset/', { email: live.email });
    await emailedToken(t, expired.email, 'password-reset');
    await emailedToken(t, live.email, 'password-reset');
    await t.app.database.query(
      "update sessions set expires_at = now() - interval '1 minute' where user_id = $1",
      [expired.user.id],
    );
    await t.app.database.query(
      "update verifications set expires_at = now() - interval '1 minute' where value = $1",
      [expired.user.id],
    );

    const deleted = await deleteExpired(t.app.database.db);
    expect(deleted.sessions).toBeGreaterThanOrEqual(1);
    expect(deleted.verifications).toBeGreaterThanOrEqual(1);
    expect(await sessionCount(t, expired.user.id)).toBe(0);
    expect(await countRows(t, 'verifications where value = $1', [expired.user.id])).toBe(0);
    expect(await sessionCount(t, live.user.id)).toBe(1);
    expect(await countRows(t, 'verifications where value = $1', [live.user.id])).toBe(1);
    expect((await live.client.get('/api/profile/')).statusCode).toBe(200);

    const schedules = await t.app.database.query<{ cron: string }>(
      'select cron from pgboss.schedule where name = $1',
      [CLEANUP_QUEUE],
    );
    expect(schedules).toEqual([{ cron: '17 * * * *' }]);
  });
});

describe('create-admin', () => {
  it('creates a verified staff user who can sign in, or promotes an existing one', async () => {
    const auth = createAuth({
      config: t.config,
      db: t.app.database.db,
      mailer: t.app.mailer,
      logger: t.app.log,
    });
    const email = newEmail('admin');
    const password = strongPassword();
    expect(
      await createOrPromoteStaff(auth, t.app.database.db, email.toUpperCase(), async () => password),
    ).toBe('created');
    expect(await userByEmail(t, email)).toMatchObject({ is_staff: true, email_verified: true, email });
    const user = await userByEmail(t, email);
    expect(await countRows(t, 'profiles where user_id = $1', [user!.id])).toBe(1);
    const admin = await signedIn(t, email, password);
    expect((await admin.get('/api/profile/')).json().data.user.isStaff).toBe(true);

    await expect(
      createOrPromoteStaff(auth, t.app.database.db, newEmail(), async () => 'password'),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR', details: { password: expect.any(Array) } });
    await expect(
      createOrPromoteStaff(auth, t.app.database.db, 'not-an-email', async () => strongPassword()),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR', details: { email: expect.any(Array) } });

    const member = await registered(t);
    const noPassword = async () => {
      throw new Error('an existing user is promoted without a password');
    };
    expect(await createOrPromoteStaff(auth, t.app.database.db, member.email, noPassword)).toBe('promoted');
    expect((await member.client.get('/api/profile/')).json().data.user.isStaff).toBe(true);
    expect(await createOrPromoteStaff(auth, t.app.database.db, member.email, noPassword)).toBe(
      'already-staff',
    );
  });
});

describe('logs', () => {
  it('never contain the passwords, tokens, cookies or email addresses used', () => {
    expect(secrets.size).toBeGreaterThan(10);
    expect(leakedSecrets(t)).toEqual([]);
  });
});
