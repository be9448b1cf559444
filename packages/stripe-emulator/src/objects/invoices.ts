/**
 * Invoice objects, their lines, and the InvoiceItems prorations create. Every field the pinned API
 * version has, typed with the `stripe` package's own types so the compiler checks what the
 * emulator emits.
 */
import type Stripe from 'stripe';
import { newId } from '../ids.ts';
import { decimalString, emptyList } from './shared.ts';

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
