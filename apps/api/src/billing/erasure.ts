import type Stripe from 'stripe';
import { callStripe } from './stripe-client.ts';

type Log = (details: Record<string, unknown>, message: string) => void;

/** Statuses after which Stripe will never charge a subscription again. */
const ENDED = new Set<Stripe.Subscription.Status>(['canceled', 'incomplete_expired']);

export interface CustomerErasure {
  /** Subscriptions this call canceled (none when a previous attempt already did). */
  canceledSubscriptions: string[];
}

/**
 * Ends a customer's relationship with Stripe for an account deletion: every subscription that could
 * still charge is canceled at once (no proration, no final invoice), then the customer is deleted.
 * Stripe keeps the customer's invoices (with the name and address printed on them, as tax law
 * requires) and drops the customer object and its payment methods.
 *
 * Safe to run again after any failure: a canceled subscription is skipped, a deleted (or unknown)
 * customer means the work is done.
 */
export async function eraseStripeCustomer(
  deps: { stripe: Stripe; log?: Log },
  customerId: string,
): Promise<CustomerErasure> {
  const { stripe, log } = deps;
  const customer = await callStripe(
    'customers.retrieve',
    () => stripe.customers.retrieve(customerId).catch(nullWhenMissing),
    log,
  );
  if (!customer || customer.deleted) return { canceledSubscriptions: [] };

  const subscriptions = await callStripe(
    'subscriptions.list',
    () =>
      stripe.subscriptions
        .list({ customer: customerId, status: 'all', limit: 100 })
        .autoPagingToArray({ limit: 1000 }),
    log,
  );
  const canceledSubscriptions: string[] = [];
  for (const subscription of subscriptions) {
    if (ENDED.has(subscription.status)) continue;
    await callStripe(
      'subscriptions.cancel',
      () =>
        stripe.subscriptions.cancel(subscription.id, {
          cancellation_details: { comment: 'account deleted' },
        }),
      log,
    );
    canceledSubscriptions.push(subscription.id);
  }

  // Deleting the customer would cancel them too; canceling first means that if the deletion
  // fails, nothing can be charged while the retry waits.
  await callStripe('customers.del', () => stripe.customers.del(customerId).catch(nullWhenMissing), log);
  return { canceledSubscriptions };
}

function nullWhenMissing(error: { statusCode?: number; code?: string }): null {
  if (error.statusCode === 404) return null;
  throw error;
}
