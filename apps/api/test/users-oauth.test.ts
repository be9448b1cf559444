import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, freePort, type TestApp, TestClient } from './helper.ts';
import { Browser, type Identity, startGitHubProvider, startOidcProvider } from './oauth-providers.ts';
import {
  countRows,
  emailedToken,
  leakedSecrets,
  newEmail,
  registered,
  secrets,
  signedIn,
  strongPassword,
  userByEmail,
} from './users.helpers.ts';

/**
 * OAuth sign-in end to end over real HTTP: the app listens on a loopback port, a local OpenID
 * Connect provider stands in for Google and a GitHub-shaped server for GitHub, and a fetch-based
 * browser follows every redirect by hand, carrying each origin's cookies.
 */
let t: TestApp;
let appUrl: string;
let google: Awaited<ReturnType<typeof startOidcProvider>>;
let github: Awaited<ReturnType<typeof startGitHubProvider>>;

beforeAll(async () => {
  google = await startOidcProvider();
  github = await startGitHubProvider();
  const port = await freePort();
  appUrl = `http://127.0.0.1:${port}`;
  t = await createTestApp({
    env: {
      APP_URL: appUrl,
      OAUTH_GOOGLE_CLIENT_ID: 'tierbase-test-client',
      OAUTH_GOOGLE_CLIENT_SECRET: 'google-test-secret',
      OAUTH_GOOGLE_ISSUER_URL: google.issuerUrl,
      OAUTH_GITHUB_CLIENT_ID: 'tierbase-github-client',
      OAUTH_GITHUB_CLIENT_SECRET: 'github-test-secret',
      OAUTH_GITHUB_URL: github.url,
      OAUTH_GITHUB_API_URL: github.url,
    },
  });
  await t.app.listen({ port, host: '127.0.0.1' });
});
afterAll(async () => {
  await t?.close();
  await google?.stop();
  await github?.stop();
});

function identity(label: string, overrides: Partial<Identity> = {}): Identity {
  const email = newEmail(label);
  return {
    sub: `${label}-${email.split('@')[0]}`,
    email,
    emailVerified: true,
    name: `Person ${label}`,
    ...overrides,
  };
}

async function signInWith(provider: 'google' | 'github', browser = new Browser(), next = '/settings') {
  const landed = await browser.signIn(
    `${appUrl}/api/auth/oauth/${provider}/start?next=${encodeURIComponent(next)}`,
    appUrl,
  );
  return { browser, landed };
}

async function profileOf(browser: Browser) {
  const response = await browser.get(`${appUrl}/api/profile/`);
  const body = (await response.json()) as { data?: { user: { email: string; id: string } } };
  return { status: response.status, body: { data: body.data?.user } };
}

async function accountsOf(email: string) {
  return t.app.database.query<{ provider_id: string; account_id: string }>(
    `select a.provider_id, a.account_id from accounts a join users u on u.id = a.user_id
     where lower(u.email) = lower($1) order by a.provider_id`,
    [email],
  );
}

describe('providers', () => {
  it('lists only the providers whose variables are set', async () => {
    const response = await fetch(`${appUrl}/api/auth/providers/`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      success: true,
      data: {
        providers: [
          { id: 'github', name: 'GitHub' },
          { id: 'google', name: 'Google' },
        ],
      },
    });

    const bare = await createTestApp();
    try {
      const listed = await bare.app.inject({ method: 'GET', url: '/api/auth/providers/' });
      expect(listed.json().data.providers).toEqual([]);
      const start = await bare.app.inject({ method: 'GET', url: '/api/auth/oauth/google/start' });
      expect(start.statusCode).toBe(302);
      expect(start.headers.location).toBe('/login?error=oauth_unavailable');
    } finally {
      await bare.close();
    }
  });

  it('are documented in the OpenAPI description', async () => {
    const docs = await t.app.inject({ method: 'GET', url: '/api/docs/json' });
    const paths = docs.json().paths as Record<string, Record<string, { parameters?: { name: string }[] }>>;
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining([
        '/api/auth/providers',
        '/api/auth/methods',
        '/api/auth/oauth/{provider}/start',
        '/api/auth/oauth/{provider}/callback',
      ]),
    );
    const callbackParameters = paths['/api/auth/oauth/{provider}/callback']?.get?.parameters ?? [];
    expect(callbackParameters.map((parameter) => parameter.name)).toEqual(
      expect.arrayContaining(['provider', 'code', 'state', 'error']),
    );
  });

  it('redirects an unknown provider to the login page with an error', async () => {
    const response = await new Browser().get(`${appUrl}/api/auth/oauth/facebook/start`);
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/login?error=oauth_unavailable');
  });
});

describe('signing in with Google (OpenID Connect)', () => {
  it('starts with state and PKCE, creates the user with a profile, and signs them in', async () => {
    const person = identity('google-new');
    google.state.identity = person;
    const browser = new Browser();
    const start = await browser.get(`${appUrl}/api/auth/oauth/google/start?next=/settings`);
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get('location') ?? '');
    expect(authorize.origin).toBe(google.issuerUrl);
    expect(authorize.searchParams.get('client_id')).toBe('tierbase-test-client');
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${appUrl}/api/auth/oauth/google/callback`);
    expect(authorize.searchParams.get('state')).toMatch(/.{16,}/);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('nonce')).toBeTruthy();

    const landed = await browser.signIn(authorize.toString(), appUrl);
    expect(landed.toString()).toBe(`${appUrl}/settings`);
    const profile = await profileOf(browser);
    expect(profile.status).toBe(200);
    expect(profile.body.data?.email).toBe(person.email);

    const user = await userByEmail(t, person.email);
    expect(user).toMatchObject({ email_verified: true, name: person.name });
    expect(await countRows(t, 'profiles where user_id = $1', [user?.id])).toBe(1);
    // An account made by a provider has its personal workspace, as one made by sign-up.
    expect(
      await countRows(
        t,
        "organizations o join organization_members m on m.organization_id = o.id and m.user_id = o.personal_user_id and m.role = 'owner' where o.personal_user_id = $1",
        [user?.id],
      ),
    ).toBe(1);
    expect(await accountsOf(person.email)).toEqual([{ provider_id: 'google', account_id: person.sub }]);
    const methods = await browser.get(`${appUrl}/api/auth/methods/`);
    expect(await methods.json()).toEqual({
      success: true,
      data: { password: false, providers: [{ id: 'google', name: 'Google' }] },
    });
  });

  it('signs the same person in again into the same account', async () => {
    const person = identity('google-again');
    google.state.identity = person;
    const first = await signInWith('google');
    const firstId = (await profileOf(first.browser)).body.data?.id;
    const users = await countRows(t, 'users');

    const second = await signInWith('google');
    expect((await profileOf(second.browser)).body.data?.id).toBe(firstId);
    expect(await countRows(t, 'users')).toBe(users);
    expect(await accountsOf(person.email)).toHaveLength(1);
    // Two browsers, two sessions.
    expect(await countRows(t, 'sessions where user_id = $1', [firstId])).toBe(2);
  });

  it('ends the session the browser had when it signs in as someone else', async () => {
    const first = identity('google-first');
    google.state.identity = first;
    const { browser } = await signInWith('google');
    const firstId = (await profileOf(browser)).body.data?.id;
    expect(await countRows(t, 'sessions where user_id = $1', [firstId])).toBe(1);

    google.state.identity = identity('google-second');
    await signInWith('google', browser);
    expect((await profileOf(browser)).body.data?.email).toBe(google.state.identity.email);
    expect(await countRows(t, 'sessions where user_id = $1', [firstId])).toBe(0);
  });

  it('lets an account made with Google set a password through the reset link', async () => {
    const person = identity('google-password');
    google.state.identity = person;
    await signInWith('google');
    const client = new TestClient(t.app);
    expect((await client.post('/api/password-reset/', { email: person.email })).statusCode).toBe(200);
    const token = await emailedToken(t, person.email, 'password-reset');
    const password = strongPassword();
    const reset = await client.post('/api/password-reset/confirm/', { token, password });
    expect(reset.statusCode).toBe(200);
    const withPassword = await signedIn(t, person.email, password);
    expect((await withPassword.get('/api/auth/methods/')).json().data).toEqual({
      password: true,
      providers: [{ id: 'google', name: 'Google' }],
    });
  });

  it('lands on the home page when `next` is not a path inside the app', async () => {
    google.state.identity = identity('google-next');
    for (const next of ['//evil.example.com/x', 'https://evil.example.com/', '/\\evil.example.com']) {
      const { landed } = await signInWith('google', new Browser(), next);
      expect(landed.toString()).toBe(`${appUrl}/`);
    }
  });
});

describe('linking to an existing account', () => {
  it('links a provider-verified address to the verified account that has it', async () => {
    const { email, user } = await registered(t);
    google.state.identity = identity('google-link', { email });
    const { browser } = await signInWith('google');
    expect((await profileOf(browser)).body.data?.id).toBe(user.id);
    expect((await accountsOf(email)).map((a) => a.provider_id)).toEqual(['credential', 'google']);
    const methods = await browser.get(`${appUrl}/api/auth/methods/`);
    expect(((await methods.json()) as { data: unknown }).data).toEqual({
      password: true,
      providers: [{ id: 'google', name: 'Google' }],
    });
    expect((await new Browser().get(`${appUrl}/api/auth/methods/`)).status).toBe(401);
  });

  it('does not link to an account whose own address is unverified (pre-registration takeover)', async () => {
    const { email } = await registered(t, { verified: false });
    google.state.identity = identity('google-squat', { email });
    const { browser, landed } = await signInWith('google');
    expect(landed.pathname + landed.search).toBe('/login?error=oauth_account_not_linked');
    expect((await profileOf(browser)).status).toBe(401);
    expect((await accountsOf(email)).map((a) => a.provider_id)).toEqual(['credential']);
  });

  it('refuses an address the provider has not verified, creating nothing', async () => {
    const { email } = await registered(t);
    google.state.identity = identity('google-unverified', { email, emailVerified: false });
    const existing = await signInWith('google');
    expect(existing.landed.pathname + existing.landed.search).toBe('/login?error=oauth_email_unverified');
    expect((await accountsOf(email)).map((a) => a.provider_id)).toEqual(['credential']);

    const stranger = identity('google-unverified-new', { emailVerified: false });
    google.state.identity = stranger;
    const fresh = await signInWith('google');
    expect(fresh.landed.search).toBe('?error=oauth_email_unverified');
    expect(await userByEmail(t, stranger.email)).toBeUndefined();
  });
});

describe('refusals', () => {
  it('refuses a callback whose state was not issued to this browser', async () => {
    google.state.identity = identity('google-state');
    const victim = new Browser();
    const start = await victim.get(`${appUrl}/api/auth/oauth/google/start`);
    const authorized = await victim.get(start.headers.get('location') ?? '');
    const callback = authorized.headers.get('location') ?? '';
    expect(callback).toContain('/api/auth/oauth/google/callback?');

    // Another browser (an attacker's link) brings the code and state without the state cookie.
    const other = new Browser();
    const stolen = await other.get(callback);
    expect(stolen.status).toBe(302);
    expect(stolen.headers.get('location')).toBe('/login?error=oauth_state');
    expect((await profileOf(other)).status).toBe(401);

    // A forged state in the right browser.
    const forged = new URL(callback);
    forged.searchParams.set('state', 'forged-state-value-0000000000000');
    const refused = await victim.get(forged.toString());
    expect(refused.headers.get('location')).toBe('/login?error=oauth_state');

    // No state at all.
    const bare = await victim.get(`${appUrl}/api/auth/oauth/google/callback?code=abc`);
    expect(bare.headers.get('location')).toBe('/login?error=oauth_state');
    expect((await profileOf(victim)).status).toBe(401);
  });

  it('shows a denied consent as oauth_denied', async () => {
    const browser = new Browser();
    const start = await browser.get(`${appUrl}/api/auth/oauth/google/start`);
    const state = new URL(start.headers.get('location') ?? '').searchParams.get('state') ?? '';
    const denied = await browser.get(
      `${appUrl}/api/auth/oauth/google/callback?error=access_denied&state=${encodeURIComponent(state)}`,
    );
    expect(denied.status).toBe(302);
    expect(denied.headers.get('location')).toBe('/login?error=oauth_denied');
  });

  it('answers a provider that fails with a redirect, not a 500', async () => {
    github.state.identity = identity('github-down', { sub: '4242' });
    github.state.failTokens = true;
    try {
      const { browser, landed } = await signInWith('github');
      expect(landed.pathname + landed.search).toBe('/login?error=oauth_provider');
      expect((await profileOf(browser)).status).toBe(401);
    } finally {
      github.state.failTokens = false;
    }
  });

  it('answers a provider that cannot be reached at all with a redirect, not a 500', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const port = await freePort();
    const downUrl = `http://127.0.0.1:${port}`;
    const down = await createTestApp({
      env: {
        APP_URL: downUrl,
        OAUTH_GOOGLE_CLIENT_ID: 'tierbase-test-client',
        OAUTH_GOOGLE_CLIENT_SECRET: 'google-test-secret',
        OAUTH_GOOGLE_ISSUER_URL: closed,
        OAUTH_GITHUB_CLIENT_ID: 'tierbase-github-client',
        OAUTH_GITHUB_CLIENT_SECRET: 'github-test-secret',
        OAUTH_GITHUB_URL: closed,
        OAUTH_GITHUB_API_URL: closed,
      },
    });
    try {
      await down.app.listen({ port, host: '127.0.0.1' });
      const browser = new Browser();
      // Google's discovery document cannot be fetched: no authorize URL to send the browser to.
      const google = await browser.get(`${downUrl}/api/auth/oauth/google/start`);
      expect(google.status).toBe(302);
      expect(google.headers.get('location')).toBe('/login?error=oauth_provider');
      // GitHub's token endpoint cannot be reached when the browser comes back with a code.
      const start = await browser.get(`${downUrl}/api/auth/oauth/github/start`);
      const state = new URL(start.headers.get('location') ?? '').searchParams.get('state') ?? '';
      const callback = await browser.get(
        `${downUrl}/api/auth/oauth/github/callback?code=abc&state=${encodeURIComponent(state)}`,
      );
      expect(callback.status).toBe(302);
      expect(callback.headers.get('location')).toBe('/login?error=oauth_provider');
    } finally {
      await down.close();
    }
  });

  it('signs no one into a deactivated account', async () => {
    const person = identity('google-deactivated');
    google.state.identity = person;
    await signInWith('google');
    await t.app.database.query('update users set deactivated_at = now() where lower(email) = $1', [
      person.email,
    ]);
    const { browser, landed } = await signInWith('google');
    expect(landed.pathname + landed.search).toBe('/login?error=oauth_account_deactivated');
    expect((await profileOf(browser)).status).toBe(401);
  });
});

describe('signing in with GitHub', () => {
  it("creates the user from GitHub's verified primary address and signs them in again", async () => {
    const person = identity('github-new', { sub: '777001' });
    github.state.identity = person;
    const first = await signInWith('github', new Browser(), '/');
    expect(first.landed.toString()).toBe(`${appUrl}/`);
    expect((await profileOf(first.browser)).body.data?.email).toBe(person.email);
    expect(await accountsOf(person.email)).toEqual([{ provider_id: 'github', account_id: '777001' }]);

    const again = await signInWith('github');
    expect((await profileOf(again.browser)).body.data?.email).toBe(person.email);
    expect(await accountsOf(person.email)).toHaveLength(1);
  });

  it('refuses a GitHub account whose primary address is unverified', async () => {
    const person = identity('github-unverified', { sub: '777002', emailVerified: false });
    github.state.identity = person;
    const { landed } = await signInWith('github');
    expect(landed.search).toBe('?error=oauth_email_unverified');
    expect(await userByEmail(t, person.email)).toBeUndefined();
  });
});

describe('logs', () => {
  it('hold no email address or secret', () => {
    secrets.add('google-test-secret');
    secrets.add('github-test-secret');
    expect(leakedSecrets(t)).toEqual([]);
  });
});
