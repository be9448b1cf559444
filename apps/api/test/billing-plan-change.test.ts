import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookEvents } from '../src/db/schema/index.ts';
import {
  advance,
  type BillingHarness,
  clockNow,
  DAY,
  signUp,
  startBillingHarness,
  subscribe,
  subscriptionRow,
} from './billing-harness.ts';

let h: BillingHarness;
beforeAll(async () => {
  // A short Stripe timeout, so a change whose answer is lost (a slow Stripe) is noticed quickly.
  h = await startBillingHarness({ env: { STRIPE_TIMEOUT_MS: '1500', STRIPE_MAX_NETWORK_RETRIES: '0' } });
});
afterAll(async () => h?.close());

type Client = Awaited<ReturnType<typeof signUp>>['client'];

interface Preview {
  interval: 'month' | 'year';
  currency: string;
  amountDue: number;
  total: number;
  lines: { description: string; amount: number; proration: boolean }[];
  nextPaymentDate: string | null;
  nextPaymentAmount: number | null;
  prorationDate: number;
}

/** A user whose Pro subscription (on `interval`) is past its trial and `daysIn` days into a paid period. */
async function paying(interval: 'month' | 'year' = 'month', daysIn = 15) {
  const { client, userId } = await signUp(h.t);
  const { sessionId } = await subscribe(client, interval);
  await client.post('/api/billing/sync/', { sessionId });
  await h.emulator.webhooks.flush();
  const row = (await subscriptionRow(h.t, userId))!;
  const customerId = row.stripeCustomerId;
  const subscriptionId = row.stripeSubscriptionId!;
  const trialEnd = Math.floor(row.trialEnd!.getTime() / 1000);
  await advance(h, customerId, (trialEnd + 3600) * 1000);
  await advance(h, customerId, (trialEnd + daysIn * DAY) * 1000);
  const subscription = await h.stripe.subscriptions.retrieve(subscriptionId);
  expect(subscription.status).toBe('active');
  return { client, userId, customerId, subscriptionId, subscription };
}

async function preview(client: Client, interval: 'month' | 'year') {
  return client.post('/api/billing/plan-change/preview/', { interval });
}

async function invoicesOf(subscriptionId: string) {
  return (await h.stripe.invoices.list({ subscription: subscriptionId, limit: 100 })).data;
}

/** Every event Stripe sent about the customer was recorded and processed, none failed. */
async function expectWebhooksProcessed(customerId: string) {
  await h.emulator.webhooks.flush();
  const rows = await h.t.app.database.db.select().from(webhookEvents);
  const ours = rows.filter((row) => JSON.stringify(row.payload).includes(customerId));
  expect(ours.length).toBeGreaterThan(0);
  expect(ours.filter((row) => !row.processed || row.errorMessage)).toEqual([]);
  return ours;
}

describe('changing plan interval in the app', () => {
  it('monthly → yearly halfway: the preview is what is charged, once, and the state converges', async () => {
    const { client, userId, customerId, subscriptionId, subscription } = await paying('month', 15);
    const item = subscription.items.data[0]!;
    const now = await clockNow(h, customerId);
    const fraction = (item.current_period_end - now) / (item.current_period_end - item.current_period_start);
    const invoicesBefore = await invoicesOf(subscriptionId);

    const res = await preview(client, 'year');
    expect(res.statusCode).toBe(200);
    const p = res.json().data as Preview;
    const credit = -Math.round(1_900 * fraction);
    expect(p).toMatchObject({
      interval: 'year',
      currency: 'usd',
      prorationDate: now,
      total: 19_000 + credit,
      amountDue: 19_000 + credit,
    });
    expect(p.lines).toEqual([
      { description: expect.stringMatching(/^Unused time on .*Pro/), amount: credit, proration: true },
      { description: expect.any(String), amount: 19_000, proration: false },
    ]);
    // The next payment is the first renewal of the yearly price, a year from now.
    expect(new Date(p.nextPaymentDate!).getTime() / 1000).toBeGreaterThanOrEqual(now + 365 * DAY);
    expect(new Date(p.nextPaymentDate!).getTime() / 1000).toBeLessThanOrEqual(now + 366 * DAY);
    expect(p.nextPaymentAmount).toBe(19_000);
    // A preview changes nothing.
    expect((await h.stripe.subscriptions.retrieve(subscriptionId)).items.data[0]!.price.lookup_key).toBe(
      'tierbase_pro_monthly',
    );
    expect(await invoicesOf(subscriptionId)).toHaveLength(invoicesBefore.length);

    // The user reads the preview for five minutes: the charge is still computed as of the preview.
    await advance(h, customerId, (now + 5 * 60) * 1000);
    const confirm = await client.post('/api/billing/plan-change/', {
      interval: 'year',
      prorationDate: p.prorationDate,
    });
    expect(confirm.statusCode).toBe(200);
    const body = confirm.json().data;
    expect(body.billing).toMatchObject({ status: 'active', plan: 'pro', interval: 'year', isPro: true });
    expect(body.invoice).toMatchObject({ status: 'paid', total: p.total, amountPaid: p.amountDue });

    // Stripe agrees: the yearly price, one new paid invoice equal to the preview.
    const after = await h.stripe.subscriptions.retrieve(subscriptionId);
    expect(after.items.data[0]!.price.lookup_key).toBe('tierbase_pro_yearly');
    const invoices = await invoicesOf(subscriptionId);
    expect(invoices).toHaveLength(invoicesBefore.length + 1);
    const charged = invoices[0]!;
    expect(charged).toMatchObject({
      id: body.invoice.id,
      billing_reason: 'subscription_update',
      status: 'paid',
      total: p.total,
      amount_paid: p.amountDue,
    });
    expect(charged.lines.data.map((line) => line.amount)).toEqual(p.lines.map((line) => line.amount));

    // The status page shows it at once; the webhooks the change caused all arrive and agree.
    const status = await client.get('/api/billing/status/');
    expect(status.json().data).toMatchObject({ interval: 'year', status: 'active' });
    const events = await expectWebhooksProcessed(customerId);
    const types = events.map((row) => row.eventType);
    expect(types).toEqual(expect.arrayContaining(['invoice.created', 'invoice.paid']));
    const row = (await subscriptionRow(h.t, userId))!;
    expect(row).toMatchObject({ interval: 'year', status: 'active', plan: 'pro' });
    // The new year starts when the change is made, five minutes after the preview's date.
    expect(row.currentPeriodEnd!.getTime()).toBe(new Date(p.nextPaymentDate!).getTime() + 5 * 60 * 1000);

    // The client retries the confirmation (a lost answer): the same answer, no second charge.
    const retry = await client.post('/api/billing/plan-change/', {
      interval: 'year',
      prorationDate: p.prorationDate,
    });
    expect(retry.statusCode).toBe(200);
    expect(retry.json().data.invoice).toEqual(body.invoice);
    expect(await invoicesOf(subscriptionId)).toHaveLength(invoicesBefore.length + 1);

    // A new request to the same interval is refused, clearly.
    const same = await preview(client, 'year');
    expect(same.statusCode).toBe(409);
    expect(same.json()).toMatchObject({
      code: 'PLAN_CHANGE_NOT_ALLOWED',
      error: 'You are already on the yearly plan.',
    });
    const sameConfirm = await client.post('/api/billing/plan-change/', {
      interval: 'year',
      prorationDate: p.prorationDate + 1,
    });
    expect(sameConfirm.statusCode).toBe(409);
    expect(sameConfirm.json().code).toBe('PLAN_CHANGE_NOT_ALLOWED');
  });

  it('two confirmations at once charge once', async () => {
    const { client, subscriptionId } = await paying('month', 10);
    const before = await invoicesOf(subscriptionId);
    const p = (await preview(client, 'year')).json().data as Preview;
    const body = { interval: 'year', prorationDate: p.prorationDate };
    const [a, b, c] = await Promise.all([
      client.post('/api/billing/plan-change/', body),
      client.post('/api/billing/plan-change/', body),
      client.post('/api/billing/plan-change/', body),
    ]);
    expect([a.statusCode, b.statusCode, c.statusCode]).toEqual([200, 200, 200]);
    const ids = new Set([a, b, c].map((res) => res.json().data.invoice.id));
    expect(ids.size).toBe(1);
    const invoices = await invoicesOf(subscriptionId);
    expect(invoices).toHaveLength(before.length + 1);
    expect(invoices[0]).toMatchObject({ status: 'paid', total: p.total });
  });

  it('a change whose answer from Stripe was lost is not applied twice when the client retries', async () => {
    const { client, userId, customerId, subscriptionId } = await paying('month', 20);
    const before = await invoicesOf(subscriptionId);
    const p = (await preview(client, 'year')).json().data as Preview;
    // Stripe makes the change but answers after the app has given up (1.5 s timeout).
    h.emulator.faults.failNext(1, 'slow', {
      delayMs: 2_500,
      pathPrefix: `/v1/subscriptions/${subscriptionId}`,
      method: 'POST',
    });
    const body = { interval: 'year', prorationDate: p.prorationDate };
    const lost = await client.post('/api/billing/plan-change/', body);
    expect(lost.statusCode).toBe(502);
    expect(lost.json().code).toBe('BILLING_PROVIDER_ERROR');
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const retry = await client.post('/api/billing/plan-change/', body);
    expect(retry.statusCode).toBe(200);
    expect(retry.json().data.billing.interval).toBe('year');
    expect(retry.json().data.invoice).toMatchObject({ status: 'paid', total: p.total });
    const invoices = await invoicesOf(subscriptionId);
    expect(invoices).toHaveLength(before.length + 1);
    await expectWebhooksProcessed(customerId);
    expect((await subscriptionRow(h.t, userId))!.interval).toBe('year');
  });

  it('yearly → monthly: the unused year is credited; nothing is charged now and the credit pays the next months', async () => {
    const { client, customerId, subscriptionId, subscription } = await paying('year', 100);
    const item = subscription.items.data[0]!;
    const now = await clockNow(h, customerId);
    const fraction = (item.current_period_end - now) / (item.current_period_end - item.current_period_start);
    const credit = Math.round(19_000 * fraction);
    const p = (await preview(client, 'month')).json().data as Preview;
    expect(p).toMatchObject({ interval: 'month', amountDue: 0, total: 1_900 - credit });
    expect(p.total).toBeLessThan(0);
    // The credit left after this invoice covers the first monthly renewal in full.
    expect(p.nextPaymentAmount).toBe(Math.max(0, 1_900 + (1_900 - credit)));
    const res = await client.post('/api/billing/plan-change/', {
      interval: 'month',
      prorationDate: p.prorationDate,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.billing.interval).toBe('month');
    expect(res.json().data.invoice).toMatchObject({ total: p.total, amountPaid: 0 });
    const customer = (await h.stripe.customers.retrieve(customerId)) as Stripe.Customer;
    expect(customer.balance).toBe(p.total);
    const sub = await h.stripe.subscriptions.retrieve(subscriptionId);
    expect(sub.items.data[0]!.price.lookup_key).toBe('tierbase_pro_monthly');
  });

  it('while trialing: nothing is charged now, and the trial ends on the new price', async () => {
    const { client, userId } = await signUp(h.t);
    const { sessionId } = await subscribe(client, 'month');
    await client.post('/api/billing/sync/', { sessionId });
    const row = (await subscriptionRow(h.t, userId))!;
    const p = (await preview(client, 'year')).json().data as Preview;
    expect(p).toMatchObject({ amountDue: 0, total: 0, lines: [], nextPaymentAmount: 19_000 });
    expect(p.nextPaymentDate).toBe(row.trialEnd!.toISOString());
    const res = await client.post('/api/billing/plan-change/', {
      interval: 'year',
      prorationDate: p.prorationDate,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({
      billing: { status: 'trialing', interval: 'year' },
      invoice: null,
    });
    const invoices = await invoicesOf(row.stripeSubscriptionId!);
    expect(invoices.every((invoice) => invoice.total === 0)).toBe(true);
  });

  it('refuses a stale preview and changes nothing', async () => {
    const { client, customerId, subscriptionId } = await paying('month', 5);
    const before = await invoicesOf(subscriptionId);
    const p = (await preview(client, 'year')).json().data as Preview;
    // Eleven minutes pass in Stripe's time before the user confirms.
    await advance(h, customerId, (p.prorationDate + 11 * 60) * 1000);
    const res = await client.post('/api/billing/plan-change/', {
      interval: 'year',
      prorationDate: p.prorationDate,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'PREVIEW_EXPIRED', status: 409 });
    // A made-up date in the past (a bigger credit) is refused the same way.
    const forged = await client.post('/api/billing/plan-change/', {
      interval: 'year',
      prorationDate: p.prorationDate - 10 * DAY,
    });
    expect(forged.json().code).toBe('PREVIEW_EXPIRED');
    const sub = await h.stripe.subscriptions.retrieve(subscriptionId);
    expect(sub.items.data[0]!.price.lookup_key).toBe('tierbase_pro_monthly');
    expect(await invoicesOf(subscriptionId)).toHaveLength(before.length);
  });

  it('a declined card: 402 PAYMENT_DECLINED and nothing changes', async () => {
    const { client, customerId, subscriptionId, userId } = await paying('month', 10);
    const pm = await h.stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customerId });
    await h.stripe.customers.update(customerId, { invoice_settings: { default_payment_method: pm.id } });
    await h.stripe.subscriptions.update(subscriptionId, { default_payment_method: pm.id });
    await h.emulator.webhooks.flush();
    const before = await invoicesOf(subscriptionId);
    const p = (await preview(client, 'year')).json().data as Preview;
    const res = await client.post('/api/billing/plan-change/', {
      interval: 'year',
      prorationDate: p.prorationDate,
    });
    expect(res.statusCode).toBe(402);
    expect(res.json()).toMatchObject({
      code: 'PAYMENT_DECLINED',
      links: { portal: '/api/stripe/portal/' },
    });
    const sub = await h.stripe.subscriptions.retrieve(subscriptionId);
    expect(sub).toMatchObject({ status: 'active' });
    expect(sub.items.data[0]!.price.lookup_key).toBe('tierbase_pro_monthly');
    expect(await invoicesOf(subscriptionId)).toHaveLength(before.length);
    expect((await subscriptionRow(h.t, userId))!.interval).toBe('month');
  });

  it('refuses without a live subscription, with bad input, or without a session', async () => {
    const { client } = await signUp(h.t);
    const none = await preview(client, 'year');
    expect(none.statusCode).toBe(409);
    expect(none.json()).toMatchObject({ code: 'PLAN_CHANGE_NOT_ALLOWED', links: { pricing: '/pricing' } });
    const noneConfirm = await client.post('/api/billing/plan-change/', {
      interval: 'year',
      prorationDate: 1_800_000_000,
    });
    expect(noneConfirm.json().code).toBe('PLAN_CHANGE_NOT_ALLOWED');

    const bad = await client.post('/api/billing/plan-change/', { interval: 'weekly', prorationDate: 'x' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details).toHaveProperty('interval');
    expect(bad.json().details).toHaveProperty('prorationDate');
    const extra = await client.post('/api/billing/plan-change/preview/', { interval: 'year', price: 'p' });
    expect(extra.statusCode).toBe(400);

    const anonymous = await h.t.app.inject({
      method: 'POST',
      url: '/api/billing/plan-change/preview/',
      payload: { interval: 'year' },
    });
    expect([401, 403]).toContain(anonymous.statusCode);
  });

  it('refuses a subscription set to end', async () => {
    const { client, subscriptionId } = await paying('month', 3);
    await h.stripe.subscriptions.update(subscriptionId, { cancel_at_period_end: true });
    const res = await preview(client, 'year');
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({
      code: 'PLAN_CHANGE_NOT_ALLOWED',
      links: { portal: '/api/stripe/portal/' },
    });
  });

  it('is in the OpenAPI document', async () => {
    const res = await h.t.app.inject({ method: 'GET', url: '/api/docs/json' });
    const paths = Object.keys(res.json().paths);
    expect(paths).toEqual(
      expect.arrayContaining(['/api/billing/plan-change/preview', '/api/billing/plan-change']),
    );
  });
});
