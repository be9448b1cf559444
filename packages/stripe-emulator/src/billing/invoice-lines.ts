/** The lines an invoice bills: a period of each subscription item, and waiting proration lines. */
import type Stripe from 'stripe';
import type { Core } from '../core.ts';
import { formatMoney as money } from '../money.ts';
import type { InvoiceLineSpec } from '../objects/invoices.ts';
import type { PendingLine } from '../store.ts';
import { productName } from './shared.ts';

export function itemLines(
  core: Core,
  items: Stripe.SubscriptionItem[],
  start: number,
  end: number,
  trial: boolean,
): InvoiceLineSpec[] {
  return items.map((item) => {
    const quantity = item.quantity ?? 1;
    const unit = item.price.unit_amount ?? 0;
    const name = productName(core, item.price);
    const interval = item.price.recurring?.interval ?? 'month';
    return {
      description: trial
        ? `Trial period for ${name}`
        : `${quantity} × ${name} (at ${money(unit, item.price.currency)} / ${interval})`,
      amount: trial ? 0 : unit * quantity,
      price: item.price,
      quantity,
      periodStart: start,
      periodEnd: end,
      proration: false,
      subscriptionItem: item.id,
    };
  });
}

export function pendingToLines(
  core: Core,
  pending: PendingLine[],
  sub: Stripe.Subscription,
): InvoiceLineSpec[] {
  return pending.flatMap((line) => {
    const price = core.state.prices[line.priceId];
    if (!price) return [];
    const item =
      sub.items.data.find((i) => i.id === line.subscriptionItem) ??
      sub.items.data.find((i) => i.price.id === line.priceId);
    return [
      {
        description: line.description,
        amount: line.amount,
        price,
        quantity: line.quantity ?? 1,
        periodStart: line.periodStart,
        periodEnd: line.periodEnd,
        proration: line.proration,
        subscriptionItem: line.subscriptionItem ?? item?.id ?? null,
        invoiceItem: line.invoiceItem ?? null,
        creditedItems:
          line.credits && 'invoice' in line.credits
            ? { invoice: line.credits.invoice, invoice_line_items: line.credits.lines }
            : null,
      },
    ];
  });
}
