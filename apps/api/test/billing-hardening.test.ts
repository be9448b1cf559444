import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, STRIPE_CALL_DEADLINE_MS, stripeCallWorstCaseMs } from '../src/config.ts';
import { profiles, users, webhookEvents } from '../src/db/schema/index.ts';
import {
  advance,
  type BillingHarness,
  DAY,
  deliverSigned,
  emailsFor,
  payOnHostedCheckout,
  signUp,
  startBillingHarness,
  stripeEventPayload,
  subscribe,
  subscriptionRow,
} from './billing-harness.ts';

let h: BillingHarness;
beforeAll(async () => {
  h = await startBillingHarness();
});
afterAll(async () => h?.close());

const deliver = (payload: string) => deliverSigned(h, payload);
const event = stripeEventPayload;

async function recorded(eventId: string) {
  const [row] = await h.t.app.database.db
    .select()
    .from(webhookEvents)
    .where(eq(webhookEvents.eventId, eventId));
  return row;
}

async function staffClient() {
  const account = await signUp(h.t, `staff-${randomBytes(3).toString('hex')}@example.com`);
  await h.t.app.database.db.update(users).set({ isStaff: true }).where(eq(users.id, account.userId));
  return account.client;
}

/** A user with a paid-for (trialing) subscription, synced; returns the Stripe ids too. */
async function subscriber(interval: 'month' | 'year' = 'month', card?: string) {
  const account = await signUp(h.t);
  const { sessionId } = await subscribe(account.client, interval, card);
  await account.client.post('/api/billing/sync/', { sessionId });
  await h.emulator.webhooks.flush();
  const row = (await subscriptionRow(h.t, account.userId))!;
  return { ...account, row, customerId: row.stripeCustomerId, subscriptionId: row.stripeSubscriptionId! };
}

async function priceId(lookupKey: string) {
  const [price] = (await h.stripe.prices.list({ lookup_keys: [lookupKey] })).data;
  return price!.id;
}

describe('webhook events Stripe can no longer act on', () => {
  it('acknowledges an event for a customer Stripe does not know, recording why, visible to the admin', async () => {
    const customer = `cus_${randomBytes(8).toString('hex')}`;
    const { id, payload } = event('customer.subscription.updated', {
      id: 'sub_gone',
      object: 'subscription',
      customer,
      status: 'active',
    });
    const res = await deliver(payload);
    expect(res.statusCode).toBe(200);
    const row = await recorded(id);
    expect(row).toMatchObject({ processed: true, errorMessage: null });
    expect(row?.note).toMatch(new RegExp(`^ignored: Stripe has no ${customer}`));

    const admin = await staffClient();
    const listed = await admin.get('/api/admin/webhook-events/');
    const shown = listed.json().data.events.find((e: { eventId: string }) => e.eventId === id);
    expect(shown).toMatchObject({ processed: true, note: row?.note });
  });

  it('acknowledges an invoice event for one of our customers whose invoice Stripe does not have', async () => {
    const { customerId } = await subscriber();
    const { id, payload } = event('invoice.payment_failed', {
      id: 'in_gone',
      object: 'invoice',
      customer: customerId,
      status: 'open',
    });
    expect((await deliver(payload)).statusCode).toBe(200);
    expect((await recorded(id))?.note).toMatch(/^ignored: Stripe has no in_gone/);
  });

  it('notes an event for a customer that is not ours', async () => {
    const customer = await h.stripe.customers.create({ email: 'stranger@example.com' });
    const { id, payload } = event('invoice.paid', { id: 'in_x', object: 'invoice', customer: customer.id });
    expect((await deliver(payload)).statusCode).toBe(200);
    expect((await recorded(id))?.note).toBe(
      `ignored: customer ${customer.id} is not linked to an organization`,
    );
  });

  it('still fails (so Stripe retries) when Stripe errors or times out, not when it says "no such"', async () => {
    const customer = `cus_${randomBytes(8).toString('hex')}`;
    const { id, payload } = event('customer.subscription.deleted', {
      id: 'sub_gone',
      object: 'subscription',
      customer,
      status: 'canceled',
    });
    h.emulator.faults.failNext(5, '500');
    const failed = await deliver(payload);
    h.emulator.faults.clear();
    expect(failed.statusCode).toBeGreaterThanOrEqual(500);
    expect(await recorded(id)).toMatchObject({ processed: false, note: null });
    expect((await recorded(id))?.errorMessage).toBeTruthy();

    const retried = await deliver(payload);
    expect(retried.statusCode).toBe(200);
    expect(await recorded(id)).toMatchObject({ processed: true, errorMessage: null });
  });
});

describe('one subscription per customer', () => {
  it('expires the earlier Checkout sessions, so of two tabs only one can be paid', async () => {
    const { client, userId } = await signUp(h.t);
    const monthly = await client.post('/api/billing/checkout/', { plan: 'pro', interval: 'month' });
    const yearly = await client.post('/api/billing/checkout/', { plan: 'pro', interval: 'year' });
    expect(monthly.statusCode).toBe(200);
    expect(yearly.statusCode).toBe(200);
    const monthlyUrl: string = monthly.json().data.url;
    const yearlyUrl: string = yearly.json().data.url;

    // The first tab's session was expired when the second opened: its card form refuses.
    const stale = await payOnHostedCheckout(monthlyUrl);
    expect(stale.location).toBeNull();
    const row = (await subscriptionRow(h.t, userId))!;
    const monthlySession = await h.stripe.checkout.sessions.retrieve(monthlyUrl.split('/').pop()!);
    expect(monthlySession.status).toBe('expired');

    // A session opened outside the app (another integration, the dashboard) for the same customer.
    const outside = await h.stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: row.stripeCustomerId,
      line_items: [{ price: await priceId('tierbase_pro_monthly'), quantity: 1 }],
      success_url: 'http://app.test/done',
    });

    const paid = await payOnHostedCheckout(yearlyUrl);
    expect(paid.status).toBe(303);
    await h.emulator.webhooks.flush();

    // Paying one expired the other: it can no longer be paid either.
    expect((await h.stripe.checkout.sessions.retrieve(outside.id)).status).toBe('expired');
    expect((await payOnHostedCheckout(outside.url!)).location).toBeNull();
    const all = await h.stripe.subscriptions.list({ customer: row.stripeCustomerId, status: 'all' });
    expect(all.data).toHaveLength(1);
    expect(all.data[0]?.items.data[0]?.price.recurring?.interval).toBe('year');
    expect(await subscriptionRow(h.t, userId)).toMatchObject({ status: 'trialing', interval: 'year' });
  });

  it('cancels a second live subscription made outside Checkout, refunding what it charged', async () => {
    const { client, userId, customerId, subscriptionId } = await subscriber('month');
    const pm = await h.stripe.paymentMethods.attach('pm_card_visa', { customer: customerId });
    // Charged at once (no trial), then a trialing one that charged nothing.
    const paidDuplicate = await h.stripe.subscriptions.create({
      customer: customerId,
      items: [{ price: await priceId('tierbase_pro_yearly') }],
      default_payment_method: pm.id,
    });
    expect(paidDuplicate.status).toBe('active');
    const trialDuplicate = await h.stripe.subscriptions.create({
      customer: customerId,
      items: [{ price: await priceId('tierbase_pro_monthly') }],
      default_payment_method: pm.id,
      trial_period_days: 7,
    });
    await h.emulator.webhooks.flush();
    // The return sync (or any later event) catches it too.
    expect((await client.post('/api/billing/sync/', {})).statusCode).toBe(200);
    await h.emulator.webhooks.flush();

    const live = await h.stripe.subscriptions.list({ customer: customerId });
    expect(live.data.map((s) => s.id)).toEqual([subscriptionId]);
    expect((await h.stripe.subscriptions.retrieve(paidDuplicate.id)).status).toBe('canceled');
    expect((await h.stripe.subscriptions.retrieve(trialDuplicate.id)).status).toBe('canceled');

    const [invoice] = (await h.stripe.invoices.list({ subscription: paidDuplicate.id, status: 'paid' })).data;
    expect(invoice?.amount_paid).toBe(19_000);
    const [payment] = (await h.stripe.invoicePayments.list({ invoice: invoice!.id! })).data;
    const refunds = await h.stripe.refunds.list({
      payment_intent: payment!.payment.payment_intent as string,
    });
    expect(refunds.data.map((r) => [r.amount, r.reason])).toEqual([[19_000, 'duplicate']]);
    const trialInvoices = await h.stripe.invoices.list({ subscription: trialDuplicate.id });
    expect(trialInvoices.data.every((i) => i.amount_paid === 0)).toBe(true);

    // The user keeps the subscription they had, and is not told it was canceled.
    expect(await subscriptionRow(h.t, userId)).toMatchObject({
      stripeSubscriptionId: subscriptionId,
      status: 'trialing',
      interval: 'month',
    });
    expect((await client.get('/api/billing/status/')).json().data).toMatchObject({ isPro: true });
    expect(await emailsFor(h.t, userId, 'subscription_canceled')).toHaveLength(0);
  });
});

describe('the past-due grace period', () => {
  it('counts from the failed invoice in Stripe’s time, under a test clock far ahead', async () => {
    const { client, userId } = await signUp(h.t);
    const checkout = await client.post('/api/billing/checkout/', { plan: 'pro', interval: 'month' });
    const { stripeCustomerId } = (await subscriptionRow(h.t, userId))!;
    // A year ahead of the server's clock before the customer even subscribes.
    await advance(h, stripeCustomerId, Date.now() + 365 * DAY * 1000);
    const paid = await payOnHostedCheckout(checkout.json().data.url, '4000000000000341');
    expect(paid.status).toBe(303);
    await h.emulator.webhooks.flush();
    const { trialEnd } = (await subscriptionRow(h.t, userId))!;
    await advance(h, stripeCustomerId, trialEnd!.getTime() + 2 * 3600_000);

    const [invoice] = (await h.stripe.invoices.list({ customer: stripeCustomerId, status: 'open' })).data;
    const failedAt = invoice!.status_transitions.finalized_at!;
    const status = (await client.get('/api/billing/status/')).json().data;
    expect(status).toMatchObject({ status: 'past_due' });
    const graceEnd = new Date(status.pastDueGraceEnd).getTime();
    // "Update your card before <date>" names a day after the invoice, not before it.
    expect(graceEnd).toBeGreaterThan(invoice!.created * 1000);
    expect(graceEnd).toBe((failedAt + h.t.config.billing.pastDueGraceDays * DAY) * 1000);
  });
});

describe('invoice pages', () => {
  it('answers 400 VALIDATION_ERROR, not 502, to a cursor that names no invoice of the caller', async () => {
    const alice = await subscriber();
    const bob = await subscriber();
    const [bobInvoice] = (await h.stripe.invoices.list({ customer: bob.customerId })).data;
    for (const cursor of ['in_doesnotexist', bobInvoice!.id!]) {
      const res = await alice.client.get(`/api/invoices/?startingAfter=${cursor}`);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({
        success: false,
        code: 'VALIDATION_ERROR',
        status: 400,
        details: { startingAfter: [expect.any(String)] },
      });
      expect(res.body).not.toContain(cursor);
    }
  });
});

describe('the subscription and profile writes of a sync', () => {
  it('commit together: a failing profile write leaves the subscription unwritten too', async () => {
    const { client, userId } = await signUp(h.t);
    const db = h.t.app.database;
    // A real failure in the database, between the subscription write and the profile write.
    await db.query(`
      create or replace function tierbase_test_fail_profile() returns trigger language plpgsql as $$
      begin raise exception 'profile write refused (test)'; end $$`);
    await db.query(
      `create trigger tierbase_test_fail_profile before update on profiles for each row
       when (new.user_id = '${userId.replaceAll("'", "''")}') execute function tierbase_test_fail_profile()`,
    );
    try {
      const { sessionId } = await subscribe(client);
      const res = await client.post('/api/billing/sync/', { sessionId });
      expect(res.statusCode).toBe(500);
      await h.emulator.webhooks.flush();
      expect(await subscriptionRow(h.t, userId)).toMatchObject({ stripeSubscriptionId: null, status: null });
      const [profile] = await db.db.select().from(profiles).where(eq(profiles.userId, userId));
      expect(profile?.trialEnd).toBeNull();
    } finally {
      await db.query('drop trigger tierbase_test_fail_profile on profiles');
      await db.query('drop function tierbase_test_fail_profile()');
    }
    const res = await client.post('/api/billing/sync/', {});
    expect(res.json().data).toMatchObject({ status: 'trialing', isPro: true });
    const [profile] = await db.db.select().from(profiles).where(eq(profiles.userId, userId));
    expect(profile?.trialEnd).not.toBeNull();
  });
});

describe('a hung Stripe', () => {
  it('keeps every call, retries included, within the deadline by default, and refuses config that would not', () => {
    const defaults = loadConfig({ NODE_ENV: 'test' });
    expect(
      stripeCallWorstCaseMs(defaults.stripe.timeoutMs, defaults.stripe.maxNetworkRetries),
    ).toBeLessThanOrEqual(STRIPE_CALL_DEADLINE_MS);
    let error: unknown;
    try {
      loadConfig({ NODE_ENV: 'test', STRIPE_TIMEOUT_MS: '10000', STRIPE_MAX_NETWORK_RETRIES: '2' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems[0]).toMatch(/^STRIPE_TIMEOUT_MS, STRIPE_MAX_NETWORK_RETRIES: /);
  });

  it('makes checkout answer 502 within the deadline, well inside the shutdown drain', async () => {
    // The configured defaults, not the suite's short timeouts.
    const slow = await startBillingHarness({
      env: { STRIPE_TIMEOUT_MS: '', STRIPE_MAX_NETWORK_RETRIES: '' },
    });
    try {
      const { client } = await signUp(slow.t);
      slow.emulator.faults.failNext(10, 'slow', { delayMs: 15_000 });
      const started = Date.now();
      const res = await client.post('/api/billing/checkout/', { plan: 'pro', interval: 'month' });
      const elapsed = Date.now() - started;
      slow.emulator.faults.clear();
      expect(res.statusCode).toBe(502);
      expect(res.json().code).toBe('BILLING_PROVIDER_ERROR');
      expect(elapsed).toBeLessThan(STRIPE_CALL_DEADLINE_MS);
    } finally {
      await slow.close();
    }
  }, 60_000);
});
