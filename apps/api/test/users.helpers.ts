import { randomBytes } from 'node:crypto';
import type { TestApp } from './helper.ts';
import { TestClient, waitFor } from './helper.ts';

/** Secrets and personal data used by a test file; the logs must contain none of them. */
export const secrets = new Set<string>();

/** A fresh address per test, so rate limits and uniqueness never leak between tests. */
export function newEmail(label = 'user'): string {
  const email = `${label}.${randomBytes(5).toString('hex')}@example.com`.toLowerCase();
  secrets.add(email);
  secrets.add(email.toUpperCase());
  return email;
}

/** A password the policy accepts (random, so zxcvbn scores it 4). */
export function strongPassword(): string {
  const password = `Tb-${randomBytes(12).toString('base64url')}-9x`;
  secrets.add(password);
  return password;
}

export async function countRows(t: TestApp, sql: string, values: unknown[] = []): Promise<number> {
  const [row] = await t.app.database.query<{ count: string | number }>(
    `select count(*) as count from ${sql}`,
    values,
  );
  return Number(row?.count ?? 0);
}

export async function userByEmail(t: TestApp, email: string) {
  const [row] = await t.app.database.query<{
    id: string;
    email: string;
    email_verified: boolean;
    is_staff: boolean;
    name: string;
  }>('select id, email, email_verified, is_staff, name from users where lower(email) = lower($1)', [email]);
  return row;
}

export async function sessionCount(t: TestApp, userId: string): Promise<number> {
  return countRows(t, 'sessions where user_id = $1', [userId]);
}

/** The token of every email of a template sent to an address, newest first. */
async function tokensInOutbox(t: TestApp, email: string, template: 'verify-email' | 'password-reset') {
  const rows = await t.app.database.query<{ text: string }>(
    `select text from email_outbox where lower(to_address) = lower($1) and template = $2
     order by created_at desc, id desc`,
    [email, template],
  );
  return rows.map(({ text }) => {
    // The link carries it in the fragment (#token=…); links sent before that, in the query.
    const match = /[#?&]token=([^\s&"'<>)]+)/.exec(text);
    if (!match?.[1]) throw new Error(`no token link in the ${template} email`);
    const token = decodeURIComponent(match[1]);
    secrets.add(token);
    return token;
  });
}

/**
 * The tokens of the `count` newest emails of a template sent to an address, newest first, read
 * from the outbox the way a person reads their inbox. Waits for them: reset emails are sent by a job.
 */
export async function emailedTokens(
  t: TestApp,
  email: string,
  template: 'verify-email' | 'password-reset',
  count: number,
): Promise<string[]> {
  const tokens = await waitFor(async () => {
    const found = await tokensInOutbox(t, email, template);
    return found.length >= count ? found : undefined;
  });
  return tokens.slice(0, count);
}

/** The token in the newest email of a template sent to an address (waiting for the first one). */
export async function emailedToken(t: TestApp, email: string, template: 'verify-email' | 'password-reset') {
  const [token] = await emailedTokens(t, email, template, 1);
  if (!token) throw new Error(`no ${template} email for the address`);
  return token;
}

export async function emailCount(t: TestApp, email: string, template: string): Promise<number> {
  return countRows(t, 'email_outbox where lower(to_address) = lower($1) and template = $2', [
    email,
    template,
  ]);
}

/**
 * Signs up through the API (202, no session) and follows the verification link from the email,
 * which signs the client in, as a new user does. Returns the new user's id.
 */
export async function signUpAndVerify(
  t: TestApp,
  client: TestClient,
  body: { email: string; password: string; name?: string },
): Promise<string> {
  const res = await client.post('/api/register/', body);
  if (res.statusCode !== 202) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
  const token = await emailedToken(t, body.email, 'verify-email');
  const verified = await client.post('/api/verify-email/', { token });
  if (verified.statusCode !== 200) throw new Error(`verify failed: ${verified.statusCode} ${verified.body}`);
  const user = await userByEmail(t, body.email);
  if (!user) throw new Error('registered user not found');
  return user.id;
}

/**
 * Registers through the API and returns the signed-in client: by the verification link (the
 * address is then verified), or with `verified: false` by signing in with the password.
 */
export async function registered(
  t: TestApp,
  options: { email?: string; password?: string; name?: string; verified?: boolean } = {},
) {
  const email = options.email ?? newEmail();
  const password = options.password ?? strongPassword();
  const client = new TestClient(t.app);
  const body = { email, password, ...(options.name ? { name: options.name } : {}) };
  if (options.verified === false) {
    const res = await client.post('/api/register/', body);
    if (res.statusCode !== 202) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
    const login = await client.post('/api/login/', { email, password });
    if (login.statusCode !== 200) throw new Error(`login failed: ${login.statusCode} ${login.body}`);
  } else {
    await signUpAndVerify(t, client, body);
  }
  const user = await userByEmail(t, email);
  if (!user) throw new Error('registered user not found');
  return { client, email, password, user };
}

/** Signs in a new client with the credentials. */
export async function signedIn(t: TestApp, email: string, password: string) {
  const client = new TestClient(t.app);
  const res = await client.post('/api/login/', { email, password });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return client;
}

export function sessionCookieOf(client: TestClient): [string, string] {
  const entry = [...client.cookies].find(([name]) => name.includes('session_token'));
  if (!entry) throw new Error('no session cookie');
  secrets.add(entry[1]);
  return entry;
}

/** Asserts that no secret or email used by the tests appears in the captured logs. */
export function leakedSecrets(t: TestApp): string[] {
  const text = t.logs.text;
  return [...secrets].filter((secret) => text.includes(secret) || text.includes(encodeURIComponent(secret)));
}

/** Waits until no job of the queue is left to run (created, retrying or active). */
export async function jobsDone(t: TestApp, queue: string): Promise<void> {
  await waitFor(async () => {
    const pending = await countRows(
      t,
      "pgboss.job where name = $1 and state in ('created', 'retry', 'active')",
      [queue],
    );
    return pending === 0 ? true : undefined;
  });
}
