import { ErrorCode, type SubscriptionStatus } from '@tierbase/contracts';
import { and, eq, isNull } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Database } from '../db/client.ts';
import { profiles, users } from '../db/schema/auth.ts';
import { subscriptions } from '../db/schema/billing.ts';
import { AppError } from '../errors.ts';
import type { CustomerLock } from './customer-lock.ts';
import { planForLookupKey } from './plans.ts';
import { callStripe } from './stripe-client.ts';

export type SubscriptionRow = typeof subscriptions.$inferSelect;

export interface SyncDeps {
  stripe: Stripe;
  lock: CustomerLock;
  log?: (details: Record<string, unknown>, message: string) => void;
}

/** Statuses in which a subscription still governs the customer's access (or may again). */
const LIVE: ReadonlySet<SubscriptionStatus> = new Set([
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'paused',
  'incomplete',
]);

/**
 * Of all a customer's subscriptions, the one that decides access: a live one before an ended one,
 * and the newest among equals. A customer who canceled and subscribed again is governed by the new
 * subscription whatever order the events arrive in.
 */
export function governingSubscription(list: Stripe.Subscription[]): Stripe.Subscription | undefined {
  return [...list].sort((a, b) => {
    const live = Number(isLive(b)) - Number(isLive(a));
    return live !== 0 ? live : b.created - a.created;
  })[0];
}

const isLive = (subscription: Stripe.Subscription) => LIVE.has(subscription.status as SubscriptionStatus);

const toDate = (seconds: number | null | undefined) => (seconds ? new Date(seconds * 1000) : null);

/** The columns a Stripe subscription sets; `previous` carries what Stripe cannot tell us. */
export function subscriptionColumns(
  subscription: Stripe.Subscription,
  previous: Pick<SubscriptionRow, 'status' | 'pastDueSince'> | undefined,
  now: Date,
) {
  const item = subscription.items.data[0];
  const price = item?.price;
  const catalog = planForLookupKey(price?.lookup_key);
  const status = subscription.status as SubscriptionStatus;
  return {
    stripeSubscriptionId: subscription.id,
    status,
    plan: catalog?.plan.id ?? (price ? 'unknown' : null),
    priceId: price?.id ?? null,
    interval: (price?.recurring?.interval === 'year' ? 'year' : price?.recurring ? 'month' : null) as
      | 'month'
      | 'year'
      | null,
    // Since API version 2025-03-31 the billing period lives on the subscription item.
    currentPeriodEnd: toDate(item?.current_period_end),
    cancelAtPeriodEnd: subscription.cancel_at_period_end || subscription.cancel_at !== null,
    trialEnd: toDate(subscription.trial_end),
    pastDueSince:
      status === 'past_due' ? (previous?.status === 'past_due' ? (previous.pastDueSince ?? now) : now) : null,
    canceledAt: toDate(subscription.canceled_at),
    updatedAt: now,
  };
}

/**
 * Reads the customer's subscriptions from Stripe and writes the governing one: the only function
 * that writes subscription state. Webhooks and `/api/billing/sync/` both call it, so they cannot
 * disagree; and because it always reads the current truth under the customer's lock, events that
 * arrive late, twice or out of order cannot roll the state back.
 *
 * Returns the written row, or null when the customer is not one of ours.
 */
export async function syncCustomer(deps: SyncDeps, customerId: string): Promise<SubscriptionRow | null> {
  return deps.lock(customerId, async (db) => {
    let row = await findByCustomer(db, customerId);
    if (!row) row = await linkCustomerByMetadata(deps, db, customerId);
    if (!row) return null;
    const list = await callStripe(
      'subscriptions.list',
      () => deps.stripe.subscriptions.list({ customer: customerId, status: 'all', limit: 20 }),
      deps.log,
    );
    const governing = governingSubscription(list.data);
    const now = new Date();
    const columns = governing
      ? subscriptionColumns(governing, row, now)
      : {
          stripeSubscriptionId: null,
          status: null,
          plan: null,
          priceId: null,
          interval: null,
          currentPeriodEnd: null,
          cancelAtPeriodEnd: false,
          trialEnd: null,
          pastDueSince: null,
          canceledAt: null,
          updatedAt: now,
        };
    const [written] = await db
      .update(subscriptions)
      .set(columns)
      .where(eq(subscriptions.userId, row.userId))
      .returning();
    if (columns.trialEnd) {
      // The profile remembers the user's trial for good: one trial per user, ever.
      await db
        .update(profiles)
        .set({ trialEnd: columns.trialEnd })
        .where(and(eq(profiles.userId, row.userId), isNull(profiles.trialEnd)));
    }
    return written ?? null;
  });
}

/**
 * POST /api/billing/sync/ on return from Checkout: the session must be the caller's own; then the
 * customer's subscription is read from Stripe as a webhook would, so access is right at once.
 */
export async function syncCheckoutSession(
  deps: SyncDeps,
  userId: string,
  sessionId: string,
): Promise<SubscriptionRow | null> {
  const session = await callStripe(
    'checkout.sessions.retrieve',
    () =>
      deps.stripe.checkout.sessions.retrieve(sessionId).catch((error: { statusCode?: number }) => {
        if (error.statusCode === 404) return null;
        throw error;
      }),
    deps.log,
  );
  const customerId = typeof session?.customer === 'string' ? session.customer : session?.customer?.id;
  if (!session || session.client_reference_id !== userId || !customerId) {
    throw new AppError(404, ErrorCode.NOT_FOUND, 'No such checkout session.');
  }
  return syncCustomer(deps, customerId);
}

export async function findByCustomer(db: Database, customerId: string): Promise<SubscriptionRow | undefined> {
  const [row] = await db.select().from(subscriptions).where(eq(subscriptions.stripeCustomerId, customerId));
  return row;
}

export async function findByUser(db: Database, userId: string): Promise<SubscriptionRow | undefined> {
  const [row] = await db.select().from(subscriptions).where(eq(subscriptions.userId, userId));
  return row;
}

/**
 * A customer we have no row for, but whose metadata names one of our users who has no customer
 * yet (the row was lost between creating the customer and recording it): adopt it.
 */
async function linkCustomerByMetadata(
  deps: SyncDeps,
  db: Database,
  customerId: string,
): Promise<SubscriptionRow | undefined> {
  const customer = await callStripe(
    'customers.retrieve',
    () => deps.stripe.customers.retrieve(customerId),
    deps.log,
  );
  if (customer.deleted) return undefined;
  const userId = customer.metadata?.user_id;
  if (!userId) return undefined;
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.id, userId));
  if (!user) return undefined;
  const [row] = await db
    .insert(subscriptions)
    .values({ userId, stripeCustomerId: customerId })
    .onConflictDoNothing()
    .returning();
  return row;
}
