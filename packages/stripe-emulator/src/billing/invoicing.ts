/**
 * An invoice's own lifecycle: created as a draft, finalized (numbered, the customer's balance
 * applied, hosted URLs set), then collected, voided or marked uncollectible.
 */
import type Stripe from 'stripe';
import { SECONDS } from '../clock.ts';
import type { Core } from '../core.ts';
import { newId } from '../ids.ts';
import { buildInvoice, buildInvoiceLine, type InvoiceLineSpec } from '../objects/invoices.ts';
import { emptyList } from '../objects/shared.ts';
import { payInvoice } from './payments.ts';
import { subscriptionOf, updateInvoice } from './shared.ts';

/** A renewal invoice stays a draft this long before it is finalized and charged. */
export const DRAFT_PERIOD = SECONDS.hour;

export function createInvoice(
  core: Core,
  sub: Stripe.Subscription,
  lines: InvoiceLineSpec[],
  reason: Stripe.Invoice.BillingReason,
  at: number,
  periodStart: number,
  periodEnd: number,
): Stripe.Invoice {
  const customerId = typeof sub.customer === 'string' ? sub.customer : sub.customer.id;
  const customer = core.state.customers[customerId];
  const id = newId('in');
  const lineItems = lines.map((line) => buildInvoiceLine(id, sub.id, line));
  for (const line of lines) {
    const invoiceItem = line.invoiceItem ? core.state.invoiceItems[line.invoiceItem] : undefined;
    if (invoiceItem) invoiceItem.invoice = id;
  }
  const total = lines.reduce((sum, line) => sum + line.amount, 0);
  const inv = buildInvoice({
    id,
    customer: customerId,
    created: at,
    currency: sub.currency,
    test_clock: typeof sub.test_clock === 'string' ? sub.test_clock : null,
    billing_reason: reason,
    customer_email: customer?.email ?? null,
    customer_name: customer?.name ?? null,
    lines: emptyList(`/v1/invoices/${id}/lines`, lineItems),
    parent: {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: { metadata: { ...sub.metadata }, subscription: sub.id },
    },
    period_start: periodStart,
    period_end: periodEnd,
    subtotal: total,
    subtotal_excluding_tax: total,
    total,
    total_excluding_tax: total,
    amount_due: Math.max(0, total),
    amount_remaining: Math.max(0, total),
  });
  core.state.invoices[id] = inv;
  sub.latest_invoice = id;
  core.store.changed();
  return inv;
}

/** Draft → open: numbers the invoice, applies the customer's balance, sets its hosted URLs. */
export function finalizeInvoice(core: Core, inv: Stripe.Invoice, at: number): void {
  const customerId = typeof inv.customer === 'string' ? inv.customer : '';
  const customer = core.state.customers[customerId];
  const seq = customer?.next_invoice_sequence ?? 1;
  if (customer) customer.next_invoice_sequence = seq + 1;
  // The customer's balance (negative is a credit) is applied to what is due; an invoice that nets
  // to a credit (a downgrade's proration) adds to the credit instead.
  const balance = customer?.balance ?? 0;
  const amountDue = inv.total < 0 ? 0 : Math.max(0, inv.total + balance);
  const endingBalance = inv.total < 0 ? balance + inv.total : Math.min(0, inv.total + balance);
  if (customer) customer.balance = endingBalance;
  updateInvoice(core, inv, (i) => {
    i.status = 'open';
    i.number = `${customer?.invoice_prefix ?? 'EMU'}-${String(seq).padStart(4, '0')}`;
    i.status_transitions.finalized_at = at;
    i.effective_at = at;
    i.automatically_finalizes_at = null;
    i.starting_balance = balance;
    i.ending_balance = endingBalance;
    i.amount_due = amountDue;
    i.amount_remaining = amountDue;
    i.hosted_invoice_url = `${core.baseUrl}/invoices/${i.id}`;
    i.invoice_pdf = `${core.baseUrl}/invoices/${i.id}/pdf`;
  });
  core.emit('invoice.finalized', inv, at);
}

/** Finalizes and, with auto_advance, collects: the hour-later step of a renewal. */
export function advanceDraft(core: Core, inv: Stripe.Invoice, at: number): void {
  const sub = subscriptionOf(core, inv);
  const pause = sub?.pause_collection;
  finalizeInvoice(core, inv, at);
  if (pause?.behavior === 'void') voidInvoice(core, inv, at);
  else if (pause?.behavior === 'mark_uncollectible') markUncollectible(core, inv, at);
  else payInvoice(core, inv, at, { onSession: false });
}

export function voidInvoice(core: Core, inv: Stripe.Invoice, at: number): void {
  for (const payment of Object.values(core.state.invoicePayments)) {
    if (payment.invoice !== inv.id || payment.status !== 'open') continue;
    payment.status = 'canceled';
    payment.status_transitions.canceled_at = at;
    const intent = core.state.paymentIntents[payment.payment.payment_intent as string];
    if (intent) {
      intent.status = 'canceled';
      intent.canceled_at = at;
      intent.cancellation_reason = 'void_invoice';
    }
  }
  updateInvoice(core, inv, (i) => {
    i.status = 'void';
    i.amount_remaining = 0;
    i.next_payment_attempt = null;
    i.auto_advance = false;
    i.status_transitions.voided_at = at;
  });
  core.emit('invoice.voided', inv, at);
}

function markUncollectible(core: Core, inv: Stripe.Invoice, at: number): void {
  updateInvoice(core, inv, (i) => {
    i.status = 'uncollectible';
    i.next_payment_attempt = null;
    i.auto_advance = false;
    i.status_transitions.marked_uncollectible_at = at;
  });
  core.emit('invoice.marked_uncollectible', inv, at);
}
