import type Stripe from 'stripe';
import { callStripe, type StripeLog } from './stripe-client.ts';

/**
 * Expires the customer's Checkout Sessions that are still open, so that of two tabs (monthly in
 * one, yearly in the other) only one can ever be paid: called before a new session is created,
 * and once a session has been completed. syncCustomer's duplicate check is the net behind it (a
 * session paid in the moment between the list and the expiry). Decision 7.
 */
export async function expireOpenCheckouts(
  deps: { stripe: Stripe; log?: StripeLog | undefined },
  customerId: string,
): Promise<void> {
  const open = await callStripe(
    'checkout.sessions.list',
    () => deps.stripe.checkout.sessions.list({ customer: customerId, status: 'open', limit: 100 }),
    deps.log,
  );
  for (const session of open.data) {
    await callStripe(
      'checkout.sessions.expire',
      () =>
        deps.stripe.checkout.sessions.expire(session.id).catch((error: { code?: string }) => {
          // Completed or expired since the list: nothing left to expire.
          if (error.code === 'checkout_session_not_open') return null;
          throw error;
        }),
      deps.log,
    );
  }
}
