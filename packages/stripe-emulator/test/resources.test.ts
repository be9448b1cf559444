import type Stripe from 'stripe';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlan, useTestEmulator } from './helpers.ts';

describe('resources', () => {
  const t = useTestEmulator();
  let stripe: Stripe;
  beforeAll(() => {
    stripe = t.stripe;
  });

  it('products: create, retrieve, update, list, delete', async () => {
    const product = await stripe.products.create({
      name: 'Pro',
      description: 'All features',
      metadata: { tier: 'pro' },
    });
    expect(product.id).toMatch(/^prod_/);
    expect((await stripe.products.retrieve(product.id)).name).toBe('Pro');
    const updated = await stripe.products.update(product.id, { name: 'Pro+', active: false });
    expect(updated).toMatchObject({ name: 'Pro+', active: false });
    expect((await stripe.products.list({ active: false })).data.map((p) => p.id)).toEqual([product.id]);
    expect((await stripe.products.list({ active: true })).data).toHaveLength(0);
    const deleted = await stripe.products.del(product.id);
    expect(deleted.deleted).toBe(true);
  });

  it('prices: recurring month/year, lookup_key, list filters, update', async () => {
    const { product, monthly, yearly } = await createPlan(stripe);
    expect(monthly.id).toMatch(/^price_/);
    expect(monthly.recurring).toMatchObject({ interval: 'month', interval_count: 1 });
    expect(yearly.recurring?.interval).toBe('year');
    expect(monthly.unit_amount).toBe(1000);
    const byKey = await stripe.prices.list({ lookup_keys: ['pro_yearly'], expand: ['data.product'] });
    expect(byKey.data.map((p) => p.id)).toEqual([yearly.id]);
    expect((byKey.data[0]!.product as Stripe.Product).id).toBe(product.id);
    expect(
      (await stripe.prices.list({ product: product.id, recurring: { interval: 'month' } })).data.map(
        (p) => p.id,
      ),
    ).toEqual([monthly.id]);
    await expect(
      stripe.prices.create({
        product: product.id,
        currency: 'usd',
        unit_amount: 1200,
        recurring: { interval: 'month' },
        lookup_key: 'pro_monthly',
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: 'lookup_key' });
    const moved = await stripe.prices.create({
      product: product.id,
      currency: 'usd',
      unit_amount: 1200,
      recurring: { interval: 'month' },
      lookup_key: 'pro_monthly',
      transfer_lookup_key: true,
    });
    expect((await stripe.prices.retrieve(monthly.id)).lookup_key).toBeNull();
    expect(moved.lookup_key).toBe('pro_monthly');
    const inactive = await stripe.prices.update(monthly.id, { active: false, metadata: { old: 'yes' } });
    expect(inactive).toMatchObject({ active: false, metadata: { old: 'yes' } });
  });

  it('customers: create, retrieve, update, list by email, search by metadata, delete', async () => {
    const ann = await stripe.customers.create({
      email: 'ann@example.com',
      name: 'Ann',
      metadata: { user_id: '1' },
    });
    await stripe.customers.create({ email: 'bob@example.com', metadata: { user_id: '2' } });
    expect(ann.id).toMatch(/^cus_/);
    expect(ann.test_clock).toMatch(/^clock_/); // autoTestClock
    expect((await stripe.customers.retrieve(ann.id)) as Stripe.Customer).toMatchObject({
      email: 'ann@example.com',
      name: 'Ann',
    });
    expect((await stripe.customers.update(ann.id, { name: 'Ann B' })).name).toBe('Ann B');
    expect((await stripe.customers.list({ email: 'bob@example.com' })).data).toHaveLength(1);
    const found = await stripe.customers.search({ query: "metadata['user_id']:'1'" });
    expect(found.object).toBe('search_result');
    expect(found.data.map((c) => c.id)).toEqual([ann.id]);
    expect(
      (await stripe.customers.search({ query: "email:'bob@example.com' OR email:'ann@example.com'" })).data,
    ).toHaveLength(2);
    expect((await stripe.customers.search({ query: "email~'ann'" })).data).toHaveLength(1);
    const deleted = await stripe.customers.del(ann.id);
    expect(deleted.deleted).toBe(true);
    // As in Stripe, a deleted customer is still retrievable, as a tombstone.
    expect(await stripe.customers.retrieve(ann.id)).toEqual({
      id: ann.id,
      object: 'customer',
      deleted: true,
    });
    await expect(stripe.customers.update(ann.id, { name: 'x' })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('payment methods: test tokens attach, default on the customer, list, detach', async () => {
    const customer = await stripe.customers.create({ email: 'pm@example.com' });
    const visa = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    expect(visa.id).toMatch(/^pm_/);
    expect(visa.card).toMatchObject({ brand: 'visa', last4: '4242' });
    expect(visa.customer).toBe(customer.id);
    for (const [token, last4] of [
      ['pm_card_chargeCustomerFail', '0341'],
      ['pm_card_visa_chargeDeclinedInsufficientFunds', '9995'],
      ['pm_card_authenticationRequired', '3155'],
    ] as const) {
      expect((await stripe.paymentMethods.attach(token, { customer: customer.id })).card?.last4).toBe(last4);
    }
    const updated = await stripe.customers.update(customer.id, {
      invoice_settings: { default_payment_method: visa.id },
    });
    expect(updated.invoice_settings.default_payment_method).toBe(visa.id);
    expect((await stripe.paymentMethods.list({ customer: customer.id, type: 'card' })).data).toHaveLength(4);
    expect((await stripe.customers.listPaymentMethods(customer.id)).data).toHaveLength(4);
    const created = await stripe.paymentMethods.create({ type: 'card', card: { token: 'tok_visa' } });
    expect(created.customer).toBeNull();
    expect((await stripe.paymentMethods.retrieve(created.id)).card?.last4).toBe('4242');
    const detached = await stripe.paymentMethods.detach(visa.id);
    expect(detached.customer).toBeNull();
    const after = (await stripe.customers.retrieve(customer.id)) as Stripe.Customer;
    expect(after.invoice_settings.default_payment_method).toBeNull();
    await expect(stripe.paymentMethods.attach('pm_unknown', { customer: customer.id })).rejects.toMatchObject(
      { statusCode: 404 },
    );
  });

  it('subscriptions: create, retrieve, list by customer and status, update, cancel', async () => {
    const { monthly } = await createPlan(stripe);
    const customer = await stripe.customers.create({ email: 's@example.com' });
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      default_payment_method: pm.id,
      metadata: { user_id: '9' },
    });
    expect(sub.id).toMatch(/^sub_/);
    expect(sub.status).toBe('active');
    expect(sub.items.data[0]!.id).toMatch(/^si_/);
    expect(sub.items.data[0]!.current_period_start).toBe(sub.start_date);
    expect(sub.items.data[0]!.price.id).toBe(monthly.id);
    expect(sub.items.data[0]!.plan.id).toBe(monthly.id);
    expect((await stripe.subscriptions.retrieve(sub.id)).metadata).toEqual({ user_id: '9' });
    const found = await stripe.subscriptions.search({ query: "status:'active' AND metadata['user_id']:'9'" });
    expect(found.data.map((s) => s.id)).toEqual([sub.id]);
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toHaveLength(1);
    expect(
      (await stripe.subscriptions.list({ customer: customer.id, status: 'trialing' })).data,
    ).toHaveLength(0);
    // A rejected update changes nothing.
    await expect(
      stripe.subscriptions.update(sub.id, {
        metadata: { user_id: 'changed' },
        default_payment_method: 'pm_missing',
      }),
    ).rejects.toMatchObject({ statusCode: 404, param: 'default_payment_method' });
    expect((await stripe.subscriptions.retrieve(sub.id)).metadata).toEqual({ user_id: '9' });
    const canceling = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    expect(canceling.cancel_at_period_end).toBe(true);
    const renewed = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: false });
    expect(renewed.cancel_at).toBeNull();
    const canceled = await stripe.subscriptions.cancel(sub.id);
    expect(canceled.status).toBe('canceled');
    expect(canceled.ended_at).not.toBeNull();
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toHaveLength(0);
    expect(
      (await stripe.subscriptions.list({ customer: customer.id, status: 'canceled' })).data,
    ).toHaveLength(1);
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toHaveLength(1);
    await expect(stripe.subscriptions.update(sub.id, { cancel_at_period_end: true })).rejects.toMatchObject({
      statusCode: 400,
    });
    await expect(stripe.subscriptions.resume(sub.id)).rejects.toMatchObject({ statusCode: 400 });
  });

  it('invoices: list by customer and subscription, retrieve, hosted page and PDF open', async () => {
    const { monthly } = await createPlan(stripe);
    const customer = await stripe.customers.create({ email: 'inv@example.com', name: 'Inv <b>' });
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      default_payment_method: pm.id,
    });
    const byCustomer = await stripe.invoices.list({ customer: customer.id });
    const bySub = await stripe.invoices.list({ subscription: sub.id });
    expect(byCustomer.data.map((i) => i.id)).toEqual(bySub.data.map((i) => i.id));
    const invoice = await stripe.invoices.retrieve(bySub.data[0]!.id);
    expect(invoice.id).toMatch(/^in_/);
    expect(invoice).toMatchObject({
      status: 'paid',
      amount_paid: 1000,
      billing_reason: 'subscription_create',
      customer: customer.id,
    });
    expect(invoice.number).toMatch(/^[A-Z0-9]+-0001$/);
    expect(invoice.parent?.subscription_details?.subscription).toBe(sub.id);
    expect(invoice.lines.data[0]!.pricing?.price_details?.price).toBe(monthly.id);
    const page = await fetch(invoice.hosted_invoice_url!);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(invoice.number!);
    expect(html).toContain('Inv &lt;b&gt;'); // escaped
    const pdf = await fetch(invoice.invoice_pdf!);
    expect(pdf.headers.get('content-type')).toBe('application/pdf');
    const bytes = Buffer.from(await pdf.arrayBuffer()).toString('latin1');
    expect(bytes.startsWith('%PDF-1.4')).toBe(true);
    expect(bytes.trimEnd().endsWith('%%EOF')).toBe(true);
    expect((await stripe.invoices.listLineItems(invoice.id)).data).toHaveLength(1);

    // Since basil, an invoice's payments are InvoicePayments (includable), each naming its PaymentIntent.
    expect(invoice.payments).toBeUndefined();
    const withPayments = await stripe.invoices.retrieve(invoice.id, { expand: ['payments'] });
    const payment = withPayments.payments!.data[0]!;
    expect(payment).toMatchObject({
      object: 'invoice_payment',
      status: 'paid',
      amount_paid: 1000,
      is_default: true,
    });
    const intent = await stripe.paymentIntents.retrieve(payment.payment.payment_intent as string);
    expect(intent).toMatchObject({
      status: 'succeeded',
      amount: 1000,
      amount_received: 1000,
      payment_method: pm.id,
    });
    const listed = await stripe.invoicePayments.list({ invoice: invoice.id });
    expect(listed.data.map((p) => p.id)).toEqual([payment.id]);
    const viaSub = await stripe.subscriptions.retrieve(sub.id, { expand: ['latest_invoice.payments'] });
    expect((viaSub.latest_invoice as Stripe.Invoice).payments?.data).toHaveLength(1);
  });

  it('events: list (with type filter) and retrieve; webhook endpoints CRUD', async () => {
    const customer = await stripe.customers.create({ email: 'evt@example.com' });
    const events = await stripe.events.list({ type: 'customer.created' });
    expect(events.data).toHaveLength(1);
    const event = await stripe.events.retrieve(events.data[0]!.id);
    expect(event.id).toMatch(/^evt_/);
    expect(event.api_version).toBe('2026-10-28.endive');
    expect((event.data.object as Stripe.Customer).id).toBe(customer.id);
    const endpoint = await stripe.webhookEndpoints.create({
      url: 'http://127.0.0.1:9/hook',
      enabled_events: ['invoice.paid'],
    });
    expect(endpoint.id).toMatch(/^we_/);
    expect(endpoint.secret).toBe(t.emulator.webhookSecret);
    const fetched = await stripe.webhookEndpoints.retrieve(endpoint.id);
    expect(fetched.secret).toBeUndefined();
    expect(
      (await stripe.webhookEndpoints.update(endpoint.id, { enabled_events: ['*'] })).enabled_events,
    ).toEqual(['*']);
    expect((await stripe.webhookEndpoints.list()).data).toHaveLength(1);
    expect((await stripe.webhookEndpoints.del(endpoint.id)).deleted).toBe(true);
  });

  it('checkout sessions: create, retrieve with expand, line items, expire', async () => {
    const { monthly } = await createPlan(stripe);
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      customer_email: 'co@example.com',
      client_reference_id: 'user_1',
      metadata: { user_id: '1' },
      line_items: [{ price: monthly.id, quantity: 1 }],
      success_url: 'http://app.test/success?session_id={CHECKOUT_SESSION_ID}',
      cancel_url: 'http://app.test/cancel',
      subscription_data: { trial_period_days: 14, metadata: { user_id: '1' } },
      allow_promotion_codes: true,
    });
    expect(session.id).toMatch(/^cs_test_/);
    expect(session.url).toBe(`${t.emulator.url}/checkout/${session.id}`);
    expect(session).toMatchObject({
      status: 'open',
      payment_status: 'unpaid',
      mode: 'subscription',
      client_reference_id: 'user_1',
    });
    const fetched = await stripe.checkout.sessions.retrieve(session.id, {
      expand: ['subscription', 'line_items'],
    });
    expect(fetched.subscription).toBeNull();
    expect(fetched.line_items?.data[0]?.price?.id).toBe(monthly.id);
    expect((await stripe.checkout.sessions.listLineItems(session.id)).data).toHaveLength(1);
    const expired = await stripe.checkout.sessions.expire(session.id);
    expect(expired.status).toBe('expired');
    await expect(stripe.checkout.sessions.expire(session.id)).rejects.toMatchObject({ statusCode: 400 });
    expect((await stripe.events.list({ type: 'checkout.session.expired' })).data).toHaveLength(1);
    await expect(
      stripe.checkout.sessions.create({
        mode: 'payment',
        line_items: [{ price: monthly.id, quantity: 1 }],
        success_url: 'http://x',
      }),
    ).rejects.toMatchObject({ statusCode: 400, param: 'mode' });
  });

  it('checkout sessions: list by customer and status; an expired one cannot be paid', async () => {
    const { monthly, yearly } = await createPlan(stripe);
    const customer = await stripe.customers.create({ email: 'tabs@example.com' });
    const other = await stripe.customers.create({ email: 'other@example.com' });
    const open = (price: string, forCustomer = customer.id) =>
      stripe.checkout.sessions.create({
        mode: 'subscription',
        customer: forCustomer,
        line_items: [{ price, quantity: 1 }],
        success_url: 'http://app.test/success?session_id={CHECKOUT_SESSION_ID}',
      });
    const first = await open(monthly.id);
    const second = await open(yearly.id);
    const foreign = await open(monthly.id, other.id);
    const listed = await stripe.checkout.sessions.list({ customer: customer.id, status: 'open' });
    expect(listed.data.map((session) => session.id)).toEqual([second.id, first.id]);
    expect(listed.data.map((session) => session.id)).not.toContain(foreign.id);

    const expired = await stripe.checkout.sessions.expire(first.id);
    expect(expired).toMatchObject({ status: 'expired', url: null });
    expect(
      (await stripe.checkout.sessions.list({ customer: customer.id, status: 'open' })).data.map((s) => s.id),
    ).toEqual([second.id]);
    expect(
      (await stripe.checkout.sessions.list({ customer: customer.id, status: 'expired' })).data.map(
        (s) => s.id,
      ),
    ).toEqual([first.id]);
    await expect(stripe.checkout.sessions.expire(first.id)).rejects.toMatchObject({
      statusCode: 400,
      type: 'StripeInvalidRequestError',
      code: 'checkout_session_not_open',
    });
    await expect(stripe.checkout.sessions.expire('cs_test_missing')).rejects.toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
    });
    await expect(stripe.checkout.sessions.list({ status: 'paid' as 'open' })).rejects.toMatchObject({
      statusCode: 400,
      param: 'status',
    });

    // The hosted page of the expired session refuses the card: nothing is created.
    const paid = await fetch(`${t.emulator.url}/checkout/${first.id}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        cardNumber: '4242424242424242',
        expiry: '12 / 34',
        cvc: '123',
        name: 'Ada',
      }).toString(),
    });
    expect(paid.headers.get('location')).toBeNull();
    expect(await paid.text()).toContain('This Checkout Session has expired.');
    expect((await stripe.checkout.sessions.retrieve(first.id)).status).toBe('expired');
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toHaveLength(0);
  });

  it('refunds: a PaymentIntent in full or in part, never more than it received', async () => {
    const { monthly } = await createPlan(stripe);
    const customer = await stripe.customers.create({ email: 'refund@example.com' });
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      default_payment_method: pm.id,
    });
    const [invoice] = (await stripe.invoices.list({ subscription: sub.id, status: 'paid' })).data;
    const [payment] = (await stripe.invoicePayments.list({ invoice: invoice!.id!, status: 'paid' })).data;
    const intent = payment!.payment.payment_intent as string;

    const part = await stripe.refunds.create({ payment_intent: intent, amount: 300, reason: 'duplicate' });
    expect(part).toMatchObject({
      object: 'refund',
      amount: 300,
      currency: 'usd',
      payment_intent: intent,
      reason: 'duplicate',
      status: 'succeeded',
    });
    expect(part.id).toMatch(/^re_/);
    await expect(stripe.refunds.create({ payment_intent: intent, amount: 800 })).rejects.toMatchObject({
      statusCode: 400,
      code: 'amount_too_large',
      param: 'amount',
    });
    const rest = await stripe.refunds.create({ payment_intent: intent });
    expect(rest.amount).toBe(700);
    await expect(stripe.refunds.create({ payment_intent: intent })).rejects.toMatchObject({
      statusCode: 400,
      code: 'charge_already_refunded',
    });
    expect((await stripe.refunds.retrieve(part.id)).amount).toBe(300);
    expect((await stripe.refunds.list({ payment_intent: intent })).data.map((r) => r.id)).toEqual([
      rest.id,
      part.id,
    ]);
    expect((await stripe.events.list({ type: 'refund.created' })).data).toHaveLength(2);
    await expect(stripe.refunds.create({ payment_intent: 'pi_missing' })).rejects.toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      param: 'payment_intent',
    });
    await expect(stripe.refunds.create({})).rejects.toMatchObject({ statusCode: 400 });
  });

  it('billing portal sessions: create with customer and return_url', async () => {
    const customer = await stripe.customers.create({ email: 'portal@example.com' });
    const session = await stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: 'http://app.test/account',
    });
    expect(session.id).toMatch(/^bps_/);
    expect(session.url).toBe(`${t.emulator.url}/portal/${session.id}`);
    expect(session.return_url).toBe('http://app.test/account');
    const page = await fetch(session.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('portal@example.com');
    await expect(stripe.billingPortal.sessions.create({ customer: 'cus_nope' })).rejects.toMatchObject({
      statusCode: 404,
    });
    await expect(
      stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'javascript:alert(1)' }),
    ).rejects.toMatchObject({ statusCode: 400, code: 'url_invalid', param: 'return_url' });
  });

  it('test clocks: create, retrieve, list, advance, delete', async () => {
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: 1_800_000_000, name: 'c1' });
    expect(clock.id).toMatch(/^clock_/);
    expect((await stripe.testHelpers.testClocks.retrieve(clock.id)).name).toBe('c1');
    expect((await stripe.testHelpers.testClocks.list()).data.some((c) => c.id === clock.id)).toBe(true);
    const customer = await stripe.customers.create({ test_clock: clock.id });
    expect(customer.created).toBe(1_800_000_000);
    const advanced = await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: 1_800_086_400 });
    expect(advanced).toMatchObject({ status: 'ready', frozen_time: 1_800_086_400 });
    await expect(
      stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: 1_700_000_000 }),
    ).rejects.toMatchObject({ statusCode: 400 });
    expect((await stripe.testHelpers.testClocks.del(clock.id)).deleted).toBe(true);
    expect(((await stripe.customers.retrieve(customer.id)) as Stripe.DeletedCustomer).deleted).toBe(true);
  });

  it('reset drops all state, and /_emulator/state shows it', async () => {
    await stripe.customers.create({ email: 'gone@example.com' });
    const before = (await (await fetch(`${t.emulator.url}/_emulator/state`)).json()) as { customers: object };
    expect(Object.keys(before.customers)).toHaveLength(1);
    await fetch(`${t.emulator.url}/_emulator/reset`, { method: 'POST' });
    expect((await stripe.customers.list()).data).toHaveLength(0);
  });
});
