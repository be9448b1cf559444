import { ErrorCode, type PlanChangeLine, type PlanChangePreview } from '@tierbase/contracts';
import type Stripe from 'stripe';
import type { Database } from '../db/client.ts';
import { AppError } from '../errors.ts';
import { priceIdFor } from './catalog.ts';
import { type BillingInterval, planForLookupKey } from './plans.ts';
import { callStripe, Stripe as StripeSdk } from './stripe-client.ts';
import { type SyncDeps, type Synced, syncCustomer } from './subscription-sync.ts';
import type { SubscriptionRow } from './subscriptions.ts';

/**
 * Switching a live subscription between the plan's monthly and yearly price, in the app: a preview
 * of what Stripe will charge (its upcoming-invoice preview), then the change with the preview's
 * `proration_date`, so the charge is the amount the user confirmed, to the cent. Decision 26.
 *
 * Stripe resets the billing cycle on an interval change and invoices at once: a credit for the
 * unused time on the old price and the new price in full. `always_invoice` says so explicitly (the
 * preview is then that invoice), and `error_if_incomplete` refuses the change when the card is
 * declined, so a failed payment changes nothing instead of leaving a past_due subscription.
 */

export interface PlanChangeDeps extends SyncDeps {
  db: Database;
}

/** How old a preview's proration date may be when the change is confirmed. */
export const PREVIEW_TTL_SECONDS = 10 * 60;
/** Clocks differ: a proration date this far ahead of Stripe's time is still accepted. */
const CLOCK_SKEW_SECONDS = 60;
/** The subscription metadata key naming the last plan change applied (its idempotency key). */
export const PLAN_CHANGE_METADATA_KEY = 'tierbase_plan_change';

const notAllowed = (message: string, links?: Record<string, string>) =>
  new AppError({ status: 409, code: ErrorCode.PLAN_CHANGE_NOT_ALLOWED, message: message, links: links });
const PORTAL = { portal: '/api/stripe/portal/' };
const label = (interval: BillingInterval) => (interval === 'year' ? 'yearly' : 'monthly');

interface Change {
  subscription: Stripe.Subscription;
  item: Stripe.SubscriptionItem;
  customerId: string;
  targetPriceId: string;
  /** Stripe's time for this subscription: its test clock's under one, else now. */
  now: number;
}

/** The subscription, read from Stripe (the row may lag a webhook), and the price to switch to. */
async function prepare(
  deps: PlanChangeDeps,
  row: SubscriptionRow | undefined,
  interval: BillingInterval,
): Promise<Change> {
  const subscriptionId = row?.stripeSubscriptionId;
  if (!row || !subscriptionId) {
    throw notAllowed('You have no subscription to change. Choose a plan first.', { pricing: '/pricing' });
  }
  const subscription = await callStripe(
    'subscriptions.retrieve',
    () => deps.stripe.subscriptions.retrieve(subscriptionId),
    deps.log,
  );
  const item = subscription.items.data[0];
  const current = planForLookupKey(item?.price.lookup_key);
  if (!item || subscription.items.data.length !== 1 || !current) {
    throw notAllowed('This subscription cannot be changed here; use the billing portal.', PORTAL);
  }
  if (subscription.status === 'past_due' || subscription.status === 'unpaid') {
    throw notAllowed('A payment is overdue. Update your payment method in the billing portal first.', PORTAL);
  }
  if (subscription.status !== 'active' && subscription.status !== 'trialing') {
    throw notAllowed('You have no active subscription to change. Choose a plan first.', {
      pricing: '/pricing',
    });
  }
  if (subscription.cancel_at_period_end || subscription.cancel_at !== null) {
    throw notAllowed(
      'Your subscription is set to end. Resume it in the billing portal before changing plan.',
      PORTAL,
    );
  }
  const targetPriceId = await priceIdFor(deps.db, current.plan.id, interval);
  return {
    subscription,
    item,
    customerId: row.stripeCustomerId,
    targetPriceId,
    now: await stripeNow(deps, subscription),
  };
}

async function stripeNow(deps: PlanChangeDeps, subscription: Stripe.Subscription): Promise<number> {
  const clock = subscription.test_clock;
  const clockId = typeof clock === 'string' ? clock : clock?.id;
  if (!clockId) return Math.floor(Date.now() / 1000);
  const found = await callStripe(
    'testHelpers.testClocks.retrieve',
    () => deps.stripe.testHelpers.testClocks.retrieve(clockId),
    deps.log,
  );
  return found.frozen_time;
}

const onTarget = (change: Change) => change.item.price.id === change.targetPriceId;

/** The parameters shared by the preview and the change: the same ones, so the amounts agree. */
const changeParams = (change: Change, prorationDate: number) => ({
  items: [{ id: change.item.id, price: change.targetPriceId }],
  proration_behavior: 'always_invoice' as const,
  proration_date: prorationDate,
});

/** POST /api/billing/plan-change/preview/: what switching to `interval` charges now and next. */
export async function previewPlanChange(
  deps: PlanChangeDeps,
  row: SubscriptionRow | undefined,
  interval: BillingInterval,
): Promise<PlanChangePreview> {
  const change = await prepare(deps, row, interval);
  if (onTarget(change)) throw notAllowed(`You are already on the ${label(interval)} plan.`);
  const prorationDate = change.now;
  const preview = await callStripe(
    'invoices.createPreview',
    () =>
      deps.stripe.invoices.createPreview({
        customer: change.customerId,
        subscription: change.subscription.id,
        subscription_details: changeParams(change, prorationDate),
      }),
    deps.log,
  );
  const isProration = (line: Stripe.InvoiceLineItem) =>
    Boolean(line.parent?.subscription_item_details?.proration);
  const lines: PlanChangeLine[] = preview.lines.data.map((line) => ({
    description: line.description ?? '',
    amount: line.amount,
    proration: isProration(line),
  }));
  const period = preview.lines.data.find((line) => !isProration(line));
  const iso = (seconds: number | undefined) => (seconds ? new Date(seconds * 1000).toISOString() : null);
  if (change.subscription.status === 'trialing') {
    // Nothing is charged during a trial: the preview is the invoice at the trial's end, on the new price.
    return {
      interval,
      currency: preview.currency,
      amountDue: 0,
      total: 0,
      lines: [],
      nextPaymentDate: iso(period?.period.start),
      nextPaymentAmount: preview.amount_due,
      prorationDate,
    };
  }
  // The invoice made now. Credit beyond it (yearly → monthly) stays on the customer's balance and
  // goes toward the next payments, as Stripe applies it.
  const balanceAfter = Math.min(0, preview.starting_balance + preview.total);
  const renewal = period ? period.amount : null;
  return {
    interval,
    currency: preview.currency,
    amountDue: preview.amount_due,
    total: preview.total,
    lines,
    nextPaymentDate: iso(period?.period.end),
    nextPaymentAmount: renewal === null ? null : Math.max(0, renewal + balanceAfter),
    prorationDate,
  };
}

export interface PlanChanged {
  synced: Synced | null;
  invoice: Stripe.Invoice | null;
}

/**
 * POST /api/billing/plan-change/: applies the previewed change. The Stripe idempotency key is
 * derived from the request (subscription, target price, proration date), and the change is made
 * under the customer's lock and recorded in the subscription's metadata: a retried or concurrent
 * confirmation finds the change already made by that key and answers as the first did, so the
 * customer is charged once. Then the row is written through the one sync, as a webhook would.
 */
export async function changePlan(
  deps: PlanChangeDeps,
  row: SubscriptionRow | undefined,
  interval: BillingInterval,
  prorationDate: number,
): Promise<PlanChanged> {
  if (!row) throw notAllowed('You have no subscription to change. Choose a plan first.');
  const made = await deps.lock(row.stripeCustomerId, async () => {
    const change = await prepare(deps, row, interval);
    const key = `tierbase-plan-change-${change.subscription.id}-${change.targetPriceId}-${prorationDate}`;
    if (onTarget(change)) {
      if (change.subscription.metadata[PLAN_CHANGE_METADATA_KEY] === key) {
        // Made by this same request before (a retry, or its concurrent twin): answer as it did.
        return { invoiceId: idOf(change.subscription.latest_invoice), replayed: true };
      }
      throw notAllowed(`You are already on the ${label(interval)} plan.`);
    }
    const period = change.item;
    if (
      prorationDate > change.now + CLOCK_SKEW_SECONDS ||
      prorationDate < change.now - PREVIEW_TTL_SECONDS ||
      prorationDate < period.current_period_start ||
      prorationDate > period.current_period_end
    ) {
      throw new AppError({
        status: 409,
        code: ErrorCode.PREVIEW_EXPIRED,
        message: 'This price preview has expired. Review the new amount and confirm again.',
      });
    }
    const before = idOf(change.subscription.latest_invoice);
    const updated = await callStripe(
      'subscriptions.update',
      () =>
        deps.stripe.subscriptions
          .update(
            change.subscription.id,
            {
              ...changeParams(change, prorationDate),
              payment_behavior: 'error_if_incomplete',
              metadata: { [PLAN_CHANGE_METADATA_KEY]: key },
            },
            { idempotencyKey: key },
          )
          .catch((error: unknown) => {
            if (error instanceof StripeSdk.errors.StripeCardError) throw declined(error);
            throw error;
          }),
      deps.log,
    );
    const after = idOf(updated.latest_invoice);
    return { invoiceId: after !== before ? after : null, replayed: false };
  });
  const synced = await syncCustomer(deps, row.stripeCustomerId);
  const { invoiceId } = made;
  let invoice = invoiceId
    ? await callStripe('invoices.retrieve', () => deps.stripe.invoices.retrieve(invoiceId), deps.log)
    : null;
  // On a replay the latest invoice is the change's only if the change made one (a trial's did not).
  if (
    made.replayed &&
    invoice &&
    !(invoice.billing_reason === 'subscription_update' && invoice.created >= prorationDate)
  ) {
    invoice = null;
  }
  return { synced, invoice };
}

function declined(error: Stripe.errors.StripeCardError): AppError {
  const authentication = error.code === 'authentication_required';
  return new AppError({
    status: 402,
    code: ErrorCode.PAYMENT_DECLINED,
    message: authentication
      ? 'Your bank asks to confirm this payment, which cannot be done here. Nothing was changed; use the billing portal to change plan.'
      : 'Your card was declined, so nothing was changed. Update your payment method in the billing portal and try again.',
    links: PORTAL,
  });
}

const idOf = (value: string | { id?: string } | null | undefined): string | null =>
  typeof value === 'string' ? value : (value?.id ?? null);
