import { type SubscriptionStatus, subscriptionStatusSchema } from '@tierbase/contracts';
import { boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from './organizations.ts';

// The one list of Stripe's subscription statuses lives in the contracts.
const subscriptionStatuses = subscriptionStatusSchema.options as [
  SubscriptionStatus,
  ...SubscriptionStatus[],
];

/**
 * An organization's Stripe customer and the subscription that decides its access, one row per
 * organization (a personal workspace's is what a user had before organizations, decision 25).
 * Written only by billing/subscription-sync.ts, from what Stripe says; "is Pro" is derived from
 * `status`, never stored.
 */
export const subscriptions = pgTable(
  'subscriptions',
  {
    organizationId: text('organization_id')
      .primaryKey()
      .references(() => organizations.id, { onDelete: 'cascade' }),
    stripeCustomerId: text('stripe_customer_id').notNull().unique(),
    stripeSubscriptionId: text('stripe_subscription_id').unique(),
    status: text('status', { enum: subscriptionStatuses }),
    plan: text('plan'),
    priceId: text('price_id'),
    interval: text('interval', { enum: ['month', 'year'] }),
    /** Seats billed: the subscription item's quantity (a team's member count, once synced). */
    quantity: integer('quantity'),
    currentPeriodEnd: timestamp('current_period_end', { withTimezone: true }),
    cancelAtPeriodEnd: boolean('cancel_at_period_end').notNull().default(false),
    trialEnd: timestamp('trial_end', { withTimezone: true }),
    /** When the subscription entered past_due: the grace period counts from here. */
    pastDueSince: timestamp('past_due_since', { withTimezone: true }),
    canceledAt: timestamp('canceled_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index('subscriptions_status_idx').on(table.status)],
);

/**
 * Every Stripe event received, by Stripe's id: the record that makes a duplicate delivery (even a
 * concurrent one, on another instance) take effect once, and the trail for replaying failures.
 */
export const webhookEvents = pgTable(
  'webhook_events',
  {
    eventId: text('event_id').primaryKey(),
    eventType: text('event_type').notNull(),
    processed: boolean('processed').notNull().default(false),
    processedAt: timestamp('processed_at', { withTimezone: true }),
    errorMessage: text('error_message'),
    /** Why a processed event had no effect (e.g. "ignored: Stripe has no cus_…"), for the admin. */
    note: text('note'),
    /** SHA-256 of the raw body, to notice a redelivery whose content differs. */
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    attempts: integer('attempts').notNull().default(0),
    /** An instance processing the event holds it until then; a crashed holder's lease runs out. */
    lockedUntil: timestamp('locked_until', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    index('webhook_events_type_processed_idx').on(table.eventType, table.processed),
    index('webhook_events_created_at_idx').on(table.createdAt),
  ],
);

/** The Stripe ids of the prices declared in billing/plans.ts, recorded by `stripe:sync-plans`. */
export const stripePrices = pgTable('stripe_prices', {
  lookupKey: text('lookup_key').primaryKey(),
  priceId: text('price_id').notNull(),
  productId: text('product_id').notNull(),
  unitAmount: integer('unit_amount').notNull(),
  currency: text('currency').notNull(),
  interval: text('interval', { enum: ['month', 'year'] }).notNull(),
  syncedAt: timestamp('synced_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Each reconciliation of the database against Stripe (billing/reconcile.ts) and what it changed;
 * `finished_at` is null while it runs. Only the latest few are kept.
 */
export const reconciliationRuns = pgTable(
  'reconciliation_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    trigger: text('trigger', { enum: ['schedule', 'cli', 'admin'] }).notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    report: jsonb('report').$type<Record<string, unknown>>(),
  },
  (table) => [index('reconciliation_runs_started_at_idx').on(table.startedAt)],
);
