/** Dunning: when a failed renewal payment is retried, and what happens once the retries run out. */
import type Stripe from 'stripe';
import { SECONDS } from '../clock.ts';
import type { Core } from '../core.ts';
import { cancelSubscription } from './cancellation.ts';
import { updateSubscription } from './shared.ts';

/** Stripe's default smart-retry policy: 8 tries within 2 weeks (the first attempt plus 7 retries). */
export const DEFAULT_RETRY_SCHEDULE = [1, 3, 5, 7, 9, 11, 14].map((days) => days * SECONDS.day);

/** Retry times are offsets from the invoice's finalization; none left means exhausted. */
export function nextRetryAt(core: Core, inv: Stripe.Invoice): number | null {
  const base = inv.status_transitions.finalized_at ?? inv.created;
  const offset = core.options.retrySchedule[inv.attempt_count - 1];
  return offset === undefined ? null : base + offset;
}

export function retriesExhausted(
  core: Core,
  sub: Stripe.Subscription,
  _inv: Stripe.Invoice,
  at: number,
): void {
  const action = core.options.finalAction;
  if (action === 'cancel') {
    cancelSubscription(core, sub, at, 'payment_failed');
  } else if (action === 'unpaid' && sub.status !== 'unpaid') {
    updateSubscription(core, sub, at, (s) => {
      s.status = 'unpaid';
    });
  }
}
