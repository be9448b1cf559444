/** Ending a subscription, asked for or after failed payments: its status, and nothing more collected. */
import type Stripe from 'stripe';
import type { Core } from '../core.ts';
import { updateSubscription } from './shared.ts';

export function cancelSubscription(
  core: Core,
  sub: Stripe.Subscription,
  at: number,
  reason: 'cancellation_requested' | 'payment_failed',
): void {
  if (sub.status === 'canceled' || sub.status === 'incomplete_expired') return;
  updateSubscription(
    core,
    sub,
    at,
    (s) => {
      s.status = 'canceled';
      s.canceled_at = s.canceled_at ?? at;
      s.ended_at = at;
      s.cancel_at = s.cancel_at ?? null;
      s.cancellation_details = { comment: null, feedback: null, feedback_option: null, reason };
    },
    'customer.subscription.deleted',
  );
  // Nothing more is collected for an ended subscription: stop retries and drop its drafts' auto-advance.
  for (const inv of Object.values(core.state.invoices)) {
    if (inv.parent?.subscription_details?.subscription !== sub.id) continue;
    if (inv.status === 'open') inv.next_payment_attempt = null;
    if (inv.status === 'draft') inv.auto_advance = false;
  }
}
