import { asc, eq, gt, inArray, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { subscriptions } from '../db/schema/billing.ts';
import { personalWorkspaceId } from '../organizations/workspaces.ts';

/**
 * The `subscriptions` table's one owner (issue 13): every statement on it is here, and every other
 * module reads and writes an organization's Stripe customer and subscription through these
 * functions. Each takes the handle it is given (`db` or a transaction), so callers keep their
 * transactions. The session read on every request joins the row read-only (users/sessions.ts).
 */

export type SubscriptionRow = typeof subscriptions.$inferSelect;

/** What a sync writes: the columns Stripe decides (subscription-sync.ts). */
export type SubscriptionColumns = Omit<
  Partial<typeof subscriptions.$inferInsert>,
  'organizationId' | 'stripeCustomerId' | 'createdAt'
>;

export async function subscriptionForOrganization(
  db: Database,
  organizationId: string,
): Promise<SubscriptionRow | undefined> {
  const [row] = await db.select().from(subscriptions).where(eq(subscriptions.organizationId, organizationId));
  return row;
}

export async function subscriptionForCustomer(
  db: Database,
  customerId: string,
): Promise<SubscriptionRow | undefined> {
  const [row] = await db.select().from(subscriptions).where(eq(subscriptions.stripeCustomerId, customerId));
  return row;
}

/** The rows of these organizations (those that have one), by organization id. */
export async function subscriptionsForOrganizations(
  db: Database,
  organizationIds: string[],
): Promise<Map<string, SubscriptionRow>> {
  if (organizationIds.length === 0) return new Map();
  const rows = await db
    .select()
    .from(subscriptions)
    .where(inArray(subscriptions.organizationId, [...new Set(organizationIds)]));
  return new Map(rows.map((row) => [row.organizationId, row]));
}

/** The subscription row of the user's personal workspace (what a user had before organizations). */
export async function personalSubscriptionOf(
  db: Database,
  userId: string,
): Promise<SubscriptionRow | undefined> {
  const organizationId = await personalWorkspaceId(db, userId);
  return organizationId ? subscriptionForOrganization(db, organizationId) : undefined;
}

/** A page of the recorded customers' ids, in order, after `after` (reconciliation walks them all). */
export async function customerIdsAfter(db: Database, after: string, limit: number): Promise<string[]> {
  const rows = await db
    .select({ customerId: subscriptions.stripeCustomerId })
    .from(subscriptions)
    .where(gt(subscriptions.stripeCustomerId, after))
    .orderBy(asc(subscriptions.stripeCustomerId))
    .limit(limit);
  return rows.map((row) => row.customerId);
}

/**
 * Records the organization's Stripe customer. Returns the new row, or undefined when the
 * organization already has one (or the customer is another's): the insert is idempotent, so any
 * number of concurrent first checkouts record one customer.
 */
export async function recordCustomer(
  db: Database,
  organizationId: string,
  customerId: string,
): Promise<SubscriptionRow | undefined> {
  const [row] = await db
    .insert(subscriptions)
    .values({ organizationId, stripeCustomerId: customerId })
    .onConflictDoNothing()
    .returning();
  return row;
}

/** Writes what Stripe says of the organization's subscription (only subscription-sync.ts calls it). */
export async function writeSubscription(
  db: Database,
  organizationId: string,
  columns: SubscriptionColumns,
): Promise<SubscriptionRow | undefined> {
  const [row] = await db
    .update(subscriptions)
    .set(columns)
    .where(eq(subscriptions.organizationId, organizationId))
    .returning();
  return row;
}

/** Deletes the rows of these organizations (account erasure, before the organizations go). */
export async function deleteSubscriptionsOf(db: Database, organizationIds: string[]): Promise<void> {
  if (organizationIds.length === 0) return;
  await db.delete(subscriptions).where(inArray(subscriptions.organizationId, organizationIds));
}

/**
 * A condition true when a customer id (an SQL expression of the caller's statement) is recorded
 * here. For the statements that must filter on it in the database rather than in memory: the
 * hourly redaction of events about customers that are no one's (webhook-events.ts) scans a week of
 * events, too many to check a page at a time.
 */
export function isRecordedCustomer(customerId: SQL): SQL {
  return sql`exists (select 1 from ${subscriptions} where ${subscriptions.stripeCustomerId} = ${customerId})`;
}
