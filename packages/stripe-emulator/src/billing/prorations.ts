/**
 * Item changes (price, quantity): Stripe's proration arithmetic, the InvoiceItems it records, and
 * invoicing the change now or leaving it for the next renewal.
 */
import type Stripe from 'stripe';
import type { Core } from '../core.ts';
import { cardError } from '../errors.ts';
import { buildProrationInvoiceItem } from '../objects/invoices.ts';
import { planFromPrice } from '../objects/products.ts';
import { buildSubscriptionItem } from '../objects/subscriptions.ts';
import type { PendingLine } from '../store.ts';
import { itemLines, pendingToLines } from './invoice-lines.ts';
import { createInvoice, finalizeInvoice } from './invoicing.ts';
import { outcomeFor, payInvoice } from './payments.ts';
import { internalOf, periodEndFrom, productName, updateSubscription } from './shared.ts';

export type ProrationBehavior = 'create_prorations' | 'always_invoice' | 'none';

export interface ItemChange {
  id?: string;
  price?: Stripe.Price;
  quantity?: number;
  deleted?: boolean;
}

export interface ChangePlan {
  nextItems: Stripe.SubscriptionItem[];
  /** Proration lines (empty with `none`, while trialing, or when nothing changed). */
  lines: PendingLine[];
  /** An interval change (not while trialing): the billing cycle restarts now. */
  intervalChanged: boolean;
  newPeriodEnd: number;
  /** Whether the change is invoiced now rather than on the next renewal. */
  invoiceNow: boolean;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Stripe's date in proration descriptions: "09 Apr 2022" (UTC; not the locale's "Sept"). */
function shortDate(at: number): string {
  const date = new Date(at * 1000);
  const day = String(date.getUTCDate()).padStart(2, '0');
  return `${day} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/**
 * What an item change (price switch, quantity) would do, without doing it: the items after the
 * change and the proration lines, computed as Stripe does: for each changed item, a credit for the
 * unused time on the old price × quantity and a charge for the remaining time on the new one, each
 * `unit_amount × quantity × (period_end − proration_date) / (period_end − period_start)` rounded
 * to the minor unit. Nothing is prorated while trialing (nothing was charged) or with `none`.
 * An interval change (monthly ↔ yearly) resets the billing cycle: the new price is charged in full.
 */
export function planChange(
  core: Core,
  sub: Stripe.Subscription,
  changes: ItemChange[],
  proration: ProrationBehavior,
  at: number,
  prorationDate: number = at,
): ChangePlan {
  const oldItems = structuredClone(sub.items.data);
  const periodStart = oldItems[0]?.current_period_start ?? at;
  const periodEnd = oldItems[0]?.current_period_end ?? at;
  const fraction =
    periodEnd > periodStart
      ? Math.max(0, Math.min(1, (periodEnd - prorationDate) / (periodEnd - periodStart)))
      : 0;
  const oldInterval = oldItems[0]?.price.recurring?.interval;
  const lines: PendingLine[] = [];
  const nextItems = structuredClone(sub.items.data);
  for (const change of changes) {
    const existing = change.id ? nextItems.find((i) => i.id === change.id) : undefined;
    if (existing && change.deleted) {
      nextItems.splice(nextItems.indexOf(existing), 1);
      continue;
    }
    if (existing) {
      if (change.price && change.price.id !== existing.price.id) {
        existing.price = change.price;
        existing.plan = planFromPrice(change.price);
      }
      if (change.quantity !== undefined) existing.quantity = change.quantity;
    } else if (change.price) {
      nextItems.push(
        buildSubscriptionItem(sub.id, change.price, change.quantity ?? 1, at, periodStart, periodEnd),
      );
    }
  }
  const newInterval = nextItems[0]?.price.recurring?.interval;
  const intervalChanged =
    oldInterval !== undefined && newInterval !== undefined && oldInterval !== newInterval;
  const prorate =
    proration !== 'none' && (sub.status === 'active' || sub.status === 'past_due') && fraction > 0;
  const after = shortDate(prorationDate);
  const line = (kind: 'Unused' | 'Remaining', item: Stripe.SubscriptionItem): PendingLine => {
    const quantity = item.quantity ?? 1;
    const amount = Math.round((item.price.unit_amount ?? 0) * quantity * fraction);
    // Stripe names the quantity only when it is more than one: "Unused time on 20 × Seats after …".
    const what =
      quantity === 1 ? productName(core, item.price) : `${quantity} × ${productName(core, item.price)}`;
    const credits = kind === 'Unused' ? debitOf(core, sub, item.id) : undefined;
    return {
      ...(credits ? { credits } : {}),
      description: `${kind} time on ${what} after ${after}`,
      amount: kind === 'Unused' ? -amount : amount,
      priceId: item.price.id,
      periodStart: prorationDate,
      periodEnd,
      proration: true,
      quantity,
      subscriptionItem: item.id,
    };
  };
  if (prorate) {
    for (const old of oldItems) {
      const now = nextItems.find((i) => i.id === old.id);
      if (now && now.price.id === old.price.id && (now.quantity ?? 1) === (old.quantity ?? 1)) continue;
      lines.push(line('Unused', old));
      if (now && !intervalChanged) lines.push(line('Remaining', now));
    }
    if (!intervalChanged) {
      for (const added of nextItems.filter((i) => !oldItems.some((o) => o.id === i.id))) {
        lines.push(line('Remaining', added));
      }
    }
  }
  const newPeriodEnd = intervalChanged
    ? periodEndFrom({ ...sub, items: { ...sub.items, data: nextItems } }, at)
    : periodEnd;
  const trialing = sub.status === 'trialing';
  return {
    nextItems,
    lines,
    intervalChanged: intervalChanged && !trialing,
    newPeriodEnd,
    invoiceNow: !trialing && (intervalChanged || (proration === 'always_invoice' && lines.length > 0)),
  };
}

/**
 * Changes items. The proration lines wait for the next invoice (create_prorations) or are
 * invoiced and charged now (always_invoice, or any interval change); `none` makes none.
 */
export function changeItems(
  core: Core,
  sub: Stripe.Subscription,
  changes: ItemChange[],
  proration: ProrationBehavior,
  at: number,
  onSession: boolean,
  extraMutation?: (s: Stripe.Subscription) => void,
  prorationDate: number = at,
  errorIfIncomplete = false,
): void {
  const plan = planChange(core, sub, changes, proration, at, prorationDate);
  if (errorIfIncomplete && plan.invoiceNow) refuseUnpayable(core, sub, plan, at, onSession);
  updateSubscription(core, sub, at, (s) => {
    s.items.data = plan.nextItems;
    if (plan.intervalChanged) {
      s.billing_cycle_anchor = at;
      for (const item of s.items.data) {
        item.current_period_start = at;
        item.current_period_end = plan.newPeriodEnd;
      }
      if (s.cancel_at_period_end) s.cancel_at = plan.newPeriodEnd;
    }
    extraMutation?.(s);
  });
  if (sub.status === 'trialing') return;
  recordProrations(core, sub, plan.lines, at);
  if (!plan.invoiceNow) {
    internalOf(core, sub.id).pendingLines.push(...plan.lines);
    return;
  }
  const pending = internalOf(core, sub.id).pendingLines.splice(0);
  const invoiceLines = [
    ...pendingToLines(core, [...pending, ...plan.lines], sub),
    ...(plan.intervalChanged ? itemLines(core, sub.items.data, at, plan.newPeriodEnd, false) : []),
  ];
  if (invoiceLines.length === 0) return;
  const inv = createInvoice(core, sub, invoiceLines, 'subscription_update', at, at, plan.newPeriodEnd);
  core.emit('invoice.created', inv, at);
  finalizeInvoice(core, inv, at);
  payInvoice(core, inv, at, { onSession });
}

/**
 * The latest debit for a subscription item, which a credit proration reverses: a pending
 * proration charge not yet invoiced, or else its lines on the latest invoice that charged it.
 */
function debitOf(
  core: Core,
  sub: Stripe.Subscription,
  itemId: string,
): { invoice: string; lines: string[] } | { invoiceItem: string } | undefined {
  const pending = internalOf(core, sub.id).pendingLines.findLast(
    (line) => line.subscriptionItem === itemId && line.amount > 0 && line.invoiceItem,
  );
  if (pending?.invoiceItem) return { invoiceItem: pending.invoiceItem };
  const invoices = Object.values(core.state.invoices).filter(
    (inv) => inv.parent?.subscription_details?.subscription === sub.id && inv.status !== 'void',
  );
  for (const inv of invoices.reverse()) {
    const lines = inv.lines.data.filter(
      (l) => l.parent?.subscription_item_details?.subscription_item === itemId && l.amount > 0,
    );
    if (lines.length > 0) return { invoice: inv.id, lines: lines.map((l) => l.id) };
  }
  return undefined;
}

/** Each proration line becomes a pending InvoiceItem (`invoiceitem.created`), as in Stripe. */
function recordProrations(core: Core, sub: Stripe.Subscription, lines: PendingLine[], at: number): void {
  for (const line of lines) {
    const price = core.state.prices[line.priceId];
    if (!price) continue;
    const item = buildProrationInvoiceItem({
      customer: sub.customer as string,
      subscription: sub.id,
      subscriptionItem: line.subscriptionItem ?? null,
      price,
      amount: line.amount,
      quantity: line.quantity ?? 1,
      description: line.description,
      periodStart: line.periodStart,
      periodEnd: line.periodEnd,
      date: at,
      testClock: typeof sub.test_clock === 'string' ? sub.test_clock : null,
      creditedItems: !line.credits
        ? null
        : 'invoiceItem' in line.credits
          ? { type: 'invoice_item', invoice_item: line.credits.invoiceItem }
          : {
              type: 'invoice_line_items',
              invoice_line_item_details: {
                invoice: line.credits.invoice,
                invoice_line_items: line.credits.lines,
              },
            },
    });
    core.state.invoiceItems[item.id] = item;
    line.invoiceItem = item.id;
    core.emit('invoiceitem.created', item, at);
  }
}

/**
 * payment_behavior=error_if_incomplete: a change whose invoice could not be paid now is refused
 * with a 402 before anything changes, as Stripe refuses it.
 */
function refuseUnpayable(
  core: Core,
  sub: Stripe.Subscription,
  plan: ChangePlan,
  at: number,
  onSession: boolean,
): void {
  const pending = internalOf(core, sub.id).pendingLines;
  const items = plan.intervalChanged ? itemLines(core, plan.nextItems, at, plan.newPeriodEnd, false) : [];
  const total = [...pending, ...plan.lines, ...items].reduce((sum, line) => sum + line.amount, 0);
  const customer = core.state.customers[sub.customer as string];
  if (total + (customer?.balance ?? 0) <= 0) return;
  const fallback = customer?.invoice_settings.default_payment_method;
  const pmId =
    typeof sub.default_payment_method === 'string'
      ? sub.default_payment_method
      : typeof fallback === 'string'
        ? fallback
        : null;
  const outcome = outcomeFor(core, pmId, onSession);
  if (outcome.kind === 'failed') throw cardError(outcome.message, outcome.declineCode, outcome.code);
  if (outcome.kind === 'requires_action') {
    throw cardError(
      'This payment requires authentication.',
      'authentication_required',
      'authentication_required',
    );
  }
}
