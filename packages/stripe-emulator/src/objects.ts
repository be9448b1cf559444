/**
 * Builders for the Stripe objects the emulator stores, with every field the pinned API version has,
 * typed with the `stripe` package's own types so the compiler checks what we emit.
 */
import type Stripe from 'stripe';
import { newId, randomToken } from './ids.ts';

/**
 * On the wire Stripe sends decimals as strings ("1000"); the SDK turns them into its Decimal type.
 * The stored object is what goes on the wire, so it holds the string.
 */
export function decimalString(value: number): Stripe.Decimal {
  return String(value) as unknown as Stripe.Decimal;
}

export function emptyList<T>(url: string, data: T[] = []): Stripe.ApiList<T> {
  return { object: 'list', data, has_more: false, url };
}

export function buildCustomer(
  fields: Partial<Stripe.Customer> & { created: number; test_clock: string | null },
): Stripe.Customer {
  const id = newId('cus');
  return {
    id,
    object: 'customer',
    address: null,
    balance: 0,
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: null,
    invoice_prefix: randomToken(8).toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: {},
    name: null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    ...fields,
  };
}

export function buildProduct(
  fields: Partial<Stripe.Product> & { name: string; created: number },
): Stripe.Product {
  return {
    id: newId('prod'),
    object: 'product',
    active: true,
    default_price: null,
    description: null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: {},
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    tax_details: null,
    type: 'service',
    unit_label: null,
    updated: fields.created,
    url: null,
    ...fields,
  };
}

export function buildPrice(
  fields: Partial<Stripe.Price> & { product: string; currency: string; unit_amount: number; created: number },
): Stripe.Price {
  return {
    id: newId('price'),
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: null,
    recurring: null,
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: fields.recurring ? 'recurring' : 'one_time',
    unit_amount_decimal: decimalString(fields.unit_amount),
    ...fields,
  };
}

export function buildRecurring(
  interval: 'month' | 'year' | 'week' | 'day',
  intervalCount = 1,
): Stripe.Price.Recurring {
  return {
    interval,
    interval_count: intervalCount,
    meter: null,
    trial_period_days: null,
    usage_type: 'licensed',
  };
}

/** The legacy `plan` view of a recurring price, still embedded in subscription items. */
export function planFromPrice(price: Stripe.Price): Stripe.Plan {
  const recurring = price.recurring;
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: recurring?.interval ?? 'month',
    interval_count: recurring?.interval_count ?? 1,
    livemode: false,
    metadata: price.metadata,
    meter: null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: 'licensed',
  };
}

export interface TestCardSpec {
  number: string;
  brand: string;
  expMonth?: number;
  expYear?: number;
}

export function buildCardPaymentMethod(
  card: TestCardSpec,
  created: number,
  billing: { email?: string | null; name?: string | null } = {},
): Stripe.PaymentMethod {
  const last4 = card.number.slice(-4);
  return {
    id: newId('pm'),
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: {
      address: null,
      email: billing.email ?? null,
      name: billing.name ?? null,
      phone: null,
      tax_id: null,
    },
    card: {
      brand: card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: 'US',
      display_brand: card.brand,
      exp_month: card.expMonth ?? 12,
      exp_year: card.expYear ?? new Date().getUTCFullYear() + 3,
      // Stable per card number, as Stripe's fingerprint is.
      fingerprint: `fp${card.number.slice(0, 6)}${last4}`,
      funding: 'credit',
      generated_from: null,
      last4,
      networks: { available: [card.brand], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created,
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: {},
    type: 'card',
  };
}

export function buildSubscriptionItem(
  subscriptionId: string,
  price: Stripe.Price,
  quantity: number,
  created: number,
  periodStart: number,
  periodEnd: number,
): Stripe.SubscriptionItem {
  return {
    id: newId('si'),
    object: 'subscription_item',
    billing_thresholds: null,
    created,
    current_period_end: periodEnd,
    current_period_start: periodStart,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: planFromPrice(price),
    price,
    quantity,
    subscription: subscriptionId,
    tax_rates: [],
  };
}

export function buildSubscription(
  fields: Partial<Stripe.Subscription> & {
    customer: string;
    created: number;
    currency: string;
    status: Stripe.Subscription.Status;
    test_clock: string | null;
  },
): Stripe.Subscription {
  const id = fields.id ?? newId('sub');
  return {
    id,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: fields.created,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: null, type: 'classic' },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: 'charge_automatically',
    customer_account: null,
    days_until_due: null,
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: { type: 'self' },
    },
    items: emptyList(`/v1/subscription_items?subscription=${id}`),
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    metadata: {},
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: {
      payment_method_options: null,
      payment_method_types: null,
      save_default_payment_method: 'off',
    },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: fields.created,
    transfer_data: null,
    trial_end: null,
    trial_settings: {
      end_behavior: { billing_cycle_anchor: null, missing_payment_method: 'create_invoice' },
    },
    trial_start: null,
    ...fields,
  };
}

export interface InvoiceLineSpec {
  description: string;
  amount: number;
  price: Stripe.Price;
  quantity: number;
  periodStart: number;
  periodEnd: number;
  proration: boolean;
  subscriptionItem: string | null;
  /** The InvoiceItem the line comes from (proration lines). */
  invoiceItem?: string | null;
  /** For a credit proration: the earlier invoice's lines it reverses. */
  creditedItems?: Stripe.InvoiceLineItem.Parent.SubscriptionItemDetails.ProrationDetails.CreditedItems | null;
}

export function buildInvoiceLine(
  invoiceId: string,
  subscriptionId: string,
  line: InvoiceLineSpec,
): Stripe.InvoiceLineItem {
  return {
    id: newId('il'),
    object: 'line_item',
    amount: line.amount,
    currency: line.price.currency,
    description: line.description,
    discount_amounts: [],
    discountable: true,
    discounts: [],
    invoice: invoiceId,
    livemode: false,
    metadata: {},
    parent: {
      type: 'subscription_item_details',
      invoice_item_details: null,
      subscription_item_details: {
        invoice_item: line.invoiceItem ?? null,
        proration: line.proration,
        proration_details: { credited_items: line.creditedItems ?? null },
        subscription: subscriptionId,
        subscription_item: line.subscriptionItem ?? '',
      },
    },
    period: { start: line.periodStart, end: line.periodEnd },
    pretax_credit_amounts: [],
    pricing: {
      type: 'price_details',
      price_details: { price: line.price.id, product: String(line.price.product) },
      unit_amount_decimal: line.price.unit_amount_decimal,
    },
    quantity: line.quantity,
    quantity_decimal: decimalString(line.quantity),
    subscription: subscriptionId,
    subtotal: line.amount,
    taxes: [],
  };
}

/** A proration waiting for the subscription's next invoice (`invoice: null` until it is invoiced). */
export function buildProrationInvoiceItem(fields: {
  customer: string;
  subscription: string;
  subscriptionItem: string | null;
  price: Stripe.Price;
  amount: number;
  quantity: number;
  description: string;
  periodStart: number;
  periodEnd: number;
  date: number;
  testClock: string | null;
  creditedItems: Stripe.InvoiceItem.ProrationDetails.CreditedItems | null;
}): Stripe.InvoiceItem {
  return {
    id: newId('ii'),
    object: 'invoiceitem',
    amount: fields.amount,
    currency: fields.price.currency,
    customer: fields.customer,
    customer_account: null,
    date: fields.date,
    description: fields.description,
    discountable: false,
    discounts: [],
    invoice: null,
    livemode: false,
    metadata: {},
    net_amount: fields.amount,
    parent: {
      type: 'subscription_details',
      subscription_details: {
        subscription: fields.subscription,
        ...(fields.subscriptionItem ? { subscription_item: fields.subscriptionItem } : {}),
      },
    },
    period: { start: fields.periodStart, end: fields.periodEnd },
    pricing: {
      type: 'price_details',
      price_details: { price: fields.price.id, product: String(fields.price.product) },
      unit_amount_decimal: fields.price.unit_amount_decimal,
    },
    proration: true,
    proration_details: { credited_items: fields.creditedItems, discount_amounts: [] },
    quantity: fields.quantity,
    quantity_decimal: decimalString(fields.quantity),
    tax_rates: [],
    test_clock: fields.testClock,
  };
}

export function buildInvoice(
  fields: Partial<Stripe.Invoice> & {
    customer: string;
    created: number;
    currency: string;
    test_clock: string | null;
  },
): Stripe.Invoice {
  const id = fields.id ?? newId('in');
  return {
    id,
    object: 'invoice',
    account_country: 'US',
    account_name: 'Tierbase (Stripe emulator)',
    account_tax_ids: null,
    amount_due: 0,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: 0,
    amount_shipping: 0,
    application: null,
    attempt_count: 0,
    attempted: false,
    auto_advance: true,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: 'subscription_cycle',
    collection_method: 'charge_automatically',
    custom_fields: null,
    customer_account: null,
    customer_address: null,
    customer_email: null,
    customer_name: null,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: 'none',
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: null,
    ending_balance: null,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: null,
    invoice_pdf: null,
    issuer: { type: 'self' },
    last_finalization_error: null,
    latest_revision: null,
    lines: emptyList(`/v1/invoices/${id}/lines`),
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number: null,
    on_behalf_of: null,
    parent: null,
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: fields.created,
    period_start: fields.created,
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: 'draft',
    status_transitions: { finalized_at: null, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: 0,
    subtotal_excluding_tax: 0,
    total: 0,
    total_discount_amounts: [],
    total_excluding_tax: 0,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: null,
    ...fields,
  };
}

export function buildTestClock(
  frozenTime: number,
  name: string | null,
  created: number,
): Stripe.TestHelpers.TestClock {
  return {
    id: newId('clock'),
    object: 'test_helpers.test_clock',
    created,
    deletes_after: created + 30 * 86400,
    frozen_time: frozenTime,
    livemode: false,
    name,
    status: 'ready',
    status_details: {},
  };
}

export function buildWebhookEndpoint(
  url: string,
  secret: string,
  enabledEvents: string[],
  created: number,
  apiVersion: string | null,
): Stripe.WebhookEndpoint {
  return {
    id: newId('we'),
    object: 'webhook_endpoint',
    api_version: apiVersion,
    application: null,
    created,
    description: null,
    enabled_events: enabledEvents,
    livemode: false,
    metadata: {},
    secret,
    status: 'enabled',
    url,
  };
}

export function buildPaymentIntent(
  fields: Partial<Stripe.PaymentIntent> & {
    amount: number;
    currency: string;
    customer: string;
    created: number;
  },
): Stripe.PaymentIntent {
  const id = newId('pi');
  return {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount_capturable: 0,
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic',
    client_secret: `${id}_secret_${randomToken(24)}`,
    confirmation_method: 'automatic',
    customer_account: null,
    description: null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: {},
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: 'off_session',
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'requires_payment_method',
    transfer_group: null,
    ...fields,
  };
}

export function buildInvoicePayment(
  invoice: Stripe.Invoice,
  paymentIntentId: string,
  created: number,
): Stripe.InvoicePayment {
  return {
    id: newId('inpay'),
    object: 'invoice_payment',
    amount_paid: null,
    amount_requested: invoice.amount_remaining,
    created,
    currency: invoice.currency,
    invoice: invoice.id,
    is_default: true,
    livemode: false,
    payment: { type: 'payment_intent', payment_intent: paymentIntentId },
    status: 'open',
    status_transitions: { canceled_at: null, paid_at: null },
  };
}
