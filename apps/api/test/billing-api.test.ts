import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BillingHarness,
  personalOrganizationId,
  signUp,
  startBillingHarness,
} from './billing-harness.ts';
import { createTestApp, type TestApp, TestClient } from './helper.ts';

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
