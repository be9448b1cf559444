import type Stripe from 'stripe';
import { type ApiRoutes, type Deps, mustGet, newestFirst, paginate } from '../api.ts';
import { cardForNumber, chargeOutcome, luhnValid, normaliseCardNumber } from '../cards.ts';
import { SECONDS, wallNow } from '../clock.ts';
import { invalidRequest, missingParam } from '../errors.ts';
import { arr, bool, httpUrl, int, mergeMetadata, obj, type Params, str } from '../form.ts';
import { randomToken } from '../ids.ts';
import { emptyList } from '../objects/shared.ts';
import type { CheckoutInternal } from '../store.ts';
import { createCustomer } from './customers.ts';
import { attachPaymentMethod, paymentMethodFromCard } from './payment-methods.ts';

export function checkoutLineItems(deps: Deps, session: Stripe.Checkout.Session): Stripe.LineItem[] {
  const internal = deps.core.state.internal.checkoutSessions[session.id];
  return (internal?.lineItems ?? []).flatMap((line) => {
    const price = deps.core.state.prices[line.price];
    if (!price) return [];
    const amount = (price.unit_amount ?? 0) * line.quantity;
    const productId = typeof price.product === 'string' ? price.product : price.product.id;
    return [
      {
        id: `li_${randomToken(24)}`,
        object: 'item' as const,
        adjustable_quantity: null,
        amount_discount: 0,
        amount_subtotal: amount,
        amount_tax: 0,
        amount_total: amount,
        currency: price.currency,
        description: deps.core.state.products[productId]?.name ?? null,
        metadata: {},
        price,
        quantity: line.quantity,
      },
    ];
  });
}

function expireSession(deps: Deps, session: Stripe.Checkout.Session): void {
  if (session.status !== 'open') return;
  session.status = 'expired';
  session.url = null;
  deps.core.emit('checkout.session.expired', session, wallNow());
}

/** Sessions expire lazily, when next looked at after `expires_at`. */
export function checkSessionExpiry(deps: Deps, session: Stripe.Checkout.Session): void {
  if (session.status === 'open' && wallNow() >= session.expires_at) expireSession(deps, session);
}

export function registerCheckout(routes: ApiRoutes, deps: Deps): void {
  const { core } = deps;

  routes.post('/v1/checkout/sessions', ({ params }) => {
    const mode = str(params, 'mode');
    if (!mode) throw missingParam('mode');
    if (mode !== 'subscription') {
      throw invalidRequest('The emulator supports Checkout in `subscription` mode only.', 'mode');
    }
    const customerId = str(params, 'customer') ?? null;
    const customer = customerId ? mustGet(core.state.customers, customerId, 'customer', 'customer') : null;
    const customerEmail = str(params, 'customer_email') ?? null;
    if (customer && customerEmail) {
      throw invalidRequest(
        'You may only specify one of these parameters: customer, customer_email.',
        'customer_email',
      );
    }
    const successUrl = httpUrl(params, 'success_url');
    if (!successUrl) throw missingParam('success_url');
    const lineItemParams = arr(params, 'line_items');
    if (!lineItemParams || lineItemParams.length === 0) throw missingParam('line_items');
    const lineItems = lineItemParams.map((raw, index) => {
      const item = raw as Params;
      const priceId = str(item, 'price');
      if (!priceId) throw missingParam(`line_items[${index}][price]`);
      const price = mustGet(core.state.prices, priceId, 'price', `line_items[${index}][price]`);
      if (!price.recurring) {
        throw invalidRequest(
          'You must provide at least one recurring price in `subscription` mode when using prices.',
          `line_items[${index}][price]`,
        );
      }
      return { price: price.id, quantity: int(item, 'quantity') ?? 1 };
    });
    const subscriptionData = obj(params, 'subscription_data') ?? {};
    const trialDays = int(subscriptionData, 'trial_period_days') ?? null;
    if (trialDays !== null && trialDays < 1) {
      throw invalidRequest('trial_period_days must be at least 1', 'subscription_data[trial_period_days]');
    }
    const created = wallNow();
    const id = `cs_test_${randomToken(58)}`;
    const amount = lineItems.reduce(
      (sum, line) => sum + (core.state.prices[line.price]!.unit_amount ?? 0) * line.quantity,
      0,
    );
    const currency = core.state.prices[lineItems[0]!.price]!.currency;
    const session: Stripe.Checkout.Session = {
      id,
      object: 'checkout.session',
      adaptive_pricing: null,
      after_expiration: null,
      allow_promotion_codes: bool(params, 'allow_promotion_codes') ?? null,
      allowed_payment_method_types: null,
      amount_subtotal: amount,
      amount_total: amount,
      automatic_tax: { enabled: false, liability: null, provider: null, status: null },
      billing_address_collection: null,
      cancel_url: httpUrl(params, 'cancel_url') ?? null,
      client_reference_id: str(params, 'client_reference_id') ?? null,
      client_secret: null,
      collected_information: null,
      consent: null,
      consent_collection: null,
      created,
      currency,
      currency_conversion: null,
      custom_fields: [],
      custom_text: {
        after_submit: null,
        shipping_address: null,
        submit: null,
        terms_of_service_acceptance: null,
      },
      customer: customer?.id ?? null,
      customer_account: null,
      customer_creation: customer ? null : 'always',
      customer_details: customer
        ? {
            address: null,
            business_name: null,
            email: customer.email,
            individual_name: null,
            name: customer.name ?? null,
            phone: null,
            tax_exempt: 'none',
            tax_ids: [],
          }
        : null,
      customer_email: customerEmail,
      discounts: [],
      expires_at: int(params, 'expires_at') ?? created + 24 * SECONDS.hour,
      integration_identifier: null,
      invoice: null,
      invoice_creation: null,
      livemode: false,
      locale: null,
      managed_payments: null,
      metadata: mergeMetadata({}, params),
      mode: 'subscription',
      origin_context: null,
      payment_intent: null,
      payment_link: null,
      payment_method_collection:
        (str(params, 'payment_method_collection') as 'always' | 'if_required' | undefined) ?? 'always',
      payment_method_configuration_details: null,
      payment_method_options: null,
      payment_method_types: ['card'],
      payment_status: 'unpaid',
      permissions: null,
      presentment_details: undefined,
      recovered_from: null,
      saved_payment_method_options: null,
      setup_intent: null,
      shipping_address_collection: null,
      shipping_cost: null,
      shipping_options: [],
      status: 'open',
      submit_type: null,
      subscription: null,
      success_url: successUrl,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      ui_mode: 'hosted',
      url: `${core.baseUrl}/checkout/${id}`,
      wallet_options: null,
    };
    delete session.presentment_details;
    const internal: CheckoutInternal = {
      lineItems,
      subscriptionData: { trialPeriodDays: trialDays, metadata: mergeMetadata({}, subscriptionData) },
    };
    core.state.checkoutSessions[id] = session;
    core.state.internal.checkoutSessions[id] = internal;
    core.store.changed();
    return session;
  });

  routes.get('/v1/checkout/sessions/:id', ({ path, expand }) => {
    const session = mustGet(core.state.checkoutSessions, path.id, 'checkout.session');
    checkSessionExpiry(deps, session);
    if (!expand.includes('line_items')) return session;
    return {
      ...session,
      line_items: emptyList(
        `/v1/checkout/sessions/${session.id}/line_items`,
        checkoutLineItems(deps, session),
      ),
    };
  });

  routes.get('/v1/checkout/sessions/:id/line_items', ({ path, params }) => {
    const session = mustGet(core.state.checkoutSessions, path.id, 'checkout.session');
    return paginate(
      checkoutLineItems(deps, session),
      params,
      `/v1/checkout/sessions/${session.id}/line_items`,
    );
  });

  routes.post('/v1/checkout/sessions/:id/expire', ({ path }) => {
    const session = mustGet(core.state.checkoutSessions, path.id, 'checkout.session');
    if (session.status !== 'open') {
      throw invalidRequest(
        `Only Checkout Sessions with a status of 'open' can be expired.`,
        undefined,
        'checkout_session_not_open',
      );
    }
    expireSession(deps, session);
    return session;
  });

  routes.get('/v1/checkout/sessions', ({ params }) => {
    const customer = str(params, 'customer');
    const subscription = str(params, 'subscription');
    const status = str(params, 'status');
    if (status !== undefined && !['open', 'complete', 'expired'].includes(status)) {
      throw invalidRequest('Invalid status: must be one of open, complete, or expired', 'status');
    }
    // Sessions past `expires_at` are expired before they are filtered, as when read one by one.
    for (const session of Object.values(core.state.checkoutSessions)) checkSessionExpiry(deps, session);
    const all = newestFirst(core.state.checkoutSessions).filter(
      (s) =>
        (customer === undefined || s.customer === customer) &&
        (subscription === undefined || s.subscription === subscription) &&
        (status === undefined || s.status === status),
    );
    return paginate(all, params, '/v1/checkout/sessions');
  });
}

export interface CheckoutCardInput {
  cardNumber: string;
  expiry: string; // MM / YY
  cvc: string;
  name: string;
  email: string;
}

export type CheckoutResult =
  | { kind: 'completed'; redirect: string }
  | { kind: 'error'; message: string; field?: 'cardNumber' | 'expiry' | 'cvc' | 'email' }
  | { kind: 'requires_action' };

/**
 * What the hosted Checkout page does on "Subscribe": validates the card, then (unless it is declined
 * or needs 3-D Secure first) creates the customer, attaches the card, creates the subscription and
 * completes the session, emitting the events in Stripe's order.
 */
export function completeCheckout(
  deps: Deps,
  session: Stripe.Checkout.Session,
  input: CheckoutCardInput,
  authenticated: boolean,
): CheckoutResult {
  const { core, engine } = deps;
  const internal = core.state.internal.checkoutSessions[session.id];
  if (session.status !== 'open' || !internal)
    return { kind: 'error', message: 'This Checkout Session is no longer active.' };
  const number = normaliseCardNumber(input.cardNumber);
  if (!luhnValid(number))
    return { kind: 'error', message: 'Your card number is incorrect.', field: 'cardNumber' };
  const expiry = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(input.expiry);
  if (!expiry)
    return { kind: 'error', message: "Your card's expiration date is incomplete.", field: 'expiry' };
  const expMonth = Number(expiry[1]);
  const expYear = expiry[2]!.length === 2 ? 2000 + Number(expiry[2]) : Number(expiry[2]);
  const nowDate = new Date();
  if (expMonth < 1 || expMonth > 12)
    return { kind: 'error', message: "Your card's expiration month is invalid.", field: 'expiry' };
  if (
    expYear < nowDate.getUTCFullYear() ||
    (expYear === nowDate.getUTCFullYear() && expMonth < nowDate.getUTCMonth() + 1)
  ) {
    return { kind: 'error', message: "Your card's expiration year is in the past.", field: 'expiry' };
  }
  if (!/^\d{3,4}$/.test(input.cvc.trim()))
    return { kind: 'error', message: "Your card's security code is incomplete.", field: 'cvc' };
  const existingCustomer =
    typeof session.customer === 'string' ? core.state.customers[session.customer] : undefined;
  const email = existingCustomer?.email ?? session.customer_email ?? input.email.trim();
  if (!existingCustomer && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
    return { kind: 'error', message: 'Your email address is invalid.', field: 'email' };
  }
  const card = cardForNumber(number);
  const trialing = (internal.subscriptionData.trialPeriodDays ?? 0) > 0;
  // Decide before creating anything: a declined card leaves no customer or subscription behind.
  if (card.behaviour === 'insufficient_funds')
    return { kind: 'error', message: 'Your card has insufficient funds.', field: 'cardNumber' };
  if (card.behaviour === 'authentication_required' && !authenticated) return { kind: 'requires_action' };
  if (!trialing && (session.amount_total ?? 0) > 0) {
    const outcome = chargeOutcome(card.behaviour, true);
    if (outcome.kind === 'failed') return { kind: 'error', message: outcome.message, field: 'cardNumber' };
  }

  // A new customer is created with the card as its default, so its events read as Stripe's do:
  // customer.created, payment_method.attached, customer.subscription.created, …
  const name = input.name.trim() || null;
  const pm = paymentMethodFromCard(
    deps,
    { number, expMonth, expYear },
    existingCustomer ? core.now(existingCustomer.id) : wallNow(),
    {
      email,
      name,
    },
  );
  if (card.behaviour === 'authentication_required')
    core.state.internal.authenticatedPaymentMethods[pm.id] = true;
  const customer =
    existingCustomer ?? createCustomer(deps, { email, name: name ?? '' }, { defaultPaymentMethod: pm.id });
  const at = core.now(customer.id);
  pm.created = at;
  attachPaymentMethod(deps, pm, customer);
  if (!customer.invoice_settings.default_payment_method) {
    const before = structuredClone(customer.invoice_settings);
    customer.invoice_settings.default_payment_method = pm.id;
    core.emit('customer.updated', customer, at, { invoice_settings: before });
  }
  const subscription = engine.createSubscription({
    customer: customer.id,
    items: internal.lineItems.map((line) => ({
      price: core.state.prices[line.price]!,
      quantity: line.quantity,
    })),
    trialEnd: trialing ? at + internal.subscriptionData.trialPeriodDays! * SECONDS.day : null,
    defaultPaymentMethod: pm.id,
    metadata: internal.subscriptionData.metadata,
    paymentBehavior: 'allow_incomplete',
    cancelAtPeriodEnd: false,
    missingPaymentMethod: 'create_invoice',
    onSession: true,
  });
  session.status = 'complete';
  session.payment_status = trialing ? 'no_payment_required' : 'paid';
  session.customer = customer.id;
  session.subscription = subscription.id;
  session.invoice = typeof subscription.latest_invoice === 'string' ? subscription.latest_invoice : null;
  session.customer_details = {
    address: null,
    business_name: null,
    email,
    individual_name: null,
    name: input.name.trim() || customer.name || null,
    phone: null,
    tax_exempt: 'none',
    tax_ids: [],
  };
  session.url = null;
  core.emit('checkout.session.completed', session, at);
  core.store.changed();
  return {
    kind: 'completed',
    redirect: (session.success_url ?? '/').replaceAll('{CHECKOUT_SESSION_ID}', session.id),
  };
}
