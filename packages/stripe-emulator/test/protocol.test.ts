import Stripe from 'stripe';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPlan, startTestEmulator, useTestEmulator } from './helpers.ts';

describe('Stripe protocol', () => {
  const t = useTestEmulator();
  let stripe: Stripe;
  beforeAll(() => {
    stripe = t.stripe;
  });

  const raw = (path: string, init: RequestInit = {}) =>
    fetch(`${t.emulator.url}${path}`, {
      ...init,
      headers: {
        authorization: 'Bearer sk_test_raw',
        'content-type': 'application/x-www-form-urlencoded',
        ...init.headers,
      },
    });

  it("answers the browser's /favicon.ico with 204, not 404", async () => {
    const response = await fetch(`${t.emulator.url}/favicon.ico`);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });

  it('rejects requests without a key (401) and with a non-test key', async () => {
    const none = await fetch(`${t.emulator.url}/v1/customers`);
    expect(none.status).toBe(401);
    const body = (await none.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(none.headers.get('request-id')).toMatch(/^req_/);
    const bad = new Stripe('sk_live_nope', {
      host: t.emulator.host,
      port: t.emulator.port,
      protocol: 'http',
      maxNetworkRetries: 0,
    });
    await expect(bad.customers.list()).rejects.toMatchObject({
      type: 'StripeAuthenticationError',
      statusCode: 401,
    });
  });

  it('only accepts the configured apiKey when one is set', async () => {
    const local = await startTestEmulator({ apiKey: 'sk_test_exact' });
    try {
      await expect(local.stripe.customers.list()).rejects.toMatchObject({ statusCode: 401 });
      const ok = new Stripe('sk_test_exact', {
        host: local.emulator.host,
        port: local.emulator.port,
        protocol: 'http',
      });
      expect((await ok.customers.list()).object).toBe('list');
    } finally {
      await local.emulator.stop();
    }
  });

  it('answers with a Request-Id, the pinned Stripe-Version, and Stripe error envelopes', async () => {
    const response = await raw('/v1/customers/cus_missing');
    expect(response.status).toBe(404);
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    expect(response.headers.get('stripe-version')).toBe('2026-10-28.endive');
    const body = (await response.json()) as {
      error: { type: string; code: string; param: string; message: string };
    };
    expect(body.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'resource_missing',
      param: 'id',
    });
    await expect(stripe.customers.retrieve('cus_missing')).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      statusCode: 404,
      code: 'resource_missing',
    });
    await expect(stripe.subscriptions.create({ customer: 'cus_x', items: [] })).rejects.toMatchObject({
      statusCode: 404,
      param: 'customer',
    });
    const missing = await raw('/v1/prices', { method: 'POST', body: 'currency=usd' });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('parameter_missing');
    const unknown = await raw('/v1/nope');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { message: string } }).error.message).toContain(
      'Unrecognized request URL',
    );
  });

  it('honours Stripe-Version: the pinned version family is served, another is refused', async () => {
    const same = await raw('/v1/customers', { headers: { 'stripe-version': '2026-10-28.endive' } });
    expect(same.status).toBe(200);
    const older = await raw('/v1/customers', { headers: { 'stripe-version': '2025-03-31.basil' } });
    expect(older.status).toBe(400);
    expect(((await older.json()) as { error: { code: string } }).error.code).toBe('api_version_unsupported');
  });

  it('decodes nested form encoding (a[b][0][c]=)', async () => {
    const { monthly } = await createPlan(stripe);
    const customer = await stripe.customers.create({ metadata: { user_id: '7', 'with space': 'a&b=c' } });
    expect(customer.metadata).toEqual({ user_id: '7', 'with space': 'a&b=c' });
    const body = new URLSearchParams({
      customer: customer.id,
      'items[0][price]': monthly.id,
      'items[0][quantity]': '2',
      'metadata[plan]': 'pro',
      trial_period_days: '3',
      'trial_settings[end_behavior][missing_payment_method]': 'cancel',
    });
    const response = await raw('/v1/subscriptions', { method: 'POST', body: body.toString() });
    expect(response.status).toBe(200);
    const sub = (await response.json()) as Stripe.Subscription;
    expect(sub.items.data[0]!.quantity).toBe(2);
    expect(sub.metadata).toEqual({ plan: 'pro' });
    expect(sub.trial_settings?.end_behavior.missing_payment_method).toBe('cancel');
    // Metadata updates merge; an empty value removes a key.
    const updated = await stripe.customers.update(customer.id, { metadata: { user_id: '', extra: 'x' } });
    expect(updated.metadata).toEqual({ 'with space': 'a&b=c', extra: 'x' });
  });

  it('replays the first response for a repeated Idempotency-Key and rejects a different body', async () => {
    const first = await stripe.customers.create({ email: 'idem@example.com' }, { idempotencyKey: 'key-1' });
    const again = await stripe.customers.create({ email: 'idem@example.com' }, { idempotencyKey: 'key-1' });
    expect(again.id).toBe(first.id);
    expect((await stripe.customers.list({ email: 'idem@example.com' })).data).toHaveLength(1);
    await expect(
      stripe.customers.create({ email: 'other@example.com' }, { idempotencyKey: 'key-1' }),
    ).rejects.toMatchObject({
      type: 'StripeIdempotencyError',
      statusCode: 400,
    });
    const replay = await raw('/v1/customers', {
      method: 'POST',
      body: 'email=idem%40example.com',
      headers: { 'idempotency-key': 'key-1' },
    });
    // A different API key is a different scope: this is a new request.
    expect(((await replay.json()) as { id: string }).id).not.toBe(first.id);
  });

  it('answers 409 while a request with the same key is still running', async () => {
    t.emulator.faults.failNext(1, 'slow', { delayMs: 300 });
    const slow = raw('/v1/customers', {
      method: 'POST',
      body: 'email=a%40b.c',
      headers: { 'idempotency-key': 'k2' },
    });
    // A fixed pause on purpose: the slow request (300 ms) has reached the emulator and holds the
    // key before the second one is sent; nothing observable says it has arrived.
    await new Promise((r) => setTimeout(r, 50));
    const conflict = await raw('/v1/customers', {
      method: 'POST',
      body: 'email=a%40b.c',
      headers: { 'idempotency-key': 'k2' },
    });
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as { error: { type: string } }).error.type).toBe('idempotency_error');
    expect((await slow).status).toBe(200);
  });

  it('lists with limit, has_more, starting_after and ending_before; auto-pagination works', async () => {
    const created: string[] = [];
    for (let i = 0; i < 5; i++)
      created.push((await stripe.customers.create({ email: `p${i}@example.com` })).id);
    const newest = [...created].reverse();
    const page1 = await stripe.customers.list({ limit: 2 });
    expect(page1.object).toBe('list');
    expect(page1.url).toBe('/v1/customers');
    expect(page1.data.map((c) => c.id)).toEqual(newest.slice(0, 2));
    expect(page1.has_more).toBe(true);
    const page2 = await stripe.customers.list({ limit: 2, starting_after: page1.data[1]!.id });
    expect(page2.data.map((c) => c.id)).toEqual(newest.slice(2, 4));
    const last = await stripe.customers.list({ limit: 2, starting_after: page2.data[1]!.id });
    expect(last.data.map((c) => c.id)).toEqual(newest.slice(4));
    expect(last.has_more).toBe(false);
    const before = await stripe.customers.list({ limit: 2, ending_before: newest[4]! });
    expect(before.data.map((c) => c.id)).toEqual(newest.slice(2, 4));
    const all: string[] = [];
    for await (const customer of stripe.customers.list({ limit: 2 })) all.push(customer.id);
    expect(all).toEqual(newest);
    await expect(stripe.customers.list({ limit: 101 })).rejects.toMatchObject({ statusCode: 400 });
  });

  it('expands the fields Tierbase expands', async () => {
    const { monthly } = await createPlan(stripe);
    const customer = await stripe.customers.create({ email: 'x@example.com' });
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: monthly.id }],
      default_payment_method: pm.id,
      expand: ['latest_invoice', 'customer', 'default_payment_method', 'items.data.price.product'],
    });
    expect((sub.latest_invoice as Stripe.Invoice).object).toBe('invoice');
    expect((sub.customer as Stripe.Customer).email).toBe('x@example.com');
    expect((sub.default_payment_method as Stripe.PaymentMethod).card?.last4).toBe('4242');
    expect((sub.items.data[0]!.price.product as Stripe.Product).name).toBe('Pro');
    const list = await stripe.subscriptions.list({ customer: customer.id, expand: ['data.customer'] });
    expect((list.data[0]!.customer as Stripe.Customer).id).toBe(customer.id);
    const invoices = await stripe.invoices.list({
      customer: customer.id,
      expand: ['data.parent.subscription_details.subscription'],
    });
    expect((invoices.data[0]!.parent!.subscription_details!.subscription as Stripe.Subscription).id).toBe(
      sub.id,
    );
    const plain = await stripe.subscriptions.retrieve(sub.id);
    expect(typeof plain.customer).toBe('string');
  });

  it('answers a declined card with 402 card_error', async () => {
    const { monthly } = await createPlan(stripe);
    const customer = await stripe.customers.create({});
    const pm = await stripe.paymentMethods.attach('pm_card_visa_chargeDeclinedInsufficientFunds', {
      customer: customer.id,
    });
    await expect(
      stripe.subscriptions.create({
        customer: customer.id,
        items: [{ price: monthly.id }],
        default_payment_method: pm.id,
        payment_behavior: 'error_if_incomplete',
      }),
    ).rejects.toMatchObject({
      type: 'StripeCardError',
      statusCode: 402,
      code: 'card_declined',
      decline_code: 'insufficient_funds',
    });
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toHaveLength(0);
  });

  describe('fault injection', () => {
    it('fails the next N calls with 500 (the SDK retries them with the same idempotency key)', async () => {
      t.emulator.faults.failNext(1, '500');
      await expect(stripe.customers.list()).rejects.toMatchObject({
        type: 'StripeAPIError',
        statusCode: 500,
      });
      expect((await stripe.customers.list()).object).toBe('list');
      const retrying = new Stripe('sk_test_x', {
        host: t.emulator.host,
        port: t.emulator.port,
        protocol: 'http',
        maxNetworkRetries: 2,
      });
      t.emulator.faults.failNext(2, '500', { pathPrefix: '/v1/customers' });
      const customer = await retrying.customers.create({ email: 'retry@example.com' });
      expect(customer.id).toMatch(/^cus_/);
      expect((await stripe.customers.list({ email: 'retry@example.com' })).data).toHaveLength(1);
    });

    it('answers 429', async () => {
      t.emulator.faults.failNext(1, '429');
      await expect(stripe.products.list()).rejects.toMatchObject({
        type: 'StripeRateLimitError',
        statusCode: 429,
      });
    });

    it('drops the connection after processing; the retry is replayed from the idempotency key', async () => {
      t.emulator.faults.failNext(1, 'drop', { pathPrefix: '/v1/customers' });
      // The SDK retries a closed connection once even with maxNetworkRetries 0.
      const customer = await stripe.customers.create({ email: 'drop@example.com' });
      expect(customer.id).toMatch(/^cus_/);
      expect((await stripe.customers.list({ email: 'drop@example.com' })).data).toHaveLength(1);
      t.emulator.faults.failNext(2, 'drop');
      await expect(stripe.customers.list()).rejects.toMatchObject({ type: 'StripeConnectionError' });
    });

    it('answers slowly', async () => {
      t.emulator.faults.failNext(1, 'slow', { delayMs: 200 });
      const started = Date.now();
      await stripe.products.list();
      expect(Date.now() - started).toBeGreaterThanOrEqual(190);
      t.emulator.faults.failNext(5, '500');
      t.emulator.faults.clear();
      expect((await stripe.products.list()).object).toBe('list');
    });

    it('is driven over HTTP too (/_emulator/faults)', async () => {
      const response = await fetch(`${t.emulator.url}/_emulator/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ count: 1, kind: '500' }),
      });
      expect(response.status).toBe(200);
      await expect(stripe.products.list()).rejects.toMatchObject({ statusCode: 500 });
      await fetch(`${t.emulator.url}/_emulator/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ count: 3, kind: '429' }),
      });
      await fetch(`${t.emulator.url}/_emulator/faults`, { method: 'DELETE' });
      expect((await stripe.products.list()).object).toBe('list');
    });
  });
});
