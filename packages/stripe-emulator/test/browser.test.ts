import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Browser, chromium, type Page } from 'playwright-core';
import type Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createPlan,
  eventTypesSince,
  latestEventId,
  startTestEmulator,
  type TestEmulator,
} from './helpers.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(
    `[stripe-emulator] browser tests skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`,
  );

describe.skipIf(!hasChromium)('hosted pages in Chromium', () => {
  let t: TestEmulator;
  let stripe: Stripe;
  let browser: Browser;
  let page: Page;
  let app: Server;
  let appUrl: string;
  let plan: Awaited<ReturnType<typeof createPlan>>;

  beforeAll(async () => {
    t = await startTestEmulator();
    stripe = t.stripe;
    // Stands in for Tierbase: the page Checkout and the Portal send the customer back to.
    app = createServer((req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><title>App</title><h1>App page ${req.url?.replaceAll('<', '') ?? ''}</h1>`);
    });
    await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.emulator.stop();
    await new Promise<void>((resolve) => app?.close(() => resolve()) ?? resolve());
  });
  beforeEach(async () => {
    await t.emulator.reset();
    plan = await createPlan(stripe);
    const context = await browser.newContext();
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
  });
  afterEach(async () => {
    await page?.context().close();
  });

  async function checkoutSession(extra: Partial<Stripe.Checkout.SessionCreateParams> = {}) {
    return stripe.checkout.sessions.create({
      mode: 'subscription',
      customer_email: 'buyer@example.com',
      client_reference_id: 'user_42',
      line_items: [{ price: plan.monthly.id, quantity: 1 }],
      success_url: `${appUrl}/billing/success?session_id={CHECKOUT_SESSION_ID}`,
      cancel_url: `${appUrl}/billing/cancel`,
      ...extra,
    });
  }

  async function fillCard(number: string) {
    await page.getByLabel('Card number').fill(number);
    await page.getByLabel('Expiration (MM / YY)').fill('12 / 34');
    await page.getByLabel('CVC').fill('123');
    await page.getByLabel('Name on card').fill('Buyer One');
  }

  it('Checkout with a trial: card form, redirect to success_url, Stripe-ordered events', async () => {
    const session = await checkoutSession({
      subscription_data: { trial_period_days: 14, metadata: { user_id: '42' } },
    });
    const mark = await latestEventId(stripe);
    await page.goto(session.url!);
    await expect.poll(() => page.getByRole('heading', { name: 'Subscribe to Pro' }).isVisible()).toBe(true);
    expect(await page.getByText('14 days free').isVisible()).toBe(true);
    expect(await page.getByText('Then $10.00 per month').isVisible()).toBe(true);
    await fillCard('4242 4242 4242 4242');
    await page.getByRole('button', { name: 'Start trial' }).click();
    await page.waitForURL(`${appUrl}/billing/success?session_id=${session.id}`);

    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ['subscription'] });
    expect(done.status).toBe('complete');
    expect(done.payment_status).toBe('no_payment_required');
    const sub = done.subscription as Stripe.Subscription;
    expect(sub.status).toBe('trialing');
    expect(sub.metadata).toEqual({ user_id: '42' });
    expect(typeof sub.default_payment_method).toBe('string');
    expect(await eventTypesSince(stripe, mark)).toEqual([
      'customer.created',
      'payment_method.attached',
      'customer.subscription.created',
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
      'checkout.session.completed',
    ]);
  });

  it('Checkout without a trial charges the card; the subscription becomes active', async () => {
    const session = await checkoutSession();
    const mark = await latestEventId(stripe);
    await page.goto(session.url!);
    await page.getByLabel('Card number').focus();
    await fillCard('4242424242424242');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.waitForURL(/\/billing\/success/);
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ['subscription'] });
    expect(done.payment_status).toBe('paid');
    expect((done.subscription as Stripe.Subscription).status).toBe('active');
    expect(await eventTypesSince(stripe, mark)).toEqual([
      'customer.created',
      'payment_method.attached',
      'customer.subscription.created',
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
      'customer.subscription.updated',
      'checkout.session.completed',
    ]);
  });

  it('a declined card (4000 0000 0000 9995) shows an accessible error and creates nothing', async () => {
    const session = await checkoutSession({ subscription_data: { trial_period_days: 7 } });
    await page.goto(session.url!);
    await fillCard('4000000000009995');
    await page.getByRole('button', { name: 'Start trial' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain('insufficient funds');
    expect(await page.getByLabel('Card number').getAttribute('aria-invalid')).toBe('true');
    expect((await stripe.customers.list()).data).toHaveLength(0);
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('open');
  });

  it('4000 0000 0000 0341 fails at a paid Checkout; the back link returns to cancel_url', async () => {
    const session = await checkoutSession();
    await page.goto(session.url!);
    await fillCard('4000000000000341');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('declined');
    await page.getByRole('link', { name: '← Back' }).click();
    await page.waitForURL(`${appUrl}/billing/cancel`);
  });

  it('4000 0025 0000 3155 asks for authentication first', async () => {
    const session = await checkoutSession();
    await page.goto(session.url!);
    await fillCard('4000002500003155');
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.getByRole('heading', { name: 'Authenticate your payment' }).waitFor();
    await page.getByRole('button', { name: 'Complete authentication' }).click();
    await page.waitForURL(/\/billing\/success/);
    const done = await stripe.checkout.sessions.retrieve(session.id, { expand: ['subscription'] });
    expect((done.subscription as Stripe.Subscription).status).toBe('active');
  });

  it('Portal: plan, next invoice, cancel at period end, resume, switch to yearly, update card, invoices, return', async () => {
    const customer = await stripe.customers.create({ email: 'portal@example.com', name: 'Portal User' });
    const pm = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await stripe.customers.update(customer.id, { invoice_settings: { default_payment_method: pm.id } });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan.monthly.id }],
    });
    const portal = await stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: `${appUrl}/account`,
    });
    await page.goto(portal.url);
    expect(await page.getByTestId('plan-name').textContent()).toBe('Pro');
    expect(await page.getByTestId('next-invoice').textContent()).toContain('$10.00');

    await page.getByRole('button', { name: 'Cancel plan at period end' }).click();
    await page.getByRole('status').waitFor();
    expect(await page.getByTestId('cancel-notice').isVisible()).toBe(true);
    expect((await stripe.subscriptions.retrieve(sub.id)).cancel_at_period_end).toBe(true);

    await page.getByRole('button', { name: 'Resume plan' }).click();
    await page.getByTestId('next-invoice').waitFor();
    expect((await stripe.subscriptions.retrieve(sub.id)).cancel_at_period_end).toBe(false);

    await page.getByRole('button', { name: /Switch to yearly/ }).click();
    await page.getByText('Your plan has been changed.').waitFor();
    const switched = await stripe.subscriptions.retrieve(sub.id);
    expect(switched.items.data[0]!.price.id).toBe(plan.yearly.id);
    expect(await page.getByRole('button', { name: /Switch to monthly/ }).isVisible()).toBe(true);

    await page.getByText('Update payment method').click();
    await page.getByLabel('Card number').fill('5555 5555 5555 4444');
    await page.getByLabel('Expiration (MM / YY)').fill('01 / 33');
    await page.getByLabel('CVC').fill('321');
    await page.getByRole('button', { name: 'Save card' }).click();
    await page.getByText('Your payment method has been updated.').waitFor();
    expect(await page.getByTestId('payment-method').textContent()).toContain('4444');

    const invoiceLinks = page.getByRole('link', { name: /View invoice/ });
    expect(await invoiceLinks.count()).toBe(2);
    await invoiceLinks.first().click();
    await page.getByRole('heading', { name: /Invoice / }).waitFor();
    await page.goBack();

    await page.getByRole('button', { name: 'Cancel now' }).click();
    await page.getByText('Your subscription has been canceled.').waitFor();
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('canceled');

    await page.getByRole('link', { name: '← Return' }).click();
    await page.waitForURL(`${appUrl}/account`);
  });

  it('Portal: a new card pays the open invoice of a past_due subscription', async () => {
    const clock = await stripe.testHelpers.testClocks.create({
      frozen_time: Math.floor(Date.UTC(2026, 5, 1) / 1000),
    });
    const customer = await stripe.customers.create({ email: 'due@example.com', test_clock: clock.id });
    const failing = await stripe.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan.monthly.id }],
      default_payment_method: failing.id,
    });
    const bad = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    await stripe.subscriptions.update(sub.id, { default_payment_method: bad.id });
    await stripe.testHelpers.testClocks.advance(clock.id, {
      frozen_time: sub.items.data[0]!.current_period_end + 7200,
    });
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('past_due');
    const portal = await stripe.billingPortal.sessions.create({ customer: customer.id });
    await page.goto(portal.url);
    await page.getByText('Update payment method').click();
    await page.getByLabel('Card number').fill('4242424242424242');
    await page.getByLabel('Expiration (MM / YY)').fill('12/34');
    await page.getByLabel('CVC').fill('123');
    await page.getByRole('button', { name: 'Save card' }).click();
    await page.getByText('Your payment method has been updated.').waitFor();
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
  });

  it('the hosted invoice page pays an open invoice with a new card, and links its PDF', async () => {
    const clock = await stripe.testHelpers.testClocks.create({
      frozen_time: Math.floor(Date.UTC(2026, 6, 1) / 1000),
    });
    const customer = await stripe.customers.create({ email: 'invoice@example.com', test_clock: clock.id });
    const bad = await stripe.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: plan.monthly.id }],
      default_payment_method: bad.id,
    });
    expect(sub.status).toBe('incomplete');
    const invoice = await stripe.invoices.retrieve(sub.latest_invoice as string);
    await page.goto(invoice.hosted_invoice_url!);
    await page.getByRole('heading', { name: `Invoice ${invoice.number}` }).waitFor();
    await page.getByRole('button', { name: /Pay with VISA •••• 0341/ }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toContain('declined');
    await page.getByLabel('Card number').fill('4242 4242 4242 4242');
    await page.getByLabel('Expiration (MM / YY)').fill('12 / 34');
    await page.getByLabel('CVC').fill('123');
    await page.getByRole('button', { name: 'Pay with this card' }).click();
    await page.getByText('Payment succeeded. Thank you!').waitFor();
    expect((await stripe.invoices.retrieve(invoice.id)).status).toBe('paid');
    expect((await stripe.subscriptions.retrieve(sub.id)).status).toBe('active');
    const pdf = await page.request.get(invoice.invoice_pdf!);
    expect(pdf.headers()['content-type']).toBe('application/pdf');
  });

  it('the dashboard lists objects and advances a test clock', async () => {
    const customer = await stripe.customers.create({ email: 'dash@example.com' });
    const clock = await stripe.testHelpers.testClocks.retrieve(customer.test_clock as string);
    await page.goto(t.emulator.url);
    expect(await page.getByRole('heading', { name: 'Customers' }).isVisible()).toBe(true);
    expect(await page.getByText('dash@example.com').isVisible()).toBe(true);
    await page.getByLabel('Advance').selectOption(String(86400));
    await page.getByRole('button', { name: 'Advance clock' }).click();
    await page.waitForURL(`${t.emulator.url}/`);
    expect((await stripe.testHelpers.testClocks.retrieve(clock.id)).frozen_time).toBe(
      clock.frozen_time + 86400,
    );
    expect(await page.getByText('customer.created').first().isVisible()).toBe(true);
  });
});
