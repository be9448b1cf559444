/**
 * What the billing modules share: a subscription's internal record, lookups, the period arithmetic,
 * and the mutate-then-emit helpers that keep `previous_attributes` and persistence in one place.
 */
import type Stripe from 'stripe';
import { addInterval } from '../clock.ts';
import { type Core, previousAttributes } from '../core.ts';
import type { SubscriptionInternal } from '../store.ts';

export function internalOf(core: Core, subscriptionId: string): SubscriptionInternal {
  const internal = core.state.internal.subscriptions;
  internal[subscriptionId] ??= { trialWillEndSent: false, pendingLines: [] };
  return internal[subscriptionId];
}

export function productName(core: Core, price: Stripe.Price): string {
  const productId = typeof price.product === 'string' ? price.product : price.product.id;
  return core.state.products[productId]?.name ?? productId;
}

/** Applies `mutate` to a subscription and emits `customer.subscription.updated` if anything changed. */
export function updateSubscription(
  core: Core,
  sub: Stripe.Subscription,
  at: number,
  mutate: (sub: Stripe.Subscription) => void,
  eventType: Stripe.Event.Type = 'customer.subscription.updated',
): void {
  const before = structuredClone(sub);
  mutate(sub);
  const previous = previousAttributes(before, sub);
  // Only `.updated` events carry previous_attributes; deleted/paused/resumed carry the object alone.
  if (eventType !== 'customer.subscription.updated') core.emit(eventType, sub, at);
  else if (Object.keys(previous).length > 0) core.emit(eventType, sub, at, previous);
  core.store.changed();
}

export function updateInvoice(core: Core, inv: Stripe.Invoice, mutate: (inv: Stripe.Invoice) => void): void {
  mutate(inv);
  core.store.changed();
}

export function subscriptionOf(core: Core, inv: Stripe.Invoice): Stripe.Subscription | undefined {
  const subId = inv.parent?.subscription_details?.subscription;
  return typeof subId === 'string' ? core.state.subscriptions[subId] : undefined;
}

export function periodEndFrom(sub: Stripe.Subscription, start: number): number {
  const recurring = sub.items.data[0]?.price.recurring;
  return addInterval(start, recurring?.interval ?? 'month', recurring?.interval_count ?? 1);
}
