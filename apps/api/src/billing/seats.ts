import { createHash } from 'node:crypto';
import type Stripe from 'stripe';
import type { Database } from '../db/client.ts';
import { membersSince } from '../organizations/members.ts';
import { callStripe } from './stripe-client.ts';
import { type SyncDeps, syncCustomer } from './subscription-sync.ts';
import { subscriptionForOrganization } from './subscriptions.ts';

/**
 * Seats: a team subscription's quantity follows the organization's member count. The job
 * `billing.sync-seats` (queued in the transaction of every membership change, organizations/seats.ts)
 * runs this. Decision 26.
 *
 * Convergent and exactly once: under the customer's lock (decision 5) it reads the member count
 * as committed now and the subscription as Stripe has it now, and changes Stripe only when they
 * differ. A duplicated, retried or concurrent job therefore finds nothing left to do. The Stripe
 * idempotency key is (subscription, target quantity, membership version), the version being a
 * fingerprint of who the members are and since when: the SDK's retry of a call whose answer was
 * lost is replayed, while going 1 → 2 → 1 → 2 seats changes the version, so the third change is not
 * mistaken for a replay of the first.
 */

export interface SeatDeps extends SyncDeps {
  db: Database;
}

/** Subscriptions whose quantity is billed: the others (ended, incomplete) are left alone. */
const BILLED: ReadonlySet<string> = new Set(['trialing', 'active', 'past_due', 'unpaid']);

export type SeatSyncOutcome =
  | { outcome: 'no-subscription' }
  | { outcome: 'unchanged'; quantity: number }
  | { outcome: 'updated'; from: number; quantity: number };

async function membership(db: Database, organizationId: string) {
  const members = await membersSince(db, organizationId);
  const version = createHash('sha256')
    .update(members.map((m) => `${m.userId}@${m.createdAt.toISOString()}`).join('\n'))
    .digest('hex')
    .slice(0, 24);
  return { count: members.length, version };
}

export async function syncSeats(deps: SeatDeps, organizationId: string): Promise<SeatSyncOutcome> {
  const row = await subscriptionForOrganization(deps.db, organizationId);
  if (!row?.stripeSubscriptionId) return { outcome: 'no-subscription' };
  const customerId = row.stripeCustomerId;
  const result = await deps.lock(customerId, async (db): Promise<SeatSyncOutcome> => {
    // Re-read under the lock: the row may have moved to another subscription since.
    const current = await subscriptionForOrganization(db, organizationId);
    const subscriptionId = current?.stripeSubscriptionId;
    if (!subscriptionId) return { outcome: 'no-subscription' };
    const subscription = await callStripe(
      'subscriptions.retrieve',
      () => deps.stripe.subscriptions.retrieve(subscriptionId),
      deps.log,
    );
    const item = subscription.items.data[0];
    if (!item || !BILLED.has(subscription.status)) return { outcome: 'no-subscription' };
    const { count, version } = await membership(db, organizationId);
    const target = Math.max(1, count);
    const from = item.quantity ?? 1;
    if (from === target) return { outcome: 'unchanged', quantity: target };
    const key = `tierbase-seats-${subscription.id}-${target}-${version}`;
    await callStripe(
      'subscriptions.update',
      () =>
        deps.stripe.subscriptions.update(
          subscription.id,
          {
            items: [{ id: item.id, quantity: target }],
            proration_behavior: 'always_invoice',
          } satisfies Stripe.SubscriptionUpdateParams,
          { idempotencyKey: key },
        ),
      deps.log,
    );
    return { outcome: 'updated', from, quantity: target };
  });
  // The row (its quantity) is written by the one sync, as for any other change.
  if (result.outcome === 'updated') await syncCustomer(deps, customerId);
  return result;
}
