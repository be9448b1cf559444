/** Stripe's invoice preview: the invoice an item change would bring, computed by the same code. */
import type Stripe from 'stripe';
import type { Core } from '../core.ts';
import { newId } from '../ids.ts';
import { buildInvoice, buildInvoiceLine, type InvoiceLineSpec } from '../objects/invoices.ts';
import { emptyList } from '../objects/shared.ts';
import { itemLines, pendingToLines } from './invoice-lines.ts';
import { DRAFT_PERIOD } from './invoicing.ts';
import { type ItemChange, type ProrationBehavior, planChange } from './prorations.ts';
import { internalOf, periodEndFrom } from './shared.ts';

/**
 * Stripe's invoice preview (`POST /v1/invoices/create_preview`): the invoice a change would
 * create now (always_invoice, interval change), or else the subscription's next renewal invoice
 * with the pending prorations and the next period at the new quantities. Changes no state.
 * Returns null when no invoice is coming (the subscription ends at its period end, or has ended).
 */
export function previewInvoice(
  core: Core,
  sub: Stripe.Subscription,
  changes: ItemChange[],
  proration: ProrationBehavior,
  at: number,
  prorationDate: number,
): Stripe.Invoice | null {
  const plan = planChange(core, sub, changes, proration, at, prorationDate);
  const preview: Stripe.Subscription = { ...sub, items: { ...sub.items, data: plan.nextItems } };
  const pending = internalOf(core, sub.id).pendingLines;
  let lines: InvoiceLineSpec[];
  let created: number;
  let periodEnd: number;
  if (plan.invoiceNow) {
    created = at;
    periodEnd = plan.newPeriodEnd;
    lines = [
      ...pendingToLines(core, [...pending, ...plan.lines], preview),
      ...(plan.intervalChanged ? itemLines(core, plan.nextItems, at, periodEnd, false) : []),
    ];
  } else {
    created = sub.items.data[0]?.current_period_end ?? at;
    const ends = sub.cancel_at !== null && sub.cancel_at <= created;
    if (ends || !['active', 'trialing', 'past_due', 'unpaid'].includes(sub.status)) return null;
    periodEnd = periodEndFrom(preview, created);
    lines = [
      ...pendingToLines(core, [...pending, ...plan.lines], preview),
      ...itemLines(core, plan.nextItems, created, periodEnd, false),
    ];
  }
  const customerId = sub.customer as string;
  const customer = core.state.customers[customerId];
  const id = `upcoming_${newId('in')}`;
  const total = lines.reduce((sum, line) => sum + line.amount, 0);
  const balance = customer?.balance ?? 0;
  // The balance is applied as finalization would apply it (see finalizeInvoice).
  const amountDue = total < 0 ? 0 : Math.max(0, total + balance);
  return buildInvoice({
    id,
    customer: customerId,
    created,
    currency: sub.currency,
    test_clock: typeof sub.test_clock === 'string' ? sub.test_clock : null,
    billing_reason: 'upcoming',
    customer_email: customer?.email ?? null,
    customer_name: customer?.name ?? null,
    lines: emptyList(
      `/v1/invoices/${id}/lines`,
      lines.map((line) => buildInvoiceLine(id, sub.id, line)),
    ),
    parent: {
      type: 'subscription_details',
      quote_details: null,
      subscription_details: {
        metadata: { ...sub.metadata },
        subscription: sub.id,
        ...(plan.lines.length > 0 ? { subscription_proration_date: prorationDate } : {}),
      },
    },
    period_start: created,
    period_end: periodEnd,
    subtotal: total,
    subtotal_excluding_tax: total,
    total,
    total_excluding_tax: total,
    starting_balance: balance,
    amount_due: amountDue,
    amount_remaining: amountDue,
    next_payment_attempt: plan.invoiceNow ? null : created + DRAFT_PERIOD,
  });
}
