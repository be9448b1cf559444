import type Stripe from 'stripe';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createPlan,
  DAY,
  eventTypesSince,
  latestEventId,
  startTestEmulator,
  useTestEmulator,
} from './helpers.ts';

const HOUR = 3600;

describe('subscription lifecycle driven by a test clock', () => {
  // Retries 1, 2 and 3 days after the first failed attempt; then the final action.
  const t = useTestEmulator({ retrySchedule: [1 * DAY, 2 * DAY, 3 * DAY] });
  let stripe: Stripe;
  let plan: Awaited<ReturnType<typeof createPlan>>;
  beforeAll(() => {
    stripe = t.stripe;
  });
  beforeEach(async () => {
    plan = await createPlan(stripe);
  });

  async function customerOnClock(pmToken: string) {
    const clock = await stripe.testHelpers.testClocks.create({
      frozen_time: Math.floor(Date.UTC(2026, 0, 10) / 1000),
    });
    const customer = await stripe.customers.create({ email: 'life@example.com', test_clock: clock.id });
    const pm = await stripe.paymentMethods.attach(pmToken, { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    return { clock, customer, pm };
  }

  async function advance(clock: Stripe.TestHelpers.TestClock, to: number) {
    const result = await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: to });
    expect(result.status).toBe('ready');
    expect(result.frozen_time).toBe(to);
    return result;
  }

  it('trial → trial_will_end → active → renewal paid', async () => {
    const { clock, customer } = await customerOnClock('pm_card_visa');
    let mark = await latestEventId(stripe);
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan.monthly.id }],
      trial_period_days: 14,
    });
    expect(sub.status).toBe('trialing');
    expect(sub.trial_end).toBe(clock.frozen_time + 14 * DAY);
    expect(sub.items.data[0]!.current_period_end).toBe(sub.trial_end);
    expect(await eventTypesSince(stripe, mark)).toEqual([
      'customer.subscription.created',
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
    ]);

    mark = await latestEventId(stripe);
    await advance(clock, sub.trial_end! - 2 * DAY);
    expect(await eventTypesSince(stripe, mark)).toEqual([
      'test_helpers.test_clock.advancing',
      'customer.subscription.trial_will_end',
      'test_helpers.test_clock.ready',
    ]);

    mark = await latestEventId(stripe);
    await advance(clock, sub.trial_end! + 10);
    let current = await stripe.subscriptions.retrieve(sub.id);
    expect(current.status).toBe('active');
    const renewal = await stripe.invoices.retrieve(current.latest_invoice as string);
    expect(renewal.status).toBe('draft'); // a renewal stays a draft for about an hour
    expect(renewal.amount_due).toBe(1000);
    expect(renewal.parent?.subscription_details?.subscription).toBe(sub.id);
    expect(await eventTypesSince(stripe, mark)).toEqual([
      'test_helpers.test_clock.advancing',
      'customer.subscription.updated',
      'invoice.created',
      'test_helpers.test_clock.ready',
    ]);
    const updated = (await stripe.events.list({ type: 'customer.subscription.updated', limit: 1 })).data[0]!;
    expect((updated.data.previous_attributes as { status?: string }).status).toBe('trialing');

    mark = await latestEventId(stripe);
    await advance(clock, sub.trial_end! + 2 * HOUR);
    expect(await eventTypesSince(stripe, mark)).toEqual([
      'test_helpers.test_clock.advancing',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
      'test_helpers.test_clock.ready',
    ]);
    const paid = await stripe.invoices.retrieve(renewal.id);
    expect(paid.status).toBe('paid');
    expect(paid.amount_paid).toBe(1000);
    expect(paid.hosted_invoice_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/invoices\/in_/);

    // A month later the next period is invoiced and paid.
    const periodEnd = (await stripe.subscriptions.retrieve(sub.id)).items.data[0]!.current_period_end;
    await advance(clock, periodEnd + 2 * HOUR);
    current = await stripe.subscriptions.retrieve(sub.id);
    expect(current.status).toBe('active');
    expect(current.items.data[0]!.current_period_start).toBe(periodEnd);
    const invoices = await stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data.map((i) => i.status)).toEqual(['paid', 'paid', 'paid']);
    expect(invoices.data.map((i) => i.billing_reason)).toEqual([
      'subscription_cycle',
      'subscription_cycle',
      'subscription_create',
    ]);
  });

  it('events from API calls name their request; events from the passage of time do not', async () => {
    const { clock, customer } = await customerOnClock('pm_card_visa');
    const sub = await stripe.subscriptions.create(
      { customer: customer.id, items: [{ price: plan.monthly.id }], trial_period_days: 30 },
      { idempotencyKey: 'create-sub-1' },
    );
    const created = (await stripe.events.list({ type: 'customer.subscription.created', limit: 1 })).data[0]!;
    expect(created.request?.id).toMatch(/^req_/);
    expect(created.request?.idempotency_key).toBe('create-sub-1');
    await advance(clock, sub.trial_end! - 2 * DAY);
    const willEnd = (await stripe.events.list({ type: 'customer.subscription.trial_will_end', limit: 1 }))
      .data[0]!;
    expect(willEnd.request).toEqual({ id: null, idempotency_key: null });
    expect(willEnd.created).toBe(sub.trial_end! - 3 * DAY);
  });

  it('renewal fails → retries → recovered by paying the open invoice', async () => {
    const { clock, customer } = await customerOnClock('pm_card_visa');
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan.monthly.id }],
    });
    expect(sub.status).toBe('active');
    // The card starts failing: switch the default to 0341 (attaches, later charges fail).
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: customer.id,
    });
    await stripe.subscriptions.update(sub.id, { default_payment_method: failing.id });
    const periodEnd = sub.items.data[0]!.current_period_end;

    let mark = await latestEventId(stripe);
    await advance(clock, periodEnd + 2 * HOUR);
    expect(await eventTypesSince(stripe, mark)).toEqual([
      'test_helpers.test_clock.advancing',
      'customer.subscription.updated',
      'invoice.created',
      'invoice.finalized',
      'invoice.payment_failed',
      'customer.subscription.updated',
      'test_helpers.test_clock.ready',
    ]);
    let current = await stripe.subscriptions.retrieve(sub.id);
    expect(current.status).toBe('past_due');
    const invoice = await stripe.invoices.retrieve(current.latest_invoice as string);
    expect(invoice.status).toBe('open');
    expect(invoice.attempt_count).toBe(1);
    expect(invoice.next_payment_attempt).toBe(invoice.status_transitions.finalized_at! + DAY);
    const [payment] = (await stripe.invoicePayments.list({ invoice: invoice.id })).data;
    const intent = await stripe.paymentIntents.retrieve(payment!.payment.payment_intent as string);
    expect(intent.status).toBe('requires_payment_method');
    expect(intent.last_payment_error).toMatchObject({ type: 'card_error', code: 'card_declined' });

    mark = await latestEventId(stripe);
    await advance(clock, invoice.next_payment_attempt! + 10);
    expect(await eventTypesSince(stripe, mark)).toEqual([
      'test_helpers.test_clock.advancing',
      'invoice.payment_failed',
      'test_helpers.test_clock.ready',
    ]);
    expect((await stripe.invoices.retrieve(invoice.id)).attempt_count).toBe(2);

    // The customer fixes the card and pays the open invoice: back to active.
    const good = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    mark = await latestEventId(stripe);
    const paid = await stripe.invoices.pay(invoice.id, { payment_method: good.id });
    expect(paid.status).toBe('paid');
    current = await stripe.subscriptions.retrieve(sub.id);
    expect(current.status).toBe('active');
    expect(await eventTypesSince(stripe, mark)).toEqual([
      'invoice.paid',
      'invoice.payment_succeeded',
      'customer.subscription.updated',
    ]);
  });

  it('renewal fails → retries exhausted → canceled', async () => {
    const { clock, customer } = await customerOnClock('pm_card_visa');
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan.monthly.id }],
    });
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: customer.id,
    });
    await stripe.subscriptions.update(sub.id, { default_payment_method: failing.id });
    const periodEnd = sub.items.data[0]!.current_period_end;
    await advance(clock, periodEnd + 2 * HOUR);
    const mark = await latestEventId(stripe);
    await advance(clock, periodEnd + 7 * DAY);
    expect(await eventTypesSince(stripe, mark)).toEqual([
      'test_helpers.test_clock.advancing',
      'invoice.payment_failed',
      'invoice.payment_failed',
      'invoice.payment_failed',
      'customer.subscription.deleted',
      'test_helpers.test_clock.ready',
    ]);
    const current = await stripe.subscriptions.retrieve(sub.id);
    expect(current.status).toBe('canceled');
    expect(current.cancellation_details?.reason).toBe('payment_failed');
    const invoice = await stripe.invoices.retrieve(current.latest_invoice as string);
    expect(invoice.attempt_count).toBe(4);
    expect(invoice.next_payment_attempt).toBeNull();
  });

  it('cancel at period end takes effect when the period ends', async () => {
    const { clock, customer } = await customerOnClock('pm_card_visa');
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan.monthly.id }],
    });
    const periodEnd = sub.items.data[0]!.current_period_end;
    const updated = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(updated.cancel_at_period_end).toBe(true);
    expect(updated.cancel_at).toBe(periodEnd);
    expect(updated.status).toBe('active');
    const mark = await latestEventId(stripe);
    await advance(clock, periodEnd + 10);
    expect(await eventTypesSince(stripe, mark)).toEqual([
      'test_helpers.test_clock.advancing',
      'customer.subscription.deleted',
      'test_helpers.test_clock.ready',
    ]);
    const current = await stripe.subscriptions.retrieve(sub.id);
    expect(current.status).toBe('canceled');
    expect(current.ended_at).toBe(periodEnd);
    expect((await stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
  });

  it('price switch monthly → yearly prorates and invoices at once', async () => {
    const { clock, customer } = await customerOnClock('pm_card_visa');
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan.monthly.id }],
    });
    const start = sub.items.data[0]!.current_period_start;
    const end = sub.items.data[0]!.current_period_end;
    const halfway = start + Math.floor((end - start) / 2);
    await advance(clock, halfway);
    const mark = await latestEventId(stripe);
    const switched = await stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]!.id, price: plan.yearly.id }],
      proration_behavior: 'create_prorations',
    });
    expect(switched.items.data[0]!.price.id).toBe(plan.yearly.id);
    expect(switched.items.data[0]!.current_period_start).toBe(halfway);
    expect(await eventTypesSince(stripe, mark)).toEqual([
      'customer.subscription.updated',
      'invoiceitem.created', // the credit for the unused month; the year is charged in full
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
    ]);
    const event = (await stripe.events.list({ type: 'customer.subscription.updated', limit: 1 })).data[0]!;
    const previous = event.data.previous_attributes as { items?: { data: { price: { id: string } }[] } };
    expect(previous.items?.data[0]?.price.id).toBe(plan.monthly.id);
    const invoice = await stripe.invoices.retrieve(switched.latest_invoice as string);
    expect(invoice.billing_reason).toBe('subscription_update');
    const credit = invoice.lines.data.find((l) => l.amount < 0)!;
    expect(credit.parent?.subscription_item_details?.proration).toBe(true);
    expect(credit.amount).toBe(-Math.round(1000 * ((end - halfway) / (end - start))));
    expect(invoice.total).toBe(10000 + credit.amount);
    expect(invoice.status).toBe('paid');
  });

  it('a downgrade yearly → monthly leaves a credit on the customer balance that pays later invoices', async () => {
    const { clock, customer } = await customerOnClock('pm_card_visa');
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan.yearly.id }],
    });
    const start = sub.items.data[0]!.current_period_start;
    const end = sub.items.data[0]!.current_period_end;
    await advance(clock, start + 30 * DAY);
    const switched = await stripe.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]!.id, price: plan.monthly.id }],
    });
    const credit = -Math.round(10000 * ((end - (start + 30 * DAY)) / (end - start)));
    const invoice = await stripe.invoices.retrieve(switched.latest_invoice as string);
    expect(invoice.total).toBe(credit + 1000);
    expect(invoice.amount_due).toBe(0);
    expect(invoice.status).toBe('paid');
    const afterSwitch = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    expect(afterSwitch.balance).toBe(credit + 1000);
    await advance(clock, switched.items.data[0]!.current_period_end + 2 * HOUR);
    const renewal = (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0]!;
    expect(renewal).toMatchObject({
      total: 1000,
      amount_due: 0,
      status: 'paid',
      starting_balance: credit + 1000,
    });
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.Customer).balance).toBe(credit + 2000);
  });

  it('same-interval price change with create_prorations adds proration lines to the next invoice', async () => {
    const { clock, customer } = await customerOnClock('pm_card_visa');
    const premium = await stripe.prices.create({
      product: plan.product.id,
      currency: 'usd',
      unit_amount: 3000,
      recurring: { interval: 'month' },
    });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan.monthly.id }],
    });
    const start = sub.items.data[0]!.current_period_start;
    const end = sub.items.data[0]!.current_period_end;
    await advance(clock, start + 10 * DAY);
    await stripe.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]!.id, price: premium.id }] });
    expect((await stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
    await advance(clock, end + 2 * HOUR);
    const next = (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0]!;
    const fraction = (end - (start + 10 * DAY)) / (end - start);
    expect(next.lines.data.filter((l) => l.parent?.subscription_item_details?.proration)).toHaveLength(2);
    expect(next.total).toBe(3000 - Math.round(1000 * fraction) + Math.round(3000 * fraction));
    expect(next.status).toBe('paid');
  });

  it('retries exhausted with finalAction unpaid leaves the subscription unpaid', async () => {
    const local = await startTestEmulator({ retrySchedule: [DAY], finalAction: 'unpaid' });
    try {
      const s = local.stripe;
      const p = await createPlan(s);
      const clock = await s.testHelpers.testClocks.create({
        frozen_time: Math.floor(Date.UTC(2026, 2, 1) / 1000),
      });
      const customer = await s.customers.create({ test_clock: clock.id });
      const pm = await s.paymentMethods.attach('pm_card_visa', { customer: customer.id });
      const sub = await s.subscriptions.create({
        customer: customer.id,
        items: [{ price: p.monthly.id }],
        default_payment_method: pm.id,
      });
      const failing = await s.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
      await s.subscriptions.update(sub.id, { default_payment_method: failing.id });
      await s.testHelpers.testClocks.advance(clock.id, {
        frozen_time: sub.items.data[0]!.current_period_end + 3 * DAY,
      });
      const current = await s.subscriptions.retrieve(sub.id);
      expect(current.status).toBe('unpaid');
      const types = (await s.events.list({ limit: 5 })).data.map((e) => e.type);
      expect(types).toContain('customer.subscription.updated');
    } finally {
      await local.emulator.stop();
    }
  });

  it('first payment failure leaves the subscription incomplete, then incomplete_expired after 23 hours', async () => {
    const { clock, customer } = await customerOnClock('pm_card_chargeCustomerFail');
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan.monthly.id }],
    });
    expect(sub.status).toBe('incomplete');
    const invoice = await stripe.invoices.retrieve(sub.latest_invoice as string);
    expect(invoice.status).toBe('open');
    await advance(clock, clock.frozen_time + 24 * HOUR);
    const current = await stripe.subscriptions.retrieve(sub.id);
    expect(current.status).toBe('incomplete_expired');
    expect((await stripe.invoices.retrieve(invoice.id)).status).toBe('void');
  });

  it('a card needing authentication emits invoice.payment_action_required', async () => {
    const { customer } = await customerOnClock('pm_card_authenticationRequired');
    const mark = await latestEventId(stripe);
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan.monthly.id }],
    });
    expect(sub.status).toBe('incomplete');
    expect(await eventTypesSince(stripe, mark)).toContain('invoice.payment_action_required');
  });

  it('a trial ending without a payment method pauses (missing_payment_method=pause), then resumes', async () => {
    const clock = await stripe.testHelpers.testClocks.create({
      frozen_time: Math.floor(Date.UTC(2026, 4, 1) / 1000),
    });
    const customer = await stripe.customers.create({ test_clock: clock.id });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan.monthly.id }],
      trial_period_days: 7,
      trial_settings: { end_behavior: { missing_payment_method: 'pause' } },
    });
    await advance(clock, sub.trial_end! + 10);
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('paused');
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    const resumed = await stripe.subscriptions.resume(sub.id);
    expect(resumed.status).toBe('active');
    expect((await stripe.invoices.retrieve(resumed.latest_invoice as string)).status).toBe('paid');
  });

  it('pause_collection voids renewal invoices while the subscription stays active', async () => {
    const { clock, customer } = await customerOnClock('pm_card_visa');
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan.monthly.id }],
    });
    const paused = await stripe.subscriptions.update(sub.id, { pause_collection: { behavior: 'void' } });
    expect(paused.pause_collection?.behavior).toBe('void');
    await advance(clock, sub.items.data[0]!.current_period_end + 2 * HOUR);
    const current = await stripe.subscriptions.retrieve(sub.id);
    expect(current.status).toBe('active');
    expect((await stripe.invoices.retrieve(current.latest_invoice as string)).status).toBe('void');
    const cleared = await stripe.subscriptions.update(sub.id, { pause_collection: '' });
    expect(cleared.pause_collection).toBeNull();
  });
});
