import { ErrorCode, type SubscriptionStatus } from '@tierbase/contracts';
import type Stripe from 'stripe';
import type { Database } from '../db/client.ts';
import { AppError } from '../errors.ts';
import { organizationExists, ownerOf } from '../organizations/members.ts';
import { personalWorkspaceId } from '../organizations/workspaces.ts';
import { rememberTrial } from '../users/profile.ts';
import { expireOpenCheckouts } from './checkout-sessions.ts';
import type { CustomerLock } from './customer-lock.ts';
import { planForLookupKey } from './plans.ts';
import { callStripe, type StripeLog } from './stripe-client.ts';
import {
  recordCustomer,
  type SubscriptionRow,
  subscriptionForCustomer,
  writeSubscription,
} from './subscriptions.ts';

export interface SyncDeps {
  stripe: Stripe;
  lock: CustomerLock;
  log?: StripeLog;
  /**
   * Called once an organization's subscription row has been written: the app drops the cached
   * sessions of its members everywhere (their auth context carries the active workspace's
   * subscription; docs/decisions/0027).
   */
  onSubscriptionChanged?: (organizationId: string) => Promise<void>;
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

/** Statuses in which a subscription bills (or will again): a customer should have one at most. */
const BILLING: ReadonlySet<SubscriptionStatus> = new Set([
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'paused',
]);

/**
 * When the subscription's payment started failing, in Stripe's time (a test clock's, under one):
 * the failing invoice's finalization (its first payment attempt), else the current period's start.
 * The server's clock would put the grace deadline before the invoice under a test clock.
 */
function pastDueStart(subscription: Stripe.Subscription, now: Date): Date {
  const invoice = typeof subscription.latest_invoice === 'object' ? subscription.latest_invoice : null;
  const seconds =
    invoice?.status_transitions?.finalized_at ??
    invoice?.created ??
    subscription.items.data[0]?.current_period_start;
  return toDate(seconds) ?? now;
}

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
    quantity: item?.quantity ?? null,
    // Since API version 2025-03-31 the billing period lives on the subscription item.
    currentPeriodEnd: toDate(item?.current_period_end),
    cancelAtPeriodEnd: subscription.cancel_at_period_end || subscription.cancel_at !== null,
    trialEnd: toDate(subscription.trial_end),
    pastDueSince:
      status === 'past_due'
        ? previous?.status === 'past_due' && previous.pastDueSince
          ? previous.pastDueSince
          : pastDueStart(subscription, now)
        : null,
    canceledAt: toDate(subscription.canceled_at),
    updatedAt: now,
  };
}

const NO_SUBSCRIPTION = {
  stripeSubscriptionId: null,
  status: null,
  plan: null,
  priceId: null,
  interval: null,
  quantity: null,
  currentPeriodEnd: null,
  cancelAtPeriodEnd: false,
  trialEnd: null,
  pastDueSince: null,
  canceledAt: null,
};

export interface Synced {
  /** The organization's row as written. */
  row: SubscriptionRow;
  /** The row as it was before, read under the same lock (null: none had been recorded). */
  previous: SubscriptionRow | null;
  /** The subscription that decides access, as Stripe has it now (undefined: none ever). */
  governing: Stripe.Subscription | undefined;
  /** All the customer's subscriptions read (duplicates as canceled by this sync). */
  subscriptions: Stripe.Subscription[];
}

/**
 * Reads the customer's subscriptions from Stripe and writes the governing one: the only function
 * that writes subscription state. Webhooks and `/api/billing/sync/` both call it, so they cannot
 * disagree; and because it always reads the current truth under the customer's lock, events that
 * arrive late, twice or out of order cannot roll the state back. A second billing subscription is
 * canceled (and refunded) here, whichever way it was made (decision 7). The subscription and
 * profile writes commit together.
 *
 * Returns what was written and read, or null when the customer is not one of ours.
 */
export async function syncCustomer(deps: SyncDeps, customerId: string): Promise<Synced | null> {
  return deps.lock(customerId, async (db) => {
    const previous = (await subscriptionForCustomer(db, customerId)) ?? null;
    const row = previous ?? (await linkCustomerByMetadata(deps, db, customerId));
    if (!row) return null;
    const list = await callStripe(
      'subscriptions.list',
      () =>
        deps.stripe.subscriptions.list({
          customer: customerId,
          status: 'all',
          limit: 20,
          // The failing invoice dates the start of a past_due period (pastDueStart).
          expand: ['data.latest_invoice'],
        }),
      deps.log,
      { object: customerId },
    );
    const all = await cancelDuplicates(deps, list.data, row.stripeSubscriptionId);
    const governing = governingSubscription(all);
    const now = new Date();
    const columns = governing
      ? subscriptionColumns(governing, row, now)
      : { ...NO_SUBSCRIPTION, updatedAt: now };
    const organizationId = row.organizationId;
    const written = await db.transaction(async (tx) => {
      const updated = await writeSubscription(tx, organizationId, columns);
      if (columns.trialEnd) {
        // The owner's profile remembers the trial for good: one trial per person, ever, whichever
        // of their workspaces had it (checkout.ts#hadTrial).
        const ownerId = await ownerOf(tx, organizationId);
        if (ownerId) await rememberTrial(tx, ownerId, columns.trialEnd);
      }
      return updated;
    });
    if (!written) throw new Error('subscription row vanished during sync');
    await deps.onSubscriptionChanged?.(organizationId);
    return { row: written, previous, governing, subscriptions: all };
  });
}

/**
 * A customer has one billing subscription. Any other (two Checkout tabs paid, one made in the
 * dashboard or through the API) is canceled at once, keeping the oldest; whatever it charged is
 * refunded in full, and a trialing one charged nothing (decision 7). The refund goes first, so an
 * interruption leaves a subscription that is still live and is handled again by the next sync.
 */
async function cancelDuplicates(
  deps: SyncDeps,
  list: Stripe.Subscription[],
  tracked: string | null,
): Promise<Stripe.Subscription[]> {
  // Oldest first. Under a test clock several share one `created`: then the one the app already
  // shows, then Stripe's own order (its lists are newest first, so reversed they are oldest first).
  const billing = [...list]
    .reverse()
    .filter((subscription) => BILLING.has(subscription.status as SubscriptionStatus))
    .sort((a, b) => a.created - b.created || Number(b.id === tracked) - Number(a.id === tracked));
  const [kept, ...duplicates] = billing;
  if (!kept || duplicates.length === 0) return list;
  const canceled = new Map<string, Stripe.Subscription>();
  for (const duplicate of duplicates) {
    await refundSubscription(deps, duplicate.id);
    const result = await callStripe(
      'subscriptions.cancel',
      () =>
        deps.stripe.subscriptions.cancel(
          duplicate.id,
          {},
          { idempotencyKey: `tierbase-cancel-duplicate-${duplicate.id}` },
        ),
      deps.log,
    );
    deps.log?.(
      { subscription: duplicate.id, kept: kept.id, customer: idOf(duplicate.customer) },
      'canceled a duplicate subscription',
    );
    canceled.set(duplicate.id, result);
  }
  return list.map((subscription) => canceled.get(subscription.id) ?? subscription);
}

/** Refunds every payment the subscription's invoices took, in full. */
async function refundSubscription(deps: SyncDeps, subscriptionId: string): Promise<void> {
  const invoices = await callStripe(
    'invoices.list',
    () => deps.stripe.invoices.list({ subscription: subscriptionId, status: 'paid', limit: 100 }),
    deps.log,
  );
  for (const invoice of invoices.data) {
    const invoiceId = invoice.id;
    if (!invoiceId || invoice.amount_paid <= 0) continue;
    const payments = await callStripe(
      'invoicePayments.list',
      () => deps.stripe.invoicePayments.list({ invoice: invoiceId, status: 'paid', limit: 100 }),
      deps.log,
    );
    for (const payment of payments.data) {
      const paymentIntent = idOf(payment.payment.payment_intent);
      if (!paymentIntent) continue;
      await callStripe(
        'refunds.create',
        () =>
          deps.stripe.refunds
            .create(
              {
                payment_intent: paymentIntent,
                reason: 'duplicate',
                metadata: { duplicate_subscription: subscriptionId },
              },
              { idempotencyKey: `tierbase-refund-duplicate-${paymentIntent}` },
            )
            .catch((error: { code?: string }) => {
              // Refunded by an earlier sync whose idempotency key has since expired.
              if (error.code === 'charge_already_refunded') return null;
              throw error;
            }),
        deps.log,
      );
    }
  }
}

const idOf = (value: string | { id: string } | null | undefined) =>
  typeof value === 'string' ? value : (value?.id ?? null);

/**
 * Whose Checkout Session may be synced: the active workspace's. A session started before
 * organizations names the user (`client_reference_id` was the user id), which their personal
 * workspace inherited.
 */
export interface CheckoutOwner {
  organizationId: string;
  /** Set for a personal workspace: its user's id. */
  legacyUserId?: string | undefined;
}

/**
 * POST /api/billing/sync/ on return from Checkout: the session must be the workspace's own; then
 * the customer's subscription is read from Stripe as a webhook would, so access is right at once.
 */
export async function syncCheckoutSession(
  deps: SyncDeps,
  owner: CheckoutOwner,
  sessionId: string,
): Promise<Synced | null> {
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
  const reference = session?.client_reference_id;
  const ours = reference === owner.organizationId || (owner.legacyUserId && reference === owner.legacyUserId);
  if (!session || !ours || !customerId) {
    throw new AppError({ status: 404, code: ErrorCode.NOT_FOUND, message: 'No such checkout session.' });
  }
  if (session.status === 'complete') await expireOpenCheckouts(deps, customerId);
  return syncCustomer(deps, customerId);
}

/**
 * The organization a Stripe customer's metadata names: `organization_id`, or for a customer made
 * before organizations, `user_id` (whose personal workspace inherited it). Undefined when neither
 * names one that exists.
 */
export async function organizationOfCustomerMetadata(
  db: Database,
  metadata: Record<string, string> | null | undefined,
): Promise<string | undefined> {
  const organizationId = metadata?.organization_id;
  if (organizationId) return (await organizationExists(db, organizationId)) ? organizationId : undefined;
  const userId = metadata?.user_id;
  return userId ? personalWorkspaceId(db, userId) : undefined;
}

/**
 * A customer we have no row for, but whose metadata names one of our organizations that has no
 * customer yet (the row was lost between creating the customer and recording it): adopt it.
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
    { object: customerId },
  );
  if (customer.deleted) return undefined;
  const organizationId = await organizationOfCustomerMetadata(db, customer.metadata);
  if (!organizationId) return undefined;
  return recordCustomer(db, organizationId, customerId);
}
