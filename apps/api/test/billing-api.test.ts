import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type BillingHarness,
  personalOrganizationId,
  signUp,
  startBillingHarness,
  subscribe,
} from './billing-harness.ts';
import { createTestApp, type TestApp, TestClient } from './helper.ts';
import { createTeam } from './organizations.helpers.ts';

let h: BillingHarness;
beforeAll(async () => {
  h = await startBillingHarness();
});
afterAll(async () => h?.close());

describe('billing API', () => {
  it('lists the plans publicly, without Stripe ids', async () => {
    const res = await h.t.app.inject({ method: 'GET', url: '/api/billing/plans/' });
    expect(res.statusCode).toBe(200);
    const { plans } = res.json().data;
    const pro = plans.find((plan: { id: string }) => plan.id === 'pro');
    expect(pro).toMatchObject({ trialDays: 14, prices: [{ interval: 'month' }, { interval: 'year' }] });
    expect(JSON.stringify(plans)).not.toMatch(/price_|lookup/);
  });

  it('requires a session for status, checkout, sync, portal and invoices', async () => {
    const client = new TestClient(h.t.app);
    for (const [method, url] of [
      ['GET', '/api/billing/status/'],
      ['POST', '/api/billing/checkout/'],
      ['POST', '/api/billing/sync/'],
      ['GET', '/api/stripe/portal/'],
      ['GET', '/api/invoices/'],
    ] as const) {
      const res = await client.request({ method, url, ...(method === 'POST' ? { payload: {} } : {}) });
      expect([401, 400]).toContain(res.statusCode);
      if (res.statusCode === 401) expect(res.json().code).toBe('AUTHENTICATION_REQUIRED');
    }
  });

  it('shows a new user as free, with no invoices and no portal yet', async () => {
    const { client } = await signUp(h.t);
    const status = await client.get('/api/billing/status/');
    expect(status.json().data).toMatchObject({
      status: null,
      plan: 'free',
      isPro: false,
      hasBillingAccount: false,
    });
    const invoices = await client.get('/api/invoices/');
    expect(invoices.json().data).toEqual({ invoices: [], hasMore: false, nextCursor: null });
    const portal = await client.get('/api/stripe/portal/');
    expect(portal.statusCode).toBe(404);
  });

  it('validates checkout input and never takes URLs from the client', async () => {
    const { client } = await signUp(h.t);
    const bad = await client.post('/api/billing/checkout/', { plan: 'pro', interval: 'weekly' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details).toHaveProperty('interval');
    const injected = await client.post('/api/billing/checkout/', {
      plan: 'pro',
      interval: 'month',
      success_url: 'https://evil.example/',
    });
    expect(injected.statusCode).toBe(400);
    expect(injected.json().details).toHaveProperty('success_url');
    const free = await client.post('/api/billing/checkout/', { plan: 'free', interval: 'month' });
    expect(free.statusCode).toBe(400);
  });

  it('gives a checkout URL on the configured Stripe with our success and cancel URLs', async () => {
    const { client, userId } = await signUp(h.t);
    const res = await client.post('/api/billing/checkout/', { plan: 'pro', interval: 'year' });
    expect(res.statusCode).toBe(200);
    const url = new URL(res.json().data.url);
    expect(url.origin).toBe(h.emulator.url);
    const sessionId = url.pathname.split('/').pop()!;
    const session = await h.stripe.checkout.sessions.retrieve(sessionId);
    const organizationId = await personalOrganizationId(h.t, userId);
    expect(session.client_reference_id).toBe(organizationId);
    expect(session.metadata?.organization_id).toBe(organizationId);
    expect(session.success_url).toBe(`${h.t.config.appUrl}/checkout/return?session_id={CHECKOUT_SESSION_ID}`);
    expect(session.cancel_url).toBe(`${h.t.config.appUrl}/checkout/return?canceled=1`);
  });
});

/** The SQL of every statement the app sends to its database while `action` runs. */
async function statementsDuring(t: TestApp, action: () => Promise<unknown>): Promise<string[]> {
  // drizzle sends every statement through PGlite's `query`, or on PostgreSQL through the pool's
  // (outside transactions); both take the SQL text first, or a config object carrying it.
  const client = (t.app.database.pglite ?? t.app.database.pool) as unknown as {
    query: (...args: unknown[]) => unknown;
  };
  const spy = vi.spyOn(client, 'query');
  try {
    await action();
    return spy.mock.calls.map(([query]) =>
      typeof query === 'string' ? query : String((query as { text: string }).text),
    );
  } finally {
    spy.mockRestore();
  }
}

const onTable = (table: string) => new RegExp(`(from|into|update) "${table}"`);

describe('a checkout uses what the request loaded', () => {
  it("reads the workspace's subscription and the caller's trial with the session, not again", async () => {
    const { client } = await signUp(h.t);
    await client.get('/api/billing/status/');
    let res: Awaited<ReturnType<TestClient['post']>> | undefined;
    const statements = await statementsDuring(h.t, async () => {
      res = await client.post('/api/billing/checkout/', { plan: 'pro', interval: 'month' });
    });
    expect(res?.statusCode).toBe(200);
    // The session's query joins them (users/sessions.ts); the checkout itself only records the
    // new customer.
    expect(statements.filter((sql) => onTable('subscriptions').test(sql))).toEqual([
      expect.stringMatching(/^insert into "subscriptions"/),
    ]);
    expect(statements.filter((sql) => onTable('profiles').test(sql))).toEqual([]);
  });

  it('gives no second trial to a team its owner makes after their own trial', async () => {
    const { client } = await signUp(h.t);
    const personal = await subscribe(client);
    const synced = await client.post('/api/billing/sync/', { sessionId: personal.sessionId });
    expect(synced.json().data).toMatchObject({ status: 'trialing' });

    await createTeam(client, 'After the trial');
    const team = await subscribe(client);
    const teamSynced = await client.post('/api/billing/sync/', { sessionId: team.sessionId });
    expect(teamSynced.json().data).toMatchObject({ status: 'active', trialEnd: null, isPro: true });
  });
});

describe('billing without Stripe configured', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it('still lists plans but answers 503 for checkout', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/api/billing/plans/' })).statusCode).toBe(200);
    const { client } = await signUp(t);
    const res = await client.post('/api/billing/checkout/', { plan: 'pro', interval: 'month' });
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('SERVICE_UNAVAILABLE');
  });
});
