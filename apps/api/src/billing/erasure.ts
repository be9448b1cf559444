import { and, asc, gte, sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Database } from '../db/client.ts';
import { subscriptions, webhookEvents } from '../db/schema/billing.ts';
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

/**
 * The recorded events that concern a customer: the customer itself, or an object (subscription,
 * invoice, checkout session…) whose `customer` is it.
 */
const concernsCustomer = (customerId: unknown) => sql`(
  payload->'data'->'object'->>'customer' = ${customerId}
  or (payload->'data'->'object'->>'object' = 'customer' and payload->'data'->'object'->>'id' = ${customerId})
)`;

/**
 * A recorded event reduced to what identifies it and what processing it needs (every handler reads
 * the current state from Stripe by these ids), so a redacted event still deduplicates and replays.
 * Everything personal in the object (email, name, address, card details) goes.
 */
const REDACTED_PAYLOAD = sql<Record<string, unknown>>`jsonb_build_object(
  'id', payload->'id',
  'object', payload->'object',
  'type', payload->'type',
  'created', payload->'created',
  'api_version', payload->'api_version',
  'livemode', payload->'livemode',
  'redacted', true,
  'data', jsonb_build_object('object', jsonb_strip_nulls(jsonb_build_object(
    'id', payload->'data'->'object'->'id',
    'object', payload->'data'->'object'->'object',
    'customer', payload->'data'->'object'->'customer'
  )))
)`;

const notRedacted = sql`not (payload ? 'redacted')`;

export interface CustomerEvent {
  eventId: string;
  eventType: string;
  processed: boolean;
  receivedAt: Date;
}

/** The recorded webhook events about a customer (ids, types and dates; no payloads). */
export async function customerEvents(db: Database, customerId: string): Promise<CustomerEvent[]> {
  return db
    .select({
      eventId: webhookEvents.eventId,
      eventType: webhookEvents.eventType,
      processed: webhookEvents.processed,
      receivedAt: webhookEvents.createdAt,
    })
    .from(webhookEvents)
    .where(concernsCustomer(customerId))
    .orderBy(asc(webhookEvents.createdAt), asc(webhookEvents.eventId));
}

/** Redacts the payloads of the recorded events about a customer (see REDACTED_PAYLOAD). */
export async function redactCustomerEvents(db: Database, customerId: string): Promise<void> {
  await db
    .update(webhookEvents)
    .set({ payload: REDACTED_PAYLOAD, updatedAt: new Date() })
    .where(and(concernsCustomer(customerId), notRedacted));
}

/**
 * Redacts the payloads of recent events about customers that are no one's here: those of deleted
 * accounts that Stripe sent after the deletion (the cancellation and `customer.deleted` events
 * themselves carry the email), and those of customers that were never ours. Nothing processing
 * needs is lost (see REDACTED_PAYLOAD). Returns how many events were redacted.
 */
export async function redactUnlinkedCustomerEvents(db: Database): Promise<number> {
  // Late events arrive within Stripe's retry window (3 days); a week's margin keeps the hourly scan
  // on the created_at index however large the table grows.
  const since = new Date(Date.now() - 7 * 24 * 3600 * 1000);
  const customerOf = sql`coalesce(
    payload->'data'->'object'->>'customer',
    case when payload->'data'->'object'->>'object' = 'customer' then payload->'data'->'object'->>'id' end
  )`;
  const redacted = await db
    .update(webhookEvents)
    .set({ payload: REDACTED_PAYLOAD, updatedAt: new Date() })
    .where(
      and(
        gte(webhookEvents.createdAt, since),
        notRedacted,
        sql`${customerOf} is not null`,
        sql`not exists (select 1 from ${subscriptions} where ${subscriptions.stripeCustomerId} = ${customerOf})`,
      ),
    )
    .returning({ eventId: webhookEvents.eventId });
  return redacted.length;
}
