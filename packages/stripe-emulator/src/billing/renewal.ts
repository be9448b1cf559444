/**
 * The subscription state machine over time: the end of a period (cancel, trial end, pause, or the
 * next period's draft invoice), trial_will_end, and the expiry of an incomplete subscription.
 * Failed payments move it through dunning.ts.
 */
import type Stripe from 'stripe';
import { SECONDS } from '../clock.ts';
import type { Core } from '../core.ts';
import { cancelSubscription } from './cancellation.ts';
import { itemLines, pendingToLines } from './invoice-lines.ts';
import { createInvoice, DRAFT_PERIOD, voidInvoice } from './invoicing.ts';
import { internalOf, periodEndFrom, updateSubscription } from './shared.ts';

/** An incomplete subscription whose first invoice is unpaid expires after this long. */
export const INCOMPLETE_EXPIRY = 23 * SECONDS.hour;
export const TRIAL_WILL_END_LEAD = 3 * SECONDS.day;

/** At the end of a period: cancel (if asked), end a trial, or start the next period with a draft invoice. */
export function renew(core: Core, sub: Stripe.Subscription, at: number): void {
  if (sub.cancel_at !== null && sub.cancel_at <= at) {
    cancelSubscription(core, sub, at, 'cancellation_requested');
    return;
  }
  const endingTrial = sub.status === 'trialing';
  if (endingTrial) {
    const customer = core.state.customers[sub.customer as string];
    const hasPm = Boolean(sub.default_payment_method || customer?.invoice_settings.default_payment_method);
    const behaviour = sub.trial_settings?.end_behavior.missing_payment_method;
    if (!hasPm && behaviour === 'pause') {
      updateSubscription(
        core,
        sub,
        at,
        (s) => {
          s.status = 'paused';
        },
        'customer.subscription.paused',
      );
      return;
    }
    if (!hasPm && behaviour === 'cancel') {
      cancelSubscription(core, sub, at, 'cancellation_requested');
      return;
    }
  }
  const periodEnd = periodEndFrom(sub, at);
  const pending = internalOf(core, sub.id).pendingLines.splice(0);
  const lines = [
    ...pendingToLines(core, pending, sub),
    ...itemLines(core, sub.items.data, at, periodEnd, false),
  ];
  const inv = createInvoice(core, sub, lines, 'subscription_cycle', at, at, periodEnd);
  inv.automatically_finalizes_at = at + DRAFT_PERIOD;
  // Stripe leaves an unpaid subscription's new invoices as drafts and never attempts them.
  if (sub.status === 'unpaid' || sub.pause_collection?.behavior === 'keep_as_draft') {
    inv.auto_advance = false;
    inv.automatically_finalizes_at = null;
  }
  const latest = inv.id;
  updateSubscription(core, sub, at, (s) => {
    if (endingTrial) {
      s.status = 'active';
      s.billing_cycle_anchor = at;
    }
    s.latest_invoice = latest;
    for (const item of s.items.data) {
      item.current_period_start = at;
      item.current_period_end = periodEnd;
    }
  });
  core.emit('invoice.created', inv, at);
}

export function expireIncomplete(core: Core, sub: Stripe.Subscription, at: number): void {
  const inv = typeof sub.latest_invoice === 'string' ? core.state.invoices[sub.latest_invoice] : undefined;
  updateSubscription(
    core,
    sub,
    at,
    (s) => {
      s.status = 'incomplete_expired';
      s.ended_at = at;
    },
    'customer.subscription.deleted',
  );
  if (inv && inv.status === 'open') voidInvoice(core, inv, at);
}

/** customer.subscription.trial_will_end, 3 days before the trial ends (at once for shorter trials). */
export function maybeTrialWillEnd(core: Core, sub: Stripe.Subscription, at: number): void {
  const internal = internalOf(core, sub.id);
  if (sub.status !== 'trialing' || internal.trialWillEndSent || sub.trial_end === null) return;
  if (at < sub.trial_end - TRIAL_WILL_END_LEAD) return;
  internal.trialWillEndSent = true;
  core.emit('customer.subscription.trial_will_end', sub, at);
}
