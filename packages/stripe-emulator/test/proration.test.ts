import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DAY, eventTypesSince, latestEventId, useTestEmulator, WebhookReceiver } from './helpers.ts';

const HOUR = 3600;
const SEAT = 1000; // $10.00 per seat per month

/** Per-seat billing: quantity changes, their prorations, and the upcoming-invoice preview. */
describe('per-seat subscriptions: quantity changes and prorations', () => {
  const t = useTestEmulator();
  let stripe: Stripe;
  let seat: Stripe.Price;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    stripe = t.stripe;
    receiver = await new WebhookReceiver().start();
  });
  afterAll(async () => {
    await receiver.stop();
  });
  beforeEach(async () => {
    receiver.received.length = 0;
    const product = await stripe.products.create({ name: 'Team' });
    seat = await stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: SEAT,
      recurring: { interval: 'month' },
    });
  });

  /** A customer on a test clock with a card, subscribed to `seats` seats (optionally trialing). */
  async function seatSubscription(seats: number, extra: Partial<Stripe.SubscriptionCreateParams> = {}) {
    const clock = await stripe.testHelpers.testClocks.create({
      frozen_time: Math.floor(Date.UTC(2026, 0, 10) / 1000),
    });
    const customer = await stripe.customers.create({ email: 'team@example.com', test_clock: clock.id });
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: seat.id, quantity: seats }],
      ...extra,
    });
    const item = sub.items.data[0]!;
    const start = item.current_period_start;
    const end = item.current_period_end;
    return { clock, customer, sub, item, start, end, halfway: start + Math.floor((end - start) / 2) };
  }

  async function advance(clock: Stripe.TestHelpers.TestClock, to: number) {
    const result = await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: to });
    expect(result.status).toBe('ready');
  }

  const isProration = (line: Stripe.InvoiceLineItem) => line.parent?.subscription_item_details?.proration;
  const prorationLines = (inv: Stripe.Invoice) =>
    inv.lines.data.filter(isProration).map((l) => ({ amount: l.amount, quantity: l.quantity }));

  it('1 → 3 seats halfway: the preview shows the prorated charge, matching the update and the renewal', async () => {
    const { clock, customer, sub, item, start, end, halfway } = await seatSubscription(1);
    await advance(clock, halfway);
    const fraction = (end - halfway) / (end - start);
    const credit = -Math.round(SEAT * fraction);
    const charge = Math.round(3 * SEAT * fraction);
    const mark = await latestEventId(stripe);

    const preview = await stripe.invoices.createPreview({
      customer: customer.id,
      subscription: sub.id,
      subscription_details: { items: [{ id: item.id, quantity: 3 }], proration_date: halfway },
    });
    expect(preview.id).toMatch(/^upcoming_in_/);
    expect(preview.object).toBe('invoice');
    expect(preview.status).toBe('draft');
    expect(preview.parent?.subscription_details?.subscription_proration_date).toBe(halfway);
    expect(prorationLines(preview)).toEqual([
      { amount: credit, quantity: 1 },
      { amount: charge, quantity: 3 },
    ]);
    // The prorated charge is two more seats for the remaining half of the month (to the cent).
    expect(Math.abs(credit + charge - 2 * SEAT * fraction)).toBeLessThanOrEqual(1);
    const renewalLine = preview.lines.data.find((l) => !isProration(l))!;
    expect(renewalLine).toMatchObject({ amount: 3 * SEAT, quantity: 3, period: { start: end } });
    expect(preview.total).toBe(3 * SEAT + credit + charge);
    expect(preview.amount_due).toBe(preview.total);
    // As Stripe words them: the quantity only when it is more than one.
    expect(preview.lines.data[0]!.description).toBe('Unused time on Team after 25 Jan 2026');
    expect(preview.lines.data[1]!.description).toBe('Remaining time on 3 × Team after 25 Jan 2026');

    // A preview changes nothing: no event, same quantity, no invoice; the preview is not retrievable.
    expect(await eventTypesSince(stripe, mark)).toEqual([]);
    expect((await stripe.subscriptions.retrieve(sub.id)).items.data[0]!.quantity).toBe(1);
    expect((await stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
    await expect(stripe.invoices.retrieve(preview.id)).rejects.toMatchObject({ statusCode: 404 });

    const updated = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, quantity: 3 }],
      proration_date: halfway,
    });
    expect(updated.items.data[0]!.quantity).toBe(3);
    expect(await eventTypesSince(stripe, mark)).toEqual([
      'customer.subscription.updated',
      'invoiceitem.created',
      'invoiceitem.created',
    ]);
    const event = (await stripe.events.list({ type: 'customer.subscription.updated', limit: 1 })).data[0]!;
    const previous = event.data.previous_attributes as { items?: { data: { quantity: number }[] } };
    expect(previous.items?.data[0]?.quantity).toBe(1);
    expect((event.data.object as Stripe.Subscription).items.data[0]!.quantity).toBe(3);
    // create_prorations (the default): nothing is invoiced until the renewal; the prorations are
    // pending invoice items.
    expect((await stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
    const pending = await stripe.invoiceItems.list({ customer: customer.id, pending: true });
    expect(
      pending.data.map((ii) => ({ amount: ii.amount, quantity: ii.quantity, proration: ii.proration })),
    ).toEqual([
      { amount: charge, quantity: 3, proration: true },
      { amount: credit, quantity: 1, proration: true },
    ]);
    expect(pending.data[0]!.parent?.subscription_details?.subscription).toBe(sub.id);
    expect(pending.data[0]!.invoice).toBeNull();
    // The credit names the debit it reverses: the line of the first invoice that charged the seat.
    const firstInvoice = await stripe.invoices.retrieve(sub.latest_invoice as string);
    expect(pending.data[1]!.proration_details?.credited_items).toEqual({
      type: 'invoice_line_items',
      invoice_line_item_details: {
        invoice: firstInvoice.id,
        invoice_line_items: [firstInvoice.lines.data[0]!.id],
      },
    });

    // After the change the preview (no changes asked) is the same invoice.
    const after = await stripe.invoices.createPreview({ subscription: sub.id });
    expect(prorationLines(after)).toEqual(prorationLines(preview));
    expect(after.total).toBe(preview.total);

    await advance(clock, end + 2 * HOUR);
    const renewal = (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0]!;
    expect(renewal.billing_reason).toBe('subscription_cycle');
    expect(prorationLines(renewal)).toEqual(prorationLines(preview));
    expect(renewal.lines.data.map((l) => l.amount)).toEqual(preview.lines.data.map((l) => l.amount));
    expect(renewal).toMatchObject({ status: 'paid', total: preview.total, amount_paid: preview.total });
    // The invoice took the pending items: each proration line names its item, which names the invoice.
    expect((await stripe.invoiceItems.list({ customer: customer.id, pending: true })).data).toEqual([]);
    expect(renewal.lines.data[0]!.parent?.subscription_item_details?.proration_details).toEqual({
      credited_items: { invoice: firstInvoice.id, invoice_line_items: [firstInvoice.lines.data[0]!.id] },
    });
    for (const line of renewal.lines.data.filter(isProration)) {
      const itemId = line.parent?.subscription_item_details?.invoice_item as string;
      expect((await stripe.invoiceItems.retrieve(itemId)).invoice).toBe(renewal.id);
    }
    // The next renewal bills the three seats alone.
    await advance(clock, renewal.period_end + 2 * HOUR);
    const next = (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0]!;
    expect(next).toMatchObject({ status: 'paid', total: 3 * SEAT });
    expect(next.lines.data).toHaveLength(1);
  });

  it('always_invoice: the proration is invoiced and charged at once, with invoice.created/finalized/paid', async () => {
    const { clock, sub, item, start, end, halfway } = await seatSubscription(1);
    await stripe.webhookEndpoints.create({
      url: receiver.url,
      enabled_events: ['invoice.created', 'invoice.finalized', 'invoice.paid'],
    });
    await advance(clock, halfway);
    const fraction = (end - halfway) / (end - start);
    const expected = Math.round(3 * SEAT * fraction) - Math.round(SEAT * fraction);

    const preview = await stripe.invoices.createPreview({
      subscription: sub.id,
      subscription_details: {
        items: [{ id: item.id, quantity: 3 }],
        proration_behavior: 'always_invoice',
      },
    });
    expect(preview.total).toBe(expected);
    expect(preview.lines.data.every(isProration)).toBe(true);

    const updated = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, quantity: 3 }],
      proration_behavior: 'always_invoice',
    });
    const invoice = await stripe.invoices.retrieve(updated.latest_invoice as string);
    expect(invoice).toMatchObject({
      billing_reason: 'subscription_update',
      status: 'paid',
      total: expected,
      amount_paid: expected,
    });
    expect(prorationLines(invoice)).toEqual(prorationLines(preview));
    // The period is unchanged: the next renewal bills three seats, with no proration left over.
    expect(updated.items.data[0]!.current_period_end).toBe(end);

    await t.emulator.webhooks.flush();
    const verifier = new Stripe('sk_test_verify');
    const events = receiver.received.map((r) =>
      verifier.webhooks.constructEvent(
        r.body,
        r.headers['stripe-signature'] as string,
        t.emulator.webhookSecret,
      ),
    );
    const forInvoice = events.filter((e) => (e.data.object as Stripe.Invoice).id === invoice.id);
    expect(forInvoice.map((e) => e.type)).toEqual(['invoice.created', 'invoice.finalized', 'invoice.paid']);

    await advance(clock, end + 2 * HOUR);
    const renewal = (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0]!;
    expect(renewal).toMatchObject({ total: 3 * SEAT, status: 'paid' });
    expect(prorationLines(renewal)).toEqual([]);
  });

  it('always_invoice with a card that fails: the invoice stays open and the subscription is past_due', async () => {
    const { clock, customer, sub, item, halfway } = await seatSubscription(1);
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: customer.id,
    });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: failing.id } });
    await advance(clock, halfway);
    const mark = await latestEventId(stripe);
    const updated = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, quantity: 3 }],
      proration_behavior: 'always_invoice',
    });
    expect(updated.status).toBe('past_due');
    expect(updated.items.data[0]!.quantity).toBe(3);
    const invoice = await stripe.invoices.retrieve(updated.latest_invoice as string);
    expect(invoice).toMatchObject({ status: 'open', attempted: true, amount_paid: 0 });
    expect(invoice.amount_remaining).toBeGreaterThan(0);
    expect(await eventTypesSince(stripe, mark)).toEqual([
      'customer.subscription.updated',
      'invoiceitem.created',
      'invoiceitem.created',
      'invoice.created',
      'invoice.finalized',
      'invoice.payment_failed',
      'customer.subscription.updated',
    ]);
  });

  it('always_invoice with error_if_incomplete and a failing card: 402 and nothing changes', async () => {
    const { clock, customer, sub, item, halfway } = await seatSubscription(1);
    const failing = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', {
      customer: customer.id,
    });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: failing.id } });
    await advance(clock, halfway);
    const mark = await latestEventId(stripe);
    await expect(
      stripe.subscriptions.update(sub.id, {
        items: [{ id: item.id, quantity: 3 }],
        proration_behavior: 'always_invoice',
        payment_behavior: 'error_if_incomplete',
      }),
    ).rejects.toMatchObject({ statusCode: 402, type: 'StripeCardError', code: 'card_declined' });
    const current = await stripe.subscriptions.retrieve(sub.id);
    expect(current).toMatchObject({ status: 'active', latest_invoice: sub.latest_invoice });
    expect(current.items.data[0]!.quantity).toBe(1);
    expect(await eventTypesSince(stripe, mark)).toEqual([]);
    // Pending updates are not emulated: refused rather than applied regardless of the payment.
    await expect(
      stripe.subscriptions.update(sub.id, {
        items: [{ id: item.id, quantity: 3 }],
        proration_behavior: 'always_invoice',
        payment_behavior: 'pending_if_incomplete',
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: 'payment_behavior' });
  });

  it('3 → 1 seats: the credit is a negative line that reduces the next invoice', async () => {
    const { clock, sub, item, start, end, halfway } = await seatSubscription(3);
    await advance(clock, halfway);
    const fraction = (end - halfway) / (end - start);
    const preview = await stripe.invoices.createPreview({
      subscription: sub.id,
      subscription_details: { items: [{ id: item.id, quantity: 1 }] },
    });
    await stripe.subscriptions.update(sub.id, { items: [{ id: item.id, quantity: 1 }] });
    await advance(clock, end + 2 * HOUR);
    const renewal = (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0]!;
    const credit = -Math.round(3 * SEAT * fraction);
    const charge = Math.round(SEAT * fraction);
    expect(prorationLines(renewal)).toEqual([
      { amount: credit, quantity: 3 },
      { amount: charge, quantity: 1 },
    ]);
    expect(renewal.total).toBe(SEAT + credit + charge);
    expect(renewal.total).toBeLessThan(SEAT);
    expect(renewal).toMatchObject({ status: 'paid', amount_paid: renewal.total });
    expect(preview.total).toBe(renewal.total);
  });

  it('proration_behavior=none: the quantity changes with no proration lines', async () => {
    const { clock, sub, item, end, halfway } = await seatSubscription(1);
    await advance(clock, halfway);
    const preview = await stripe.invoices.createPreview({
      subscription: sub.id,
      subscription_details: { items: [{ id: item.id, quantity: 3 }], proration_behavior: 'none' },
    });
    expect(prorationLines(preview)).toEqual([]);
    expect(preview.total).toBe(3 * SEAT);
    expect(preview.parent?.subscription_details?.subscription_proration_date).toBeUndefined();
    const updated = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, quantity: 3 }],
      proration_behavior: 'none',
    });
    expect(updated.items.data[0]!.quantity).toBe(3);
    await advance(clock, end + 2 * HOUR);
    const invoices = (await stripe.invoices.list({ subscription: sub.id })).data;
    expect(invoices).toHaveLength(2);
    expect(prorationLines(invoices[0]!)).toEqual([]);
    expect(invoices[0]).toMatchObject({ total: 3 * SEAT, status: 'paid' });
  });

  it('while trialing: no proration, the quantity updates, and the trial-end invoice bills the new seats', async () => {
    const { clock, sub, item } = await seatSubscription(1, { trial_period_days: 14 });
    expect(sub.status).toBe('trialing');
    await advance(clock, sub.trial_end! - 7 * DAY);
    const preview = await stripe.invoices.createPreview({
      subscription: sub.id,
      subscription_details: { items: [{ id: item.id, quantity: 3 }], proration_behavior: 'always_invoice' },
    });
    // Nothing to invoice now: the preview is the trial-end invoice, with no proration.
    expect(prorationLines(preview)).toEqual([]);
    expect(preview.total).toBe(3 * SEAT);
    expect(preview.created).toBe(sub.trial_end);
    const updated = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, quantity: 3 }],
      proration_behavior: 'always_invoice',
    });
    expect(updated.status).toBe('trialing');
    expect(updated.items.data[0]!.quantity).toBe(3);
    expect((await stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(1);
    await advance(clock, sub.trial_end! + 2 * HOUR);
    const first = (await stripe.invoices.list({ subscription: sub.id, limit: 1 })).data[0]!;
    expect(prorationLines(first)).toEqual([]);
    expect(first).toMatchObject({ total: 3 * SEAT, status: 'paid' });
  });

  it('an update retried with its idempotency key is replayed, not applied twice', async () => {
    const { clock, sub, item, halfway } = await seatSubscription(1);
    await advance(clock, halfway);
    const mark = await latestEventId(stripe);
    const params: Stripe.SubscriptionUpdateParams = {
      items: [{ id: item.id, quantity: 3 }],
      proration_behavior: 'always_invoice',
    };
    const first = await stripe.subscriptions.update(sub.id, params, { idempotencyKey: 'seats-3' });
    const again = await stripe.subscriptions.update(sub.id, params, { idempotencyKey: 'seats-3' });
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(again.latest_invoice).toBe(first.latest_invoice);
    expect((await stripe.invoices.list({ subscription: sub.id })).data).toHaveLength(2);
    expect((await eventTypesSince(stripe, mark)).filter((e) => e === 'invoice.paid')).toHaveLength(1);
    // The same key with other parameters is refused.
    await expect(
      stripe.subscriptions.update(
        sub.id,
        { items: [{ id: item.id, quantity: 4 }] },
        { idempotencyKey: 'seats-3' },
      ),
    ).rejects.toMatchObject({ statusCode: 400, type: 'StripeIdempotencyError' });
  });

  it('subscriptionItems.update changes the quantity with the same proration parameters', async () => {
    const { clock, sub, item, start, end, halfway } = await seatSubscription(1);
    await advance(clock, halfway);
    const fraction = (end - halfway) / (end - start);
    const updated = await stripe.subscriptionItems.update(item.id, {
      quantity: 2,
      proration_behavior: 'always_invoice',
      proration_date: halfway,
    });
    expect(updated).toMatchObject({ id: item.id, object: 'subscription_item', quantity: 2 });
    expect((await stripe.subscriptionItems.retrieve(item.id)).quantity).toBe(2);
    const current = await stripe.subscriptions.retrieve(sub.id);
    const invoice = await stripe.invoices.retrieve(current.latest_invoice as string);
    expect(invoice.total).toBe(Math.round(2 * SEAT * fraction) - Math.round(SEAT * fraction));
    expect((await stripe.subscriptionItems.list({ subscription: sub.id })).data.map((i) => i.id)).toEqual([
      item.id,
    ]);
  });

  it('previews by customer alone, and answers invoice_upcoming_none when nothing is coming', async () => {
    const { customer, sub } = await seatSubscription(2);
    const preview = await stripe.invoices.createPreview({ customer: customer.id });
    expect(preview.parent?.subscription_details?.subscription).toBe(sub.id);
    expect(preview.total).toBe(2 * SEAT);
    await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    await expect(stripe.invoices.createPreview({ subscription: sub.id })).rejects.toMatchObject({
      statusCode: 404,
      code: 'invoice_upcoming_none',
    });
  });

  it('rejects invalid quantities and proration dates with Stripe’s 400 and the parameter', async () => {
    const { sub, item, end } = await seatSubscription(1);
    const cases: [string, Record<string, unknown>, string][] = [
      ['-1', { 'items[0][quantity]': '-1' }, 'items[0][quantity]'],
      ['1.5', { 'items[0][quantity]': '1.5' }, 'items[0][quantity]'],
      ['abc', { 'items[0][quantity]': 'abc' }, 'items[0][quantity]'],
    ];
    for (const [, raw, param] of cases) {
      const body = new URLSearchParams({ 'items[0][id]': item.id, ...(raw as Record<string, string>) });
      const res = await fetch(`${t.emulator.url}/v1/subscriptions/${sub.id}`, {
        method: 'POST',
        headers: { authorization: 'Bearer sk_test_x', 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as { error: Record<string, string> };
      expect(error).toMatchObject({
        type: 'invalid_request_error',
        code: 'parameter_invalid_integer',
        param,
      });
    }
    // Through the SDK: the same error as a StripeInvalidRequestError.
    await expect(
      stripe.subscriptions.update(sub.id, { items: [{ id: item.id, quantity: -2 }] }),
    ).rejects.toMatchObject({
      statusCode: 400,
      param: 'items[0][quantity]',
      type: 'StripeInvalidRequestError',
    });
    await expect(stripe.subscriptionItems.update(item.id, { quantity: -2 })).rejects.toMatchObject({
      statusCode: 400,
      param: 'quantity',
    });
    await expect(
      stripe.invoices.createPreview({
        subscription: sub.id,
        subscription_details: { items: [{ id: item.id, quantity: -2 }] },
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: 'subscription_details[items][0][quantity]' });
    await expect(
      stripe.subscriptions.update(sub.id, {
        items: [{ id: item.id, quantity: 2 }],
        proration_date: end + DAY,
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: 'proration_date' });
    // A quantity without the item's id would add an item: it needs a price, and not the same one.
    await expect(stripe.subscriptions.update(sub.id, { items: [{ quantity: 3 }] })).rejects.toMatchObject({
      statusCode: 400,
      code: 'parameter_missing',
      param: 'items[0][price]',
    });
    await expect(
      stripe.subscriptions.update(sub.id, { items: [{ price: seat.id, quantity: 3 }] }),
    ).rejects.toMatchObject({ statusCode: 400, param: 'items[0][price]' });
    // Nothing changed.
    expect((await stripe.subscriptions.retrieve(sub.id)).items.data).toHaveLength(1);
    expect((await stripe.subscriptions.retrieve(sub.id)).items.data[0]!.quantity).toBe(1);
    // Quantity 0 is a valid quantity in Stripe (a licensed item billed $0): accepted.
    const zero = await stripe.subscriptions.update(sub.id, {
      items: [{ id: item.id, quantity: 0 }],
      proration_behavior: 'none',
    });
    expect(zero.items.data[0]!.quantity).toBe(0);
  });
});
