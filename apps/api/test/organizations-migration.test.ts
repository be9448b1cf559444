import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/db/client.ts';
import { sessionCookie } from '../src/users/auth.ts';
import { signedCookieValue } from '../src/users/sessions.ts';
import { createTestApp, type TestApp, TestClient, type TestDatabase } from './helper.ts';
import { emptyDatabase, migrateTo, migrateToLatest } from './migrations.helpers.ts';
import { registered } from './users.helpers.ts';

/**
 * Migration 0008 on a database that a deployment of the previous release (0007) left behind: users
 * with sessions, a subscription (one live, one ended) and AI usage, written in the old schema. After
 * the rest of the migrations, each user has a personal workspace holding what they had, and the app
 * (started on that database, the old session cookies still in the browsers) shows it.
 */

const DAY = 24 * 3600 * 1000;
const periodEnd = new Date(Date.now() + 20 * DAY);

let database: TestDatabase;
let handle: DatabaseHandle;
let t: TestApp;

async function sql<Row = Record<string, unknown>>(text: string, values: unknown[] = []): Promise<Row[]> {
  return handle.query<Row>(text, values);
}

/** The previous release's data, written with the previous release's columns. */
async function seedPreviousRelease() {
  const users = [
    ['u-alice', 'Alice Old', 'alice@example.com'],
    ['u-bob', '', 'bob@example.com'],
    ['u-carol', 'Carol', 'carol@example.com'],
  ];
  for (const [id, name, email] of users) {
    await sql(
      `insert into users (id, name, email, email_verified, created_at, updated_at)
       values ($1, $2, $3, true, now() - interval '90 days', now())`,
      [id, name, email],
    );
    await sql('insert into profiles (user_id) values ($1)', [id]);
    await sql(
      `insert into sessions (id, token, user_id, expires_at, created_at, updated_at)
       values ($1, $2, $3, now() + interval '5 days', now(), now())`,
      [`s-${id}`, `token-${id}`, id],
    );
  }
  await sql(
    `insert into subscriptions (user_id, stripe_customer_id, stripe_subscription_id, status, plan, price_id,
       interval, current_period_end, cancel_at_period_end)
     values ('u-alice', 'cus_alice', 'sub_alice', 'active', 'pro', 'price_pro_month', 'month', $1, false)`,
    [periodEnd.toISOString()],
  );
  await sql(
    `insert into subscriptions (user_id, stripe_customer_id, stripe_subscription_id, status, plan, canceled_at)
     values ('u-carol', 'cus_carol', 'sub_carol', 'canceled', 'pro', now() - interval '3 days')`,
  );
  const aiCall = (id: string, userId: string, tokens: number) =>
    sql(
      `insert into ai_requests (id, user_id, status, model, prompt, output, stream, max_tokens, reserved_tokens,
         prompt_tokens, completion_tokens, total_tokens, created_at, finished_at)
       values ($1, $2, 'completed', 'old-model', 'an old prompt', 'an old answer', false, 100, 200, 10, $3, $4,
         now() - interval '1 day', now() - interval '1 day')`,
      [id, userId, tokens - 10, tokens],
    );
  await aiCall('ai-alice-1', 'u-alice', 110);
  await aiCall('ai-alice-2', 'u-alice', 120);
  await aiCall('ai-alice-3', 'u-alice', 130);
  await aiCall('ai-bob-1', 'u-bob', 50);
}

function clientOf(userId: string): TestClient {
  const client = new TestClient(t.app);
  const cookie = sessionCookie(t.config);
  client.cookies.set(cookie.name, signedCookieValue(`token-${userId}`, t.config.secretKey));
  return client;
}

beforeAll(async () => {
  ({ database, handle } = await emptyDatabase());
  await migrateTo(handle, '0007_passkeys');
  await seedPreviousRelease();
  await migrateToLatest(handle, database);
  t = await createTestApp({ database });
}, 120_000);

afterAll(async () => {
  await t?.close();
  await database?.drop();
});

describe('migration 0008 (organizations) on a database of the previous release', () => {
  it('gives every user a personal workspace that they own alone, named after them', async () => {
    const rows = await sql<{ user_id: string; name: string; role: string; members: string }>(
      `select o.personal_user_id as user_id, o.name, m.role,
         (select count(*) from organization_members all_members where all_members.organization_id = o.id)::text as members
       from organizations o join organization_members m on m.organization_id = o.id and m.user_id = o.personal_user_id
       order by o.personal_user_id`,
    );
    expect(rows).toEqual([
      { user_id: 'u-alice', name: 'Alice Old', role: 'owner', members: '1' },
      { user_id: 'u-bob', name: 'Personal', role: 'owner', members: '1' },
      { user_id: 'u-carol', name: 'Carol', role: 'owner', members: '1' },
    ]);
    expect(await sql('select id from organizations where personal_user_id is null')).toEqual([]);
  });

  it('moves each subscription row, Stripe ids and all, to its user’s personal workspace', async () => {
    const rows = await sql<Record<string, unknown>>(
      `select o.personal_user_id as user_id, s.stripe_customer_id, s.stripe_subscription_id, s.status, s.plan,
         s.interval, s.current_period_end
       from subscriptions s join organizations o on o.id = s.organization_id order by o.personal_user_id`,
    );
    expect(rows).toEqual([
      {
        user_id: 'u-alice',
        stripe_customer_id: 'cus_alice',
        stripe_subscription_id: 'sub_alice',
        status: 'active',
        plan: 'pro',
        interval: 'month',
        current_period_end: expect.any(Date),
      },
      {
        user_id: 'u-carol',
        stripe_customer_id: 'cus_carol',
        stripe_subscription_id: 'sub_carol',
        status: 'canceled',
        plan: 'pro',
        interval: null,
        current_period_end: null,
      },
    ]);
    expect((rows[0]!.current_period_end as Date).getTime()).toBe(periodEnd.getTime());
  });

  it('counts the AI usage so far against the personal workspace of whoever made it', async () => {
    const rows = await sql<{
      id: string;
      user_id: string;
      owner: string;
      total_tokens: number;
      prompt: string;
    }>(
      `select a.id, a.user_id, o.personal_user_id as owner, a.total_tokens, a.prompt
       from ai_requests a join organizations o on o.id = a.organization_id order by a.id`,
    );
    expect(rows).toEqual([
      { id: 'ai-alice-1', user_id: 'u-alice', owner: 'u-alice', total_tokens: 110, prompt: 'an old prompt' },
      { id: 'ai-alice-2', user_id: 'u-alice', owner: 'u-alice', total_tokens: 120, prompt: 'an old prompt' },
      { id: 'ai-alice-3', user_id: 'u-alice', owner: 'u-alice', total_tokens: 130, prompt: 'an old prompt' },
      { id: 'ai-bob-1', user_id: 'u-bob', owner: 'u-bob', total_tokens: 50, prompt: 'an old prompt' },
    ]);
  });

  it('keeps the sessions signed in, in the personal workspace, and the subscriber Pro', async () => {
    const alice = clientOf('u-alice');
    const profile = await alice.get('/api/profile/');
    expect(profile.statusCode).toBe(200);
    const [personal] = await sql<{ id: string }>(
      "select id from organizations where personal_user_id = 'u-alice'",
    );
    expect(profile.json().data).toMatchObject({
      user: { id: 'u-alice', email: 'alice@example.com', name: 'Alice Old' },
      workspace: { id: personal!.id, name: 'Alice Old', personal: true, role: 'owner' },
      isPro: true,
      subscription: { status: 'active', plan: 'pro', interval: 'month' },
    });
    const status = (await alice.get('/api/billing/status/')).json().data;
    expect(status).toMatchObject({ isPro: true, plan: 'pro', hasBillingAccount: true });
    expect(status.aiUsage).toMatchObject({ requests: { used: 3 }, tokens: { used: 360 } });
    const list = (await alice.get('/api/organizations/')).json().data;
    expect(list.organizations).toEqual([
      { id: personal!.id, name: 'Alice Old', personal: true, role: 'owner', memberCount: 1, active: true },
    ]);

    const bob = (await clientOf('u-bob').get('/api/profile/')).json().data;
    expect(bob).toMatchObject({
      workspace: { name: 'Personal', personal: true },
      isPro: false,
      subscription: null,
    });
    const carol = (await clientOf('u-carol').get('/api/profile/')).json().data;
    expect(carol).toMatchObject({ isPro: false, subscription: { status: 'canceled' } });
  });

  it('leaves the schema the code expects: a new account gets its own workspace', async () => {
    expect(
      await sql(
        "select 1 from information_schema.columns where table_name = 'subscriptions' and column_name = 'user_id'",
      ),
    ).toEqual([]);
    const { client, user } = await registered(t, { name: 'Dora New' });
    expect((await client.get('/api/profile/')).json().data).toMatchObject({
      user: { id: user.id },
      workspace: { name: 'Dora New', personal: true, role: 'owner' },
      isPro: false,
    });
  });
});
