import { randomBytes } from 'node:crypto';
import { type RunningEmulator, startEmulator } from '@tierbase/stripe-emulator';
import { and, eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { expect } from 'vitest';
import { syncPlans } from '../src/billing/catalog.ts';
import { STRIPE_API_VERSION } from '../src/billing/stripe-client.ts';
import { personalSubscriptionOf } from '../src/billing/subscriptions.ts';
import { emailOutbox } from '../src/db/schema/email.ts';
import { users } from '../src/db/schema/index.ts';
import { personalWorkspaceId } from '../src/organizations/workspaces.ts';
import { createTestApp, type TestApp, TestClient, type TestDatabase } from './helper.ts';
import { signUpAndVerify } from './users.helpers.ts';

export const STRIPE_TEST_KEY = 'sk_test_tierbase_suite';

export interface BillingHarness {
  emulator: RunningEmulator;
  /** The SDK pointed at the emulator, as a test's own view of "Stripe". */
  stripe: Stripe;
  t: TestApp;
  close(): Promise<void>;
}

/**
 * The real app on a real database, its billing pointed at an in-process Stripe emulator over
 * HTTP, listening on a port so the emulator's signed webhooks reach it as Stripe's would.
 */
export async function startBillingHarness(
  options: { env?: Record<string, string>; database?: TestDatabase; emulator?: RunningEmulator } = {},
): Promise<BillingHarness> {
  const emulator =
    options.emulator ??
    (await startEmulator({
      webhookSecret: `whsec_${randomBytes(16).toString('hex')}`,
      webhookRetryDelaysMs: [50, 100, 200],
    }));
  const t = await createTestApp({
    ...(options.database ? { database: options.database } : {}),
    env: {
      STRIPE_SECRET_KEY: STRIPE_TEST_KEY,
      STRIPE_API_BASE: emulator.url,
      STRIPE_WEBHOOK_SECRET: emulator.webhookSecret,
      STRIPE_MAX_NETWORK_RETRIES: '0',
      RATE_LIMIT_WEBHOOK_PER_MINUTE: '100000',
      ...options.env,
    },
  });
  const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
  const stripe = new Stripe(STRIPE_TEST_KEY, {
    host: emulator.host,
    port: emulator.port,
    protocol: 'http',
    maxNetworkRetries: 0,
  });
  await stripe.webhookEndpoints.create({ url: `${address}/api/stripe/webhook/`, enabled_events: ['*'] });
  if (!options.emulator) await syncPlans(stripe, t.app.database.db);
  return {
    emulator,
    stripe,
    t,
    async close() {
      await emulator.webhooks.flush();
      await t.close();
      if (!options.emulator) await emulator.stop();
    },
  };
}

/** A Stripe event's JSON body as Stripe sends it (a fresh id unless given; `created` is now unless given). */
export function stripeEventPayload(
  type: string,
  object: Record<string, unknown>,
  options: { id?: string; created?: number } = {},
): { id: string; payload: string } {
  const id = options.id ?? `evt_${randomBytes(8).toString('hex')}`;
  const payload = JSON.stringify({
    id,
    object: 'event',
    type,
    api_version: STRIPE_API_VERSION,
    created: options.created ?? Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object },
  });
  return { id, payload };
}

/** POSTs a webhook body to the app, signed with the emulator's secret as Stripe would sign it. */
export function deliverSigned(h: BillingHarness, payload: string) {
  return h.t.app.inject({
    method: 'POST',
    url: '/api/stripe/webhook/',
    headers: {
      'content-type': 'application/json',
      'stripe-signature': Stripe.webhooks.generateTestHeaderString({
        payload,
        secret: h.emulator.webhookSecret,
      }),
    },
    payload,
  });
}

export async function signUp(t: TestApp, email = `user-${randomBytes(4).toString('hex')}@example.com`) {
  const client = new TestClient(t.app);
  const userId = await signUpAndVerify(t, client, {
    email,
    password: 'correct horse battery staple 9',
    name: 'Ada',
  });
  return { client, email, userId };
}

/** What a customer does on the hosted Checkout page: submit the card form. */
export async function payOnHostedCheckout(checkoutUrl: string, cardNumber = '4242424242424242') {
  const response = await fetch(checkoutUrl, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ cardNumber, expiry: '12 / 34', cvc: '123', name: 'Ada Lovelace' }).toString(),
  });
  return { status: response.status, location: response.headers.get('location') };
}

/** Checkout through the app and the hosted page; returns the session id from the success URL. */
export async function subscribe(
  client: TestClient,
  interval: 'month' | 'year' = 'month',
  cardNumber = '4242424242424242',
) {
  const res = await client.post('/api/billing/checkout/', { plan: 'pro', interval });
  if (res.statusCode !== 200) throw new Error(`checkout failed: ${res.statusCode} ${res.body}`);
  const { url } = (res.json() as { data: { url: string } }).data;
  const paid = await payOnHostedCheckout(url, cardNumber);
  const sessionId = paid.location ? new URL(paid.location).searchParams.get('session_id') : null;
  return { url, paid, sessionId };
}

/** The subscription row of the user's personal workspace (which a new account acts in). */
export async function subscriptionRow(t: TestApp, userId: string) {
  return personalSubscriptionOf(t.app.database.db, userId);
}

/** The id of the user's personal workspace. */
export async function personalOrganizationId(t: TestApp, userId: string): Promise<string> {
  const id = await personalWorkspaceId(t.app.database.db, userId);
  if (!id) throw new Error(`user ${userId} has no personal workspace`);
  return id;
}

export async function emailsFor(t: TestApp, userId: string, template?: string) {
  const [user] = await t.app.database.db.select().from(users).where(eq(users.id, userId));
  if (!user) return [];
  return t.app.database.db
    .select()
    .from(emailOutbox)
    .where(
      template
        ? and(eq(emailOutbox.toAddress, user.email), eq(emailOutbox.template, template))
        : eq(emailOutbox.toAddress, user.email),
    );
}

/** Moves the customer's test clock and waits until every webhook it caused has been delivered. */
export async function advance(h: BillingHarness, customerId: string, to: Date | number) {
  const customer = (await h.stripe.customers.retrieve(customerId)) as Stripe.Customer;
  const clockId = typeof customer.test_clock === 'string' ? customer.test_clock : customer.test_clock?.id;
  if (!clockId) throw new Error('customer has no test clock');
  const frozen = Math.floor((typeof to === 'number' ? to : to.getTime()) / 1000);
  await h.stripe.testHelpers.testClocks.advance(clockId, { frozen_time: frozen });
  await expect
    .poll(async () => (await h.stripe.testHelpers.testClocks.retrieve(clockId)).status, {
      timeout: 4000,
      interval: 20,
    })
    .toBe('ready');
  await h.emulator.webhooks.flush();
}

export async function clockNow(h: BillingHarness, customerId: string): Promise<number> {
  const customer = (await h.stripe.customers.retrieve(customerId)) as Stripe.Customer;
  const clockId = typeof customer.test_clock === 'string' ? customer.test_clock : customer.test_clock?.id;
  if (!clockId) return Math.floor(Date.now() / 1000);
  return (await h.stripe.testHelpers.testClocks.retrieve(clockId)).frozen_time;
}

export const DAY = 24 * 3600;
