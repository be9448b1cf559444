/**
 * A subscription's own changes outside renewal: creation with its first invoice, cancel at period
 * end, and resuming a paused one. Item changes are in prorations.ts, period ends in renewal.ts.
 */
import type Stripe from 'stripe';
import { addInterval } from '../clock.ts';
import type { Core } from '../core.ts';
import { cardError } from '../errors.ts';
import { buildSubscription, buildSubscriptionItem } from '../objects/subscriptions.ts';
import { itemLines } from './invoice-lines.ts';
import { createInvoice, finalizeInvoice } from './invoicing.ts';
import { outcomeFor, payInvoice } from './payments.ts';
import { maybeTrialWillEnd } from './renewal.ts';
import { internalOf, periodEndFrom, updateSubscription } from './shared.ts';

export type PaymentBehavior = 'allow_incomplete' | 'error_if_incomplete' | 'default_incomplete';

export interface NewSubscription {
  customer: string;
  items: { price: Stripe.Price; quantity: number }[];
  trialEnd: number | null;
  defaultPaymentMethod: string | null;
  metadata: Record<string, string>;
  paymentBehavior: PaymentBehavior;
  cancelAtPeriodEnd: boolean;
  missingPaymentMethod: 'cancel' | 'create_invoice' | 'pause';
  /** Payments made while the customer is present (Checkout, hosted pages) are on-session. */
  onSession: boolean;
}

/**
 * Creates a subscription and its first invoice. Emits customer.subscription.created, then the
 * invoice's created/finalized/paid/payment_succeeded (or payment_failed), then the status update.
 */
export function createSubscription(core: Core, input: NewSubscription): Stripe.Subscription {
  const customer = core.state.customers[input.customer]!;
  const at = core.now(input.customer);
  const first = input.items[0]!.price;
  const recurring = first.recurring ?? { interval: 'month', interval_count: 1 };
  const trialing = input.trialEnd !== null && input.trialEnd > at;
  const periodEnd = trialing
    ? input.trialEnd!
    : addInterval(at, recurring.interval, recurring.interval_count);
  const pmId =
    input.defaultPaymentMethod ?? (customer.invoice_settings.default_payment_method as string | null);
  const total = input.items.reduce((sum, item) => sum + (item.price.unit_amount ?? 0) * item.quantity, 0);
  if (!trialing && total > 0 && input.paymentBehavior === 'error_if_incomplete') {
    // Stripe creates nothing when the first payment fails under error_if_incomplete.
    const outcome = outcomeFor(core, pmId, input.onSession);
    if (outcome.kind === 'failed') throw cardError(outcome.message, outcome.declineCode, outcome.code);
    if (outcome.kind === 'requires_action') {
      throw cardError(
        'This payment requires authentication.',
        'authentication_required',
        'authentication_required',
      );
    }
  }
  const sub = buildSubscription({
    customer: input.customer,
    created: at,
    currency: first.currency,
    status: trialing ? 'trialing' : 'incomplete',
    test_clock: typeof customer.test_clock === 'string' ? customer.test_clock : null,
    default_payment_method: input.defaultPaymentMethod,
    metadata: input.metadata,
    trial_start: trialing ? at : null,
    trial_end: trialing ? input.trialEnd : null,
    cancel_at_period_end: input.cancelAtPeriodEnd,
    cancel_at: input.cancelAtPeriodEnd ? periodEnd : null,
    trial_settings: {
      end_behavior: { billing_cycle_anchor: null, missing_payment_method: input.missingPaymentMethod },
    },
  });
  sub.items.data = input.items.map((item) =>
    buildSubscriptionItem(sub.id, item.price, item.quantity, at, at, periodEnd),
  );
  core.state.subscriptions[sub.id] = sub;
  internalOf(core, sub.id);
  const inv = createInvoice(
    core,
    sub,
    itemLines(core, sub.items.data, at, periodEnd, trialing),
    'subscription_create',
    at,
    at,
    periodEnd,
  );
  core.emit('customer.subscription.created', sub, at);
  core.emit('invoice.created', inv, at);
  finalizeInvoice(core, inv, at);
  if (inv.amount_due === 0) {
    payInvoice(core, inv, at, { onSession: input.onSession });
  } else if (input.paymentBehavior !== 'default_incomplete') {
    payInvoice(core, inv, at, { onSession: input.onSession, paymentMethod: pmId });
  }
  if (trialing) maybeTrialWillEnd(core, sub, at);
  return sub;
}

export function setCancelAtPeriodEnd(core: Core, sub: Stripe.Subscription, at: number, value: boolean): void {
  updateSubscription(core, sub, at, (s) => {
    s.cancel_at_period_end = value;
    s.cancel_at = value ? (s.items.data[0]?.current_period_end ?? null) : null;
    s.canceled_at = value ? at : null;
    s.cancellation_details = {
      comment: null,
      feedback: null,
      feedback_option: null,
      reason: value ? 'cancellation_requested' : null,
    };
  });
}

/** Resumes a paused subscription: a new period starts now and is invoiced at once. */
export function resumeSubscription(
  core: Core,
  sub: Stripe.Subscription,
  at: number,
  onSession: boolean,
): void {
  const periodEnd = periodEndFrom(sub, at);
  updateSubscription(
    core,
    sub,
    at,
    (s) => {
      s.status = 'active';
      s.billing_cycle_anchor = at;
      for (const item of s.items.data) {
        item.current_period_start = at;
        item.current_period_end = periodEnd;
      }
    },
    'customer.subscription.resumed',
  );
  const inv = createInvoice(
    core,
    sub,
    itemLines(core, sub.items.data, at, periodEnd, false),
    'subscription_update',
    at,
    at,
    periodEnd,
  );
  core.emit('invoice.created', inv, at);
  finalizeInvoice(core, inv, at);
  payInvoice(core, inv, at, { onSession });
}
