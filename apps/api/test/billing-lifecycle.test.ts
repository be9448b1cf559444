import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  advance,
  type BillingHarness,
  clockNow,
  DAY,
  emailsFor,
  personalOrganizationId,
  signUp,
  startBillingHarness,
  subscribe,
  subscriptionRow,
} from './billing-harness.ts';

let h: BillingHarness;
beforeAll(async () => {
  h = await startBillingHarness();
});
afterAll(async () => h?.close());

async function status(client: Awaited<ReturnType<typeof signUp>>['client']) {
  const res = await client.get('/api/billing/status/');
  expect(res.statusCode).toBe(200);
  return res.json().data as {
    status: string | null;
    isPro: boolean;
    plan: string;
    interval: string | null;
    cancelAtPeriodEnd: boolean;
    pastDueGraceEnd: string | null;
  };
}

async function useCard(customerId: string, subscriptionId: string, paymentMethod: string) {
  const pm = await h.stripe.paymentMethods.attach(paymentMethod, { customer: customerId });
  await h.stripe.customers.update(customerId, { invoice_settings: { default_payment_method: pm.id } });
  await h.stripe.subscriptions.update(subscriptionId, { default_payment_method: pm.id });
}

describe('a subscription from trial to cancellation, on a test clock', () => {
  it('goes trial → active → renewal → failed → grace → recovered → retries exhausted → canceled', async () => {
    const { client, userId } = await signUp(h.t);
    expect((await status(client)).isPro).toBe(false);

    // Checkout with a trial, through the hosted page; the return sync shows the truth at once.
    const { paid, sessionId } = await subscribe(client);
    expect(paid.status).toBe(303);
    expect(paid.location).toContain('/checkout/return?session_id=');
    const synced = await client.post('/api/billing/sync/', { sessionId });
    expect(synced.statusCode).toBe(200);
    expect(synced.json().data).toMatchObject({
      status: 'trialing',
      isPro: true,
      plan: 'pro',
      interval: 'month',
    });
    await h.emulator.webhooks.flush();

    const row = (await subscriptionRow(h.t, userId))!;
    const customerId = row.stripeCustomerId;
    const subscriptionId = row.stripeSubscriptionId!;
    const profile = await client.get('/api/profile/');
    expect(profile.json().data).toMatchObject({
      isPro: true,
      subscription: { status: 'trialing', plan: 'pro' },
    });

    // Three days before the trial ends: the trial_ending_soon email, once.
    const trialEnd = Math.floor(row.trialEnd!.getTime() / 1000);
    await advance(h, customerId, (trialEnd - 2 * DAY) * 1000);
    expect(await emailsFor(h.t, userId, 'trial_ending_soon')).toHaveLength(1);
    expect((await status(client)).status).toBe('trialing');

    // The trial ends; the first invoice is paid: active.
    await advance(h, customerId, (trialEnd + 2 * 3600) * 1000);
    expect(await status(client)).toMatchObject({ status: 'active', isPro: true });

    // A month later the renewal is paid too.
    const firstPeriodEnd = Math.floor(
      (await subscriptionRow(h.t, userId))!.currentPeriodEnd!.getTime() / 1000,
    );
    await advance(h, customerId, (firstPeriodEnd + 2 * 3600) * 1000);
    expect(await status(client)).toMatchObject({ status: 'active', isPro: true });
    const invoices = await client.get('/api/invoices/');
    expect(invoices.statusCode).toBe(200);
    expect(
      invoices.json().data.invoices.filter((i: { status: string }) => i.status === 'paid').length,
    ).toBeGreaterThanOrEqual(2);

    // The card starts failing: the next renewal fails, the subscription is past_due but still Pro
    // during the grace period, and the payment_failed email goes out once for the invoice.
    await useCard(customerId, subscriptionId, 'pm_card_chargeCustomerFail');
    const secondPeriodEnd = Math.floor(
      (await subscriptionRow(h.t, userId))!.currentPeriodEnd!.getTime() / 1000,
    );
    await advance(h, customerId, (secondPeriodEnd + 2 * 3600) * 1000);
    const pastDue = await status(client);
    expect(pastDue).toMatchObject({ status: 'past_due', isPro: true });
    expect(pastDue.pastDueGraceEnd).not.toBeNull();
    // The profile shows the same subscription, field for field, grace period included.
    const { isPro, hasBillingAccount, aiUsage, ...subscription } = pastDue as Record<string, unknown>;
    expect((await client.get('/api/profile/')).json().data.subscription).toEqual(subscription);
    expect(await emailsFor(h.t, userId, 'payment_failed')).toHaveLength(1);

    // Smart retries fail again: still one dunning email for the one invoice.
    await advance(h, customerId, (secondPeriodEnd + 4 * DAY) * 1000);
    expect((await status(client)).status).toBe('past_due');
    expect(await emailsFor(h.t, userId, 'payment_failed')).toHaveLength(1);

    // The customer fixes the card; the next retry pays the invoice: active again, confirmation sent.
    await useCard(customerId, subscriptionId, 'pm_card_visa');
    const open = await h.stripe.invoices.list({ customer: customerId, status: 'open' });
    expect(open.data).toHaveLength(1);
    await h.stripe.invoices.pay(open.data[0]!.id!);
    await h.emulator.webhooks.flush();
    expect(await status(client)).toMatchObject({ status: 'active', isPro: true, pastDueGraceEnd: null });
    expect(await emailsFor(h.t, userId, 'payment_recovered')).toHaveLength(1);

    // The card fails for good: every retry fails, Stripe cancels, access ends, one email says so.
    await useCard(customerId, subscriptionId, 'pm_card_chargeCustomerFail');
    const thirdPeriodEnd = Math.floor(
      (await subscriptionRow(h.t, userId))!.currentPeriodEnd!.getTime() / 1000,
    );
    await advance(h, customerId, (thirdPeriodEnd + 2 * 3600) * 1000);
    expect((await status(client)).status).toBe('past_due');
    await advance(h, customerId, (thirdPeriodEnd + 30 * DAY) * 1000);
    expect(await status(client)).toMatchObject({ status: 'canceled', isPro: false });
    expect(await emailsFor(h.t, userId, 'subscription_canceled')).toHaveLength(1);
    const remote = await h.stripe.subscriptions.retrieve(subscriptionId);
    expect(remote.status).toBe('canceled');

    // Every event the app received was recorded and processed.
    const unprocessed = await h.t.app.database.query<{ count: string }>(
      'select count(*)::text as count from webhook_events where processed = false',
    );
    expect(unprocessed[0]?.count).toBe('0');
  });

  it('asks the customer to authenticate a renewal their bank holds, with the invoice link', async () => {
    const { client, userId } = await signUp(h.t);
    const { sessionId } = await subscribe(client);
    await client.post('/api/billing/sync/', { sessionId });
    const row = (await subscriptionRow(h.t, userId))!;
    await useCard(row.stripeCustomerId, row.stripeSubscriptionId!, 'pm_card_authenticationRequired');
    await advance(h, row.stripeCustomerId, row.trialEnd!.getTime() + 2 * 3600_000);
    const emails = await emailsFor(h.t, userId, 'payment_action_required');
    expect(emails).toHaveLength(1);
    const [open] = (await h.stripe.invoices.list({ customer: row.stripeCustomerId, status: 'open' })).data;
    expect(open?.hosted_invoice_url).toBeTruthy();
    expect(emails[0]!.text).toContain(open!.hosted_invoice_url!);
  });

  it('pages through the invoices, newest first, only the caller’s own', async () => {
    const { client, userId } = await signUp(h.t);
    const other = await signUp(h.t);
    const { sessionId } = await subscribe(client);
    await client.post('/api/billing/sync/', { sessionId });
    const row = (await subscriptionRow(h.t, userId))!;
    const trialEnd = row.trialEnd!.getTime();
    await advance(h, row.stripeCustomerId, trialEnd + 2 * 3600_000);
    const periodEnd = (await subscriptionRow(h.t, userId))!.currentPeriodEnd!.getTime();
    await advance(h, row.stripeCustomerId, periodEnd + 2 * 3600_000);

    const seen: { id: string; created: string }[] = [];
    let cursor: string | null = null;
    do {
      const page = await client.get(`/api/invoices/?limit=1${cursor ? `&startingAfter=${cursor}` : ''}`);
      expect(page.statusCode).toBe(200);
      seen.push(...page.json().data.invoices);
      cursor = page.json().data.nextCursor;
    } while (cursor);
    expect(seen.length).toBeGreaterThanOrEqual(3);
    const created = seen.map((invoice) => invoice.created);
    expect([...created].sort().reverse()).toEqual(created);
    expect((await other.client.get('/api/invoices/')).json().data.invoices).toEqual([]);
  });

  it('keeps Pro until the period ends after cancel at period end, then ends it', async () => {
    const { client, userId } = await signUp(h.t);
    const { sessionId } = await subscribe(client);
    await client.post('/api/billing/sync/', { sessionId });
    const row = (await subscriptionRow(h.t, userId))!;
    await h.stripe.subscriptions.update(row.stripeSubscriptionId!, { cancel_at_period_end: true });
    await h.emulator.webhooks.flush();
    expect(await status(client)).toMatchObject({ status: 'trialing', isPro: true, cancelAtPeriodEnd: true });

    const trialEnd = Math.floor(row.trialEnd!.getTime() / 1000);
    await advance(h, row.stripeCustomerId, (trialEnd - DAY) * 1000);
    expect((await status(client)).isPro).toBe(true);
    await advance(h, row.stripeCustomerId, (trialEnd + 3600) * 1000);
    expect(await status(client)).toMatchObject({ status: 'canceled', isPro: false });
    expect(await emailsFor(h.t, userId, 'subscription_canceled')).toHaveLength(1);

    // Subscribing again: no second trial.
    const again = await subscribe(client);
    const resynced = await client.post('/api/billing/sync/', { sessionId: again.sessionId });
    expect(resynced.json().data).toMatchObject({ status: 'active', isPro: true });
  });

  it('switches monthly to yearly with proration', async () => {
    const { client, userId } = await signUp(h.t);
    const { sessionId } = await subscribe(client);
    await client.post('/api/billing/sync/', { sessionId });
    const row = (await subscriptionRow(h.t, userId))!;
    await advance(h, row.stripeCustomerId, (Math.floor(row.trialEnd!.getTime() / 1000) + 2 * 3600) * 1000);
    expect(await status(client)).toMatchObject({ status: 'active', interval: 'month' });

    const subscription = await h.stripe.subscriptions.retrieve(row.stripeSubscriptionId!);
    const yearly = await h.stripe.prices.list({ lookup_keys: ['tierbase_pro_yearly'] });
    await h.stripe.subscriptions.update(subscription.id, {
      items: [{ id: subscription.items.data[0]!.id, price: yearly.data[0]!.id }],
      proration_behavior: 'create_prorations',
    });
    await h.emulator.webhooks.flush();
    expect(await status(client)).toMatchObject({
      status: 'active',
      interval: 'year',
      plan: 'pro',
      isPro: true,
    });
    const now = await clockNow(h, row.stripeCustomerId);
    expect((await subscriptionRow(h.t, userId))!.currentPeriodEnd!.getTime() / 1000).toBeGreaterThan(
      now + 300 * DAY,
    );
  });

  it('creates one Stripe customer for ten concurrent checkout clicks', async () => {
    const { client, userId, email } = await signUp(h.t);
    await client.csrfToken();
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        client.post('/api/billing/checkout/', { plan: 'pro', interval: 'month' }),
      ),
    );
    for (const res of results) expect(res.statusCode).toBe(200);
    const customers = await h.stripe.customers.list({ email, limit: 100 });
    expect(customers.data).toHaveLength(1);
    expect((await subscriptionRow(h.t, userId))!.stripeCustomerId).toBe(customers.data[0]!.id);
    expect((customers.data[0] as Stripe.Customer).metadata.organization_id).toBe(
      await personalOrganizationId(h.t, userId),
    );
  });

  it('answers 409 with the portal link to a user who already subscribes', async () => {
    const { client } = await signUp(h.t);
    const { sessionId } = await subscribe(client);
    await client.post('/api/billing/sync/', { sessionId });
    const res = await client.post('/api/billing/checkout/', { plan: 'pro', interval: 'year' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({
      code: 'ALREADY_SUBSCRIBED',
      links: { portal: '/api/stripe/portal/' },
    });
    const portal = await client.get('/api/stripe/portal/');
    expect(portal.statusCode).toBe(302);
    expect(portal.headers.location).toContain(h.emulator.url);
  });
});
