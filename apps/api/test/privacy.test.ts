import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { SMTPServer } from 'smtp-server';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncCustomer } from '../src/billing/subscription-sync.ts';
import { deleteUserCommand, exportUserCommand } from '../src/privacy/commands.ts';
import { eraseLeftovers, type PrivacyDeps } from '../src/privacy/service.ts';
import { type BillingHarness, STRIPE_TEST_KEY, startBillingHarness, subscribe } from './billing-harness.ts';
import { createTestApp, freePort, type TestApp, TestClient, waitFor } from './helper.ts';
import { type OpenAiStub, startOpenAiStub } from './openai-stub-server.ts';
import {
  countRows,
  emailCount,
  leakedSecrets,
  registered,
  sessionCookieOf,
  signedIn,
  signUpAndVerify,
  strongPassword,
  userByEmail,
} from './users.helpers.ts';

let h: BillingHarness;
let stub: OpenAiStub;
beforeAll(async () => {
  stub = await startOpenAiStub();
  h = await startBillingHarness({
    env: {
      OPENAI_API_KEY: 'sk-test-stub-key',
      OPENAI_BASE_URL: stub.baseUrl,
      AI_MODEL: 'stub-model',
      RATE_LIMIT_USER_PER_MINUTE: '1000',
    },
  });
});
afterAll(async () => {
  await h?.close();
  await stub?.close();
});

const deps = (): PrivacyDeps => ({
  db: h.t.app.database.db,
  mailer: h.t.app.mailer,
  billing: h.t.app.billing,
  jobs: h.t.app.jobs,
});

/** A user who paid through Checkout, asked the AI something and signed in from a second browser. */
async function subscribedUser() {
  const name = `Name${randomBytes(4).toString('hex')}`;
  const account = await registered(h.t, { name });
  const { sessionId } = await subscribe(account.client);
  const synced = await account.client.post('/api/billing/sync/', { sessionId });
  expect(synced.statusCode).toBe(200);
  await h.emulator.webhooks.flush();
  const [row] = await h.t.app.database.query<{ stripe_customer_id: string; stripe_subscription_id: string }>(
    `select stripe_customer_id, stripe_subscription_id from subscriptions
     where organization_id = (select id from organizations where personal_user_id = $1)`,
    [account.user.id],
  );
  if (!row) throw new Error('no subscription row after checkout');
  const prompt = `Prompt ${randomBytes(6).toString('hex')}`;
  const generated = await account.client.post('/api/ai/generate/', { prompt, maxTokens: 20 });
  expect(generated.statusCode).toBe(200);
  const laptop = await signedIn(h.t, account.email, account.password);
  return {
    ...account,
    name,
    prompt,
    laptop,
    customerId: row.stripe_customer_id,
    subscriptionId: row.stripe_subscription_id,
  };
}

/**
 * Every text-like column of every table in every schema (ours, pg-boss's) that contains `value`,
 * as "schema.table.column".
 */
async function columnsHolding(value: string, t: TestApp = h.t): Promise<string[]> {
  const columns = await t.app.database.query<{
    table_schema: string;
    table_name: string;
    column_name: string;
  }>(
    `select c.table_schema, c.table_name, c.column_name
     from information_schema.columns c
     join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
     where t.table_type = 'BASE TABLE'
       and c.table_schema not in ('pg_catalog', 'information_schema')
       and c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'ARRAY', 'USER-DEFINED')`,
  );
  expect(columns.length).toBeGreaterThan(20);
  const holding: string[] = [];
  for (const { table_schema, table_name, column_name } of columns) {
    const found = await countRows(
      t,
      `"${table_schema}"."${table_name}" where position(lower($1) in lower("${column_name}"::text)) > 0`,
      [value],
    );
    if (found > 0) holding.push(`${table_schema}.${table_name}.${column_name}`);
  }
  return holding;
}

describe('export', () => {
  it('gives the user everything held about them, as a JSON file, without any secret', async () => {
    const user = await subscribedUser();
    const res = await user.client.get('/api/account/export/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="tierbase-account-\d{4}-\d\d-\d\d\.json"$/,
    );
    expect(res.headers['cache-control']).toBe('no-store');

    const data = res.json();
    expect(data.account).toMatchObject({
      id: user.user.id,
      email: user.email,
      name: user.name,
      emailVerified: true,
    });
    expect(data.profile).toMatchObject({ createdAt: expect.any(String) });
    expect(data.signInMethods).toEqual([{ provider: 'credential', createdAt: expect.any(String) }]);
    expect(data.sessions).toHaveLength(2);
    expect(data.sessions[0]).toEqual({
      createdAt: expect.any(String),
      expiresAt: expect.any(String),
      ipAddress: '127.0.0.1',
      userAgent: 'lightMyRequest',
    });
    expect(data.subscription).toMatchObject({
      stripeCustomerId: user.customerId,
      stripeSubscriptionId: user.subscriptionId,
      status: 'trialing',
      plan: 'pro',
    });
    expect(data.aiRequests).toEqual([
      expect.objectContaining({ prompt: user.prompt, output: 'Hello, world!', status: 'completed' }),
    ]);
    expect(data.emails).toEqual([
      expect.objectContaining({ template: 'verify-email', subject: expect.stringContaining('Confirm') }),
    ]);
    expect(data.invoices.length).toBeGreaterThan(0);
    expect(data.invoices[0]).toMatchObject({ id: expect.stringMatching(/^in_/), status: 'paid' });
    const eventTypes = data.stripeEvents.map((event: { eventType: string }) => event.eventType);
    expect(eventTypes).toContain('checkout.session.completed');
    expect(eventTypes).toContain('customer.subscription.created');

    // No secret of any kind: the password, its hash, session tokens and cookies, reset tokens.
    const [credential] = await h.t.app.database.query<{ password: string }>(
      `select password from accounts where user_id = $1 and provider_id = 'credential'`,
      [user.user.id],
    );
    const tokens = await h.t.app.database.query<{ token: string }>(
      'select token from sessions where user_id = $1',
      [user.user.id],
    );
    expect(tokens).toHaveLength(2);
    const secrets = [
      user.password,
      credential!.password,
      ...tokens.map((row) => row.token),
      sessionCookieOf(user.client)[1],
    ];
    for (const secret of secrets) expect(res.body).not.toContain(secret);
    expect(res.body).not.toMatch(/"(password|token|hash)"/i);
    // The emails' bodies carry one-time links: not exported.
    expect(res.body).not.toMatch(/verify-email\?token=/);
  });

  it('asks for a session', async () => {
    const res = await new TestClient(h.t.app).get('/api/account/export/');
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ success: false, code: 'AUTHENTICATION_REQUIRED', status: 401 });
  });
});

describe('OpenAPI', () => {
  it('describes both endpoints, with the deletion body', async () => {
    const res = await h.t.app.inject({ method: 'GET', url: '/api/docs/json' });
    const paths = res.json().paths;
    expect(paths['/api/account/export'].get.responses['200']).toBeDefined();
    expect(paths['/api/account/delete'].post.requestBody.content['application/json'].schema).toMatchObject({
      required: ['password'],
    });
  });
});

describe('account deletion', () => {
  it('refuses a wrong password with INVALID_CREDENTIALS and changes nothing', async () => {
    const user = await registered(h.t);
    const res = await user.client.post('/api/account/delete/', { password: strongPassword() });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ success: false, code: 'INVALID_CREDENTIALS' });
    expect(await userByEmail(h.t, user.email)).toBeDefined();
    expect((await user.client.get('/api/profile/')).statusCode).toBe(200);

    const empty = await user.client.post('/api/account/delete/', {});
    expect(empty.statusCode).toBe(400);
    expect(empty.json().details).toHaveProperty('password');
    // Unsafe method: no CSRF token, no deletion.
    const forged = await user.client.request({
      method: 'POST',
      url: '/api/account/delete/',
      payload: { password: user.password },
      headers: { 'x-csrftoken': 'forged' },
    });
    expect(forged.statusCode).toBe(403);
    expect(forged.json().code).toBe('CSRF_FAILED');
    expect(await userByEmail(h.t, user.email)).toBeDefined();
  });

  it('holds password guesses to the login budget', async () => {
    const user = await registered(h.t);
    const budget = h.t.config.rateLimits.loginPer15Minutes;
    for (let attempt = 0; attempt < budget; attempt++) {
      const res = await user.client.post('/api/account/delete/', { password: strongPassword() });
      expect(res.statusCode).toBe(401);
    }
    const limited = await user.client.post('/api/account/delete/', { password: user.password });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(limited.headers['retry-after']).toBeDefined();
    expect(await userByEmail(h.t, user.email)).toBeDefined();
  });

  it('cancels the subscription, deletes the Stripe customer, erases every trace and frees the address', async () => {
    const other = await subscribedUser();
    const user = await subscribedUser();

    const res = await user.client.post('/api/account/delete/', { password: user.password });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ success: true, data: { message: 'Your account has been deleted.' } });
    // The session cookie is cleared in the browser and every session is gone on the server.
    expect(res.cookies.find((cookie) => cookie.name.includes('session_token'))?.maxAge).toBe(0);
    expect((await user.client.get('/api/profile/')).statusCode).toBe(401);
    expect((await user.laptop.get('/api/profile/')).statusCode).toBe(401);

    // Stripe: the subscription canceled at once, the customer deleted, the invoices kept.
    const subscription = await h.stripe.subscriptions.retrieve(user.subscriptionId);
    expect(subscription.status).toBe('canceled');
    const customer = await h.stripe.customers.retrieve(user.customerId);
    expect(customer.deleted).toBe(true);
    const invoices = await h.stripe.invoices.list({ customer: user.customerId });
    expect(invoices.data.length).toBeGreaterThan(0);

    // The user can no longer sign in.
    const login = await new TestClient(h.t.app).post('/api/login/', {
      email: user.email,
      password: user.password,
    });
    expect(login.statusCode).toBe(401);
    expect(login.json().code).toBe('INVALID_CREDENTIALS');

    // Stripe's events about the cancellation and deletion arrive after the erasure: they resurrect
    // nothing, and the customer is no one's.
    await h.emulator.webhooks.flush();
    expect(await countRows(h.t, 'users where id = $1', [user.user.id])).toBe(0);
    expect(await countRows(h.t, 'subscriptions where stripe_customer_id = $1', [user.customerId])).toBe(0);
    expect(await syncCustomer(h.t.app.billing!, user.customerId)).toBeNull();

    // The one email left for the address is the notice, which names no one.
    const notices = await h.t.app.database.query<{ text: string; html: string; status: string }>(
      `select text, html, status from email_outbox where to_address = $1`,
      [user.email],
    );
    expect(notices).toHaveLength(1);
    expect(notices[0]!.text).toContain('account has been deleted');
    expect(notices[0]!.text).not.toContain(user.name);
    expect(
      (await columnsHolding(user.email)).filter((column) => column !== 'public.webhook_events.payload'),
    ).toEqual(['public.email_outbox.to_address']);

    // The hourly job erases the notice's address once it has left, and the late events' details.
    await eraseLeftovers(h.t.app.database.db);
    expect(await columnsHolding(user.email)).toEqual([]);
    expect(await columnsHolding(user.name)).toEqual([]);
    expect(await columnsHolding(user.prompt)).toEqual([]);
    expect(await columnsHolding(user.user.id)).toEqual([]);
    // The events stay recorded by id (a redelivery is still a duplicate), without their details.
    const events = await h.t.app.database.query<{ event_id: string; payload: { redacted?: boolean } }>(
      `select event_id, payload from webhook_events where payload->'data'->'object'->>'customer' = $1`,
      [user.customerId],
    );
    expect(events.length).toBeGreaterThan(0);
    for (const event of events) expect(event.payload.redacted).toBe(true);

    // The address is free again.
    // The address is free again: signing up with it makes a new account (a verification link,
    // not the "you already have an account" notice).
    const againId = await signUpAndVerify(h.t, new TestClient(h.t.app), {
      email: user.email,
      password: strongPassword(),
    });
    expect(againId).not.toBe(user.user.id);
    expect(await emailCount(h.t, user.email, 'account-exists')).toBe(0);

    // The other subscriber is untouched.
    expect((await other.client.get('/api/profile/')).json().data).toMatchObject({
      user: { email: other.email, name: other.name },
      isPro: true,
    });
    expect((await h.stripe.subscriptions.retrieve(other.subscriptionId)).status).toBe('trialing');
    expect(((await h.stripe.customers.retrieve(other.customerId)) as Stripe.Customer).email).toBe(
      other.email,
    );
    expect((await other.client.get('/api/account/export/')).json().aiRequests).toHaveLength(1);
    expect(leakedSecrets(h.t)).toEqual([]);
  });

  it('completes when retried after Stripe failed half-way, and changes nothing of ours on the failure', async () => {
    const user = await subscribedUser();
    // The subscription's cancellation fails (the customer was read, nothing was changed yet).
    h.emulator.faults.failNext(1, '500', { pathPrefix: `/v1/subscriptions/${user.subscriptionId}` });
    const failed = await user.client.post('/api/account/delete/', { password: user.password });
    expect(failed.statusCode).toBe(502);
    expect(failed.json().code).toBe('BILLING_PROVIDER_ERROR');
    expect((await user.client.get('/api/profile/')).json().data.isPro).toBe(true);
    expect((await h.stripe.subscriptions.retrieve(user.subscriptionId)).status).toBe('trialing');

    const retried = await user.client.post('/api/account/delete/', { password: user.password });
    expect(retried.statusCode).toBe(200);
    expect((await h.stripe.subscriptions.retrieve(user.subscriptionId)).status).toBe('canceled');
    expect((await h.stripe.customers.retrieve(user.customerId)).deleted).toBe(true);
    expect(await userByEmail(h.t, user.email)).toBeUndefined();
  });

  it('is idempotent once Stripe is done: a second run after the customer is gone erases the rest', async () => {
    const user = await subscribedUser();
    // Stripe's part succeeded earlier (e.g. the database failed right after): the customer is gone.
    await h.stripe.customers.del(user.customerId);
    const res = await user.client.post('/api/account/delete/', { password: user.password });
    expect(res.statusCode).toBe(200);
    expect(await userByEmail(h.t, user.email)).toBeUndefined();
  });
});

describe('the "account deleted" email', () => {
  it('is delivered over SMTP after the user row is gone, and then its address is erased too', async () => {
    const received: { to: string; data: string }[] = [];
    const port = await freePort();
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, callback) {
        let data = '';
        stream.on('data', (chunk: Buffer) => {
          data += chunk.toString('utf8');
        });
        stream.on('end', () => {
          for (const to of session.envelope.rcptTo) received.push({ to: to.address, data });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    const t = await createTestApp({
      env: { SMTP_URL: `smtp://127.0.0.1:${port}`, JOB_POLL_INTERVAL_SECONDS: '0.5' },
    });
    try {
      const user = await registered(t, { name: `Name${randomBytes(4).toString('hex')}` });
      const res = await user.client.post('/api/account/delete/', { password: user.password });
      expect(res.statusCode).toBe(200);
      expect(await userByEmail(t, user.email)).toBeUndefined();

      await waitFor(() =>
        received.some(
          (mail) =>
            mail.to === user.email && mail.data.includes('Subject: Your Tierbase account has been deleted'),
        ),
      );
      // The worker marks the row sent once the server has accepted the mail: moments after it arrived.
      const noticeStatus = async () => {
        const [notice] = await t.app.database.query<{ status: string }>(
          `select status from email_outbox where template = 'account-deleted' and to_address = $1`,
          [user.email],
        );
        return notice?.status;
      };
      await expect.poll(noticeStatus).toBe('sent');

      await eraseLeftovers(t.app.database.db);
      expect(await columnsHolding(user.email, t)).toEqual([]);
    } finally {
      await t.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, 30_000);
});

describe('management commands', () => {
  it('user:export prints the document; user:delete asks for --yes, then deletes', async () => {
    const user = await subscribedUser();
    let out = '';
    const print = (text: string) => {
      out += text;
    };
    await exportUserCommand(deps(), [user.email.toUpperCase()], print);
    const document = JSON.parse(out);
    expect(document.account.email).toBe(user.email);
    expect(document.subscription.stripeCustomerId).toBe(user.customerId);

    await expect(exportUserCommand(deps(), ['nobody@example.com'], print)).rejects.toThrow(/No user/);
    await expect(deleteUserCommand(deps(), [user.email], print)).rejects.toThrow(/--yes/);
    expect(await userByEmail(h.t, user.email)).toBeDefined();

    out = '';
    await deleteUserCommand(deps(), [user.email, '--yes'], print);
    expect(out).toBe(`Account deleted; subscription canceled: ${user.subscriptionId}.\n`);
    expect(await userByEmail(h.t, user.email)).toBeUndefined();
    expect((await h.stripe.customers.retrieve(user.customerId)).deleted).toBe(true);
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'run as `npm run cli` in a process of their own (skipped on PGlite: an in-memory database cannot be shared with a child process)',
    async () => {
      const user = await subscribedUser();
      const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/cli.ts');
      const run = (args: string[]) =>
        promisify(execFile)(process.execPath, ['--import', 'tsx', cli, ...args], {
          env: {
            PATH: process.env.PATH,
            NODE_ENV: 'test',
            DATABASE_URL: h.t.database.databaseUrl,
            STRIPE_SECRET_KEY: STRIPE_TEST_KEY,
            STRIPE_API_BASE: h.emulator.url,
            STRIPE_WEBHOOK_SECRET: h.emulator.webhookSecret,
          },
        });
      const exported = await run(['user:export', user.email]);
      expect(JSON.parse(exported.stdout).account.email).toBe(user.email);
      const deleted = await run(['user:delete', user.email, '--yes']);
      expect(deleted.stdout).toContain('Account deleted');
      expect(await userByEmail(h.t, user.email)).toBeUndefined();
      expect((await h.stripe.subscriptions.retrieve(user.subscriptionId)).status).toBe('canceled');
    },
    60_000,
  );
});
