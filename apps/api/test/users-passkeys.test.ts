import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteExpired } from '../src/users/sessions.ts';
import { createTestApp, type TestApp, TestClient } from './helper.ts';
import { countRows, leakedSecrets, registered, sessionCount } from './users.helpers.ts';
import { otherPrivateKey, SoftwareAuthenticator } from './webauthn.helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

interface Options {
  challengeId: string;
  options: { challenge: string; rp?: { id?: string }; rpId?: string; user?: { id: string } };
}

async function options(client: TestClient, url: string): Promise<Options> {
  const res = await client.post(url);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { data: Options }).data;
}

/** A signed-in user who has added a passkey held by a software authenticator. */
async function userWithPasskey(name = 'Laptop') {
  const account = await registered(t);
  const authenticator = new SoftwareAuthenticator(t.config.appUrl);
  const { challengeId, options: creation } = await options(
    account.client,
    '/api/passkeys/registration-options',
  );
  const res = await account.client.post('/api/passkeys', {
    challengeId,
    name,
    credential: authenticator.create(creation),
  });
  expect(res.statusCode, res.body).toBe(201);
  const passkey = (res.json() as { data: { id: string; name: string } }).data;
  return { ...account, authenticator, passkey };
}

describe('adding a passkey', () => {
  it('verifies the registration against APP_URL and stores the credential under its name', async () => {
    const { client, user, authenticator, passkey } = await userWithPasskey('Work laptop');
    expect(passkey.name).toBe('Work laptop');
    const stored = await t.app.database.query<{ credential_id: string; user_id: string }>(
      'select credential_id, user_id from passkeys where id = $1',
      [passkey.id],
    );
    expect(stored).toEqual([{ credential_id: authenticator.id, user_id: user.id }]);

    const list = await client.get('/api/passkeys');
    expect(list.statusCode).toBe(200);
    expect(list.json().data.passkeys).toEqual([
      {
        id: passkey.id,
        name: 'Work laptop',
        createdAt: expect.any(String),
        lastUsedAt: null,
        backedUp: false,
      },
    ]);
  });

  it('offers the relying party of APP_URL, a discoverable credential with user verification, and excludes those already added', async () => {
    const { client, authenticator } = await userWithPasskey();
    const res = await client.post('/api/passkeys/registration-options');
    const { options: creation } = res.json().data;
    expect(creation.rp).toEqual({ name: 'Tierbase', id: new URL(t.config.appUrl).hostname });
    expect(creation.authenticatorSelection).toMatchObject({
      residentKey: 'required',
      userVerification: 'required',
    });
    expect(creation.attestation).toBe('none');
    expect(creation.excludeCredentials).toEqual([
      { id: authenticator.id, type: 'public-key', transports: ['internal'] },
    ]);
  });

  it('refuses a used registration challenge, one created on another site, and a signed-out caller', async () => {
    const { client } = await registered(t);
    const authenticator = new SoftwareAuthenticator(t.config.appUrl);
    const first = await options(client, '/api/passkeys/registration-options');

    const phished = await client.post('/api/passkeys', {
      challengeId: first.challengeId,
      name: 'Phished',
      credential: authenticator.create(first.options, { origin: 'https://evil.example' }),
    });
    expect(phished.statusCode).toBe(400);
    expect(phished.json()).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { credential: expect.any(Array) },
    });

    // The failed attempt used the challenge up.
    const again = await client.post('/api/passkeys', {
      challengeId: first.challengeId,
      name: 'Again',
      credential: authenticator.create(first.options),
    });
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe('INVALID_TOKEN');
    expect(await countRows(t, 'passkeys where name in ($1, $2)', ['Phished', 'Again'])).toBe(0);

    const anonymous = await new TestClient(t.app).post('/api/passkeys/registration-options');
    expect(anonymous.statusCode).toBe(401);
  });

  it("refuses another user's registration challenge", async () => {
    const alice = await registered(t);
    const bob = await registered(t);
    const alices = await options(alice.client, '/api/passkeys/registration-options');
    const res = await bob.client.post('/api/passkeys', {
      challengeId: alices.challengeId,
      name: 'Bob',
      credential: new SoftwareAuthenticator(t.config.appUrl).create(alices.options),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('INVALID_TOKEN');
  });

  it('refuses an expired challenge', async () => {
    const { client } = await registered(t);
    const creation = await options(client, '/api/passkeys/registration-options');
    await t.app.database.query(
      "update passkey_challenges set expires_at = now() - interval '1 second' where id = $1",
      [creation.challengeId],
    );
    const res = await client.post('/api/passkeys', {
      challengeId: creation.challengeId,
      name: 'Late',
      credential: new SoftwareAuthenticator(t.config.appUrl).create(creation.options),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('INVALID_TOKEN');
  });

  it('leaves expired challenges to the hourly cleanup, which keeps live ones', async () => {
    const { client } = await registered(t);
    const stale = await options(client, '/api/passkeys/registration-options');
    const live = await options(client, '/api/passkeys/registration-options');
    await t.app.database.query(
      "update passkey_challenges set expires_at = now() - interval '1 second' where id = $1",
      [stale.challengeId],
    );
    const deleted = await deleteExpired(t.app.database.db);
    expect(deleted.passkeyChallenges).toBeGreaterThanOrEqual(1);
    expect(await countRows(t, 'passkey_challenges where id = $1', [stale.challengeId])).toBe(0);
    expect(await countRows(t, 'passkey_challenges where id = $1', [live.challengeId])).toBe(1);
  });

  it('needs the CSRF token', async () => {
    const { client } = await registered(t);
    const res = await client.request({
      method: 'POST',
      url: '/api/passkeys/registration-options',
      headers: { 'x-csrftoken': 'wrong' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('CSRF_FAILED');
  });
});

describe('signing in with a passkey', () => {
  it('starts a session for the passkey’s owner without an email, and records the use', async () => {
    const { user, authenticator, passkey, client: owner } = await userWithPasskey();
    const before = await sessionCount(t, user.id);
    const browser = new TestClient(t.app);
    const request = await options(browser, '/api/passkeys/sign-in/options');
    // Usernameless: the browser may offer any passkey of the site.
    expect(request.options).not.toHaveProperty('allowCredentials');
    expect(request.options).toMatchObject({
      rpId: new URL(t.config.appUrl).hostname,
      userVerification: 'required',
    });

    const res = await browser.post('/api/passkeys/sign-in', {
      challengeId: request.challengeId,
      credential: authenticator.get(request.options),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data.user).toMatchObject({ id: user.id, email: user.email });
    expect(await sessionCount(t, user.id)).toBe(before + 1);
    const profile = await browser.get('/api/profile');
    expect(profile.statusCode).toBe(200);
    expect(profile.json().data.user.id).toBe(user.id);

    const [listed] = (await owner.get('/api/passkeys')).json().data.passkeys;
    expect(listed).toMatchObject({ id: passkey.id, lastUsedAt: expect.any(String) });
    expect(leakedSecrets(t)).toEqual([]);
  });

  it('refuses a replayed assertion: the challenge was used', async () => {
    const { authenticator } = await userWithPasskey();
    const browser = new TestClient(t.app);
    const request = await options(browser, '/api/passkeys/sign-in/options');
    const body = { challengeId: request.challengeId, credential: authenticator.get(request.options) };
    expect((await browser.post('/api/passkeys/sign-in', body)).statusCode).toBe(200);

    const attacker = new TestClient(t.app);
    const replay = await attacker.post('/api/passkeys/sign-in', body);
    expect(replay.statusCode).toBe(400);
    expect(replay.json()).toMatchObject({ success: false, code: 'INVALID_TOKEN' });
    expect((await attacker.get('/api/profile')).statusCode).toBe(401);
  });

  it('refuses a signature made with another key, and another site’s assertion', async () => {
    const { user, authenticator } = await userWithPasskey();
    const before = await sessionCount(t, user.id);
    const browser = new TestClient(t.app);

    const forged = await options(browser, '/api/passkeys/sign-in/options');
    const res = await browser.post('/api/passkeys/sign-in', {
      challengeId: forged.challengeId,
      credential: authenticator.get(forged.options, { signWith: otherPrivateKey() }),
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({
      code: 'INVALID_CREDENTIALS',
      error: 'This passkey could not be verified.',
    });

    const phished = await options(browser, '/api/passkeys/sign-in/options');
    const elsewhere = await browser.post('/api/passkeys/sign-in', {
      challengeId: phished.challengeId,
      credential: authenticator.get(phished.options, { origin: 'https://evil.example' }),
    });
    expect(elsewhere.statusCode).toBe(401);

    expect(await sessionCount(t, user.id)).toBe(before);
    expect((await browser.get('/api/profile')).statusCode).toBe(401);
  });

  it('refuses a passkey that is not registered', async () => {
    const browser = new TestClient(t.app);
    const request = await options(browser, '/api/passkeys/sign-in/options');
    const stranger = new SoftwareAuthenticator(t.config.appUrl);
    const res = await browser.post('/api/passkeys/sign-in', {
      challengeId: request.challengeId,
      credential: stranger.get(request.options),
    });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('INVALID_CREDENTIALS');
  });

  it('gives a deactivated account no session', async () => {
    const { user, authenticator } = await userWithPasskey();
    await t.app.database.query('update users set deactivated_at = now() where id = $1', [user.id]);
    const browser = new TestClient(t.app);
    const request = await options(browser, '/api/passkeys/sign-in/options');
    const res = await browser.post('/api/passkeys/sign-in', {
      challengeId: request.challengeId,
      credential: authenticator.get(request.options),
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('ACCOUNT_DEACTIVATED');
  });
});

describe('managing passkeys', () => {
  it('renames and deletes a passkey; a deleted passkey no longer signs in', async () => {
    const { client, authenticator, passkey } = await userWithPasskey();
    const renamed = await client.patch(`/api/passkeys/${passkey.id}`, { name: 'Phone' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json().data.name).toBe('Phone');

    const deleted = await client.request({ method: 'DELETE', url: `/api/passkeys/${passkey.id}` });
    expect(deleted.statusCode).toBe(200);
    expect((await client.get('/api/passkeys')).json().data.passkeys).toEqual([]);

    const browser = new TestClient(t.app);
    const request = await options(browser, '/api/passkeys/sign-in/options');
    const res = await browser.post('/api/passkeys/sign-in', {
      challengeId: request.challengeId,
      credential: authenticator.get(request.options),
    });
    expect(res.statusCode).toBe(401);
  });

  it("cannot rename or delete another user's passkey", async () => {
    const alice = await userWithPasskey();
    const bob = await registered(t);
    const deleted = await bob.client.request({ method: 'DELETE', url: `/api/passkeys/${alice.passkey.id}` });
    expect(deleted.statusCode).toBe(404);
    expect(deleted.json().code).toBe('NOT_FOUND');
    const renamed = await bob.client.patch(`/api/passkeys/${alice.passkey.id}`, { name: 'Mine' });
    expect(renamed.statusCode).toBe(404);
    expect((await bob.client.get('/api/passkeys')).json().data.passkeys).toEqual([]);
    expect((await alice.client.get('/api/passkeys')).json().data.passkeys).toMatchObject([
      { id: alice.passkey.id, name: 'Laptop' },
    ]);
  });

  it('rejects a blank name', async () => {
    const { client, passkey } = await userWithPasskey();
    const res = await client.patch(`/api/passkeys/${passkey.id}`, { name: '   ' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'VALIDATION_ERROR', details: { name: expect.any(Array) } });
  });
});

describe('rate limits', () => {
  it('holds sign-in to the login budget per IP, and adding passkeys to the login budget per user', async () => {
    const limited = await createTestApp({
      env: { RATE_LIMIT_LOGIN_PER_IP_PER_15_MINUTES: '2', RATE_LIMIT_LOGIN_PER_15_MINUTES: '1' },
    });
    try {
      const browser = new TestClient(limited.app);
      const optionStatuses = [];
      for (let i = 0; i < 3; i++) {
        optionStatuses.push((await browser.post('/api/passkeys/sign-in/options')).statusCode);
      }
      expect(optionStatuses).toEqual([200, 200, 429]);

      const authenticator = new SoftwareAuthenticator(limited.config.appUrl);
      const signInStatuses = [];
      for (let i = 0; i < 3; i++) {
        const res = await browser.post('/api/passkeys/sign-in', {
          challengeId: 'no-such-challenge',
          credential: authenticator.get({ challenge: 'AAAA', rpId: 'localhost' }),
        });
        signInStatuses.push(res.statusCode);
      }
      expect(signInStatuses).toEqual([400, 400, 429]);

      const { client } = await registered(limited);
      const first = await options(client, '/api/passkeys/registration-options');
      const added = await client.post('/api/passkeys', {
        challengeId: first.challengeId,
        name: 'One',
        credential: authenticator.create(first.options),
      });
      expect(added.statusCode).toBe(201);
      const second = await options(client, '/api/passkeys/registration-options');
      const refused = await client.post('/api/passkeys', {
        challengeId: second.challengeId,
        name: 'Two',
        credential: new SoftwareAuthenticator(limited.config.appUrl).create(second.options),
      });
      expect(refused.statusCode).toBe(429);
      expect(refused.json().code).toBe('RATE_LIMITED');
    } finally {
      await limited.close();
    }
  });
});

describe('your data', () => {
  it('the account export lists the passkeys; deleting the account deletes them', async () => {
    const { client, password, user } = await userWithPasskey('Phone');
    const exported = await client.get('/api/account/export');
    expect(exported.statusCode).toBe(200);
    expect(JSON.parse(exported.body).passkeys).toEqual([
      { name: 'Phone', createdAt: expect.any(String), lastUsedAt: null, backedUp: false },
    ]);

    const deleted = await client.post('/api/account/delete', { password });
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect(await countRows(t, 'passkeys where user_id = $1', [user.id])).toBe(0);
  });
});

describe('the OpenAPI document', () => {
  it('describes every passkey endpoint with its request body', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
    expect(res.statusCode).toBe(200);
    const paths = res.json().paths as Record<
      string,
      Record<string, { requestBody?: unknown; tags?: string[] }>
    >;
    expect(paths['/api/passkeys']).toHaveProperty('get');
    expect(paths['/api/passkeys']?.post?.requestBody).toBeDefined();
    expect(paths['/api/passkeys/registration-options']).toHaveProperty('post');
    expect(Object.keys(paths['/api/passkeys/{id}'] ?? {}).sort()).toEqual(['delete', 'patch']);
    expect(paths['/api/passkeys/sign-in/options']).toHaveProperty('post');
    expect(paths['/api/passkeys/sign-in']?.post?.tags).toEqual(['passkeys']);
  });
});
