import type { PageCursor } from '@tierbase/contracts';
import { and, asc, desc, eq, gte, isNotNull, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { before } from '../db/pagination.ts';
import { webhookEvents } from '../db/schema/billing.ts';
import { isRecordedCustomer } from './subscriptions.ts';

/**
 * The `webhook_events` table's one owner (issue 13): every statement on the recorded Stripe events
 * is here. webhooks.ts decides what happens to an event; these functions record it, claim it,
 * settle it, find it again (replay, the admin, an account export) and redact it (erasure).
 */

export type WebhookEventRow = typeof webhookEvents.$inferSelect;

/** How long an instance may hold an event before another may take it over. */
const PROCESSING_LEASE_MS = 60_000;

/** Records an event to process (a redelivery finds the row already there). */
export async function recordEvent(
  db: Database,
  event: { eventId: string; eventType: string; payload: Record<string, unknown> },
): Promise<void> {
  await db.insert(webhookEvents).values(event).onConflictDoNothing();
}

/**
 * Claims an unprocessed event for this instance, with a lease (a crashed instance's claim runs
 * out). False when it is processed or another instance holds it.
 */
export async function claimEvent(db: Database, eventId: string): Promise<boolean> {
  const claimed = await db
    .update(webhookEvents)
    .set({
      lockedUntil: new Date(Date.now() + PROCESSING_LEASE_MS),
      attempts: sql`${webhookEvents.attempts} + 1`,
      updatedAt: new Date(),
    })
    .where(
      and(
        eq(webhookEvents.eventId, eventId),
        eq(webhookEvents.processed, false),
        or(isNull(webhookEvents.lockedUntil), lt(webhookEvents.lockedUntil, new Date())),
      ),
    )
    .returning({ eventId: webhookEvents.eventId });
  return claimed.length === 1;
}

/** Whether the recorded event has been processed (false when it is not recorded). */
export async function isEventProcessed(db: Database, eventId: string): Promise<boolean> {
  const [row] = await db
    .select({ processed: webhookEvents.processed })
    .from(webhookEvents)
    .where(eq(webhookEvents.eventId, eventId));
  return row?.processed ?? false;
}

/** A claimed event failed: the error is kept for the admin and the lease given up, so a retry may claim it. */
export async function markEventFailed(db: Database, eventId: string, message: string): Promise<void> {
  await db
    .update(webhookEvents)
    .set({ errorMessage: message.slice(0, 2000), lockedUntil: null, updatedAt: new Date() })
    .where(eq(webhookEvents.eventId, eventId));
}

/** A claimed event took effect; `note` says why it had none, when it had none. */
export async function markEventProcessed(db: Database, eventId: string, note: string | null): Promise<void> {
  await db
    .update(webhookEvents)
    .set({
      processed: true,
      processedAt: new Date(),
      errorMessage: null,
      note,
      lockedUntil: null,
      updatedAt: new Date(),
    })
    .where(eq(webhookEvents.eventId, eventId));
}

/** Marks a recorded event unprocessed again, so it can be claimed and replayed. */
export async function reopenEvent(db: Database, eventId: string): Promise<void> {
  await db
    .update(webhookEvents)
    .set({ processed: false, updatedAt: new Date() })
    .where(eq(webhookEvents.eventId, eventId));
}

export async function webhookEvent(db: Database, eventId: string): Promise<WebhookEventRow | undefined> {
  const [row] = await db.select().from(webhookEvents).where(eq(webhookEvents.eventId, eventId));
  return row;
}

/**
 * The unprocessed events; with `recordedBefore` (reconciliation), the oldest `limit` recorded
 * before then that no instance holds a lease on.
 */
export async function unprocessedEvents(
  db: Database,
  older?: { recordedBefore: Date; limit: number },
): Promise<WebhookEventRow[]> {
  if (!older) return db.select().from(webhookEvents).where(eq(webhookEvents.processed, false));
  return db
    .select()
    .from(webhookEvents)
    .where(
      and(
        eq(webhookEvents.processed, false),
        lt(webhookEvents.createdAt, older.recordedBefore),
        or(isNull(webhookEvents.lockedUntil), lt(webhookEvents.lockedUntil, new Date())),
      ),
    )
    .orderBy(webhookEvents.createdAt)
    .limit(older.limit);
}

/**
 * The one statement of an event with no effect, built once per database: drizzle takes about
 * 50 µs to build an insert's SQL, a twentieth of the whole request (docs/benchmarks.md), and a
 * named statement is also parsed and planned once per connection by PostgreSQL.
 */
const recordProcessedStatements = new WeakMap<Database, ReturnType<typeof prepareRecordProcessed>>();

function prepareRecordProcessed(db: Database) {
  return db
    .insert(webhookEvents)
    .values({
      eventId: sql.placeholder('eventId'),
      eventType: sql.placeholder('eventType'),
      payload: sql.placeholder('payload'),
      processed: true,
      processedAt: sql.placeholder('processedAt'),
      attempts: 1,
    })
    .onConflictDoNothing()
    .returning({ eventId: webhookEvents.eventId })
    .prepare('tierbase_webhook_record_processed');
}

function recordProcessed(db: Database) {
  let statement = recordProcessedStatements.get(db);
  if (!statement) {
    statement = prepareRecordProcessed(db);
    recordProcessedStatements.set(db, statement);
  }
  return statement;
}

export type ProcessedRow = {
  eventId: string;
  eventType: string;
  payload: Record<string, unknown>;
  processedAt: Date;
};

interface PendingRecord {
  row: ProcessedRow;
  settle: (inserted: boolean) => void;
  fail: (error: unknown) => void;
}

/** The most rows one insert carries; more go in the next. */
const RECORD_BATCH_MAX = 500;

/**
 * Records events with no effect, the events verified in the same turn of the event loop in one
 * multi-row insert (decision 0028): under a burst, one statement and one commit serve many
 * deliveries instead of one each. A lone event uses the prepared single-row statement, so a quiet
 * endpoint waits no longer than before. Each delivery is still answered only after its row is
 * committed; if the insert fails, every delivery in it fails (5xx) and Stripe retries them.
 * Within a batch, a repeated event id is a duplicate of its first occurrence, as it would be in
 * two statements.
 */
class ProcessedRecorder {
  #pending: PendingRecord[] = [];
  #scheduled = false;

  constructor(private readonly db: Database) {}

  record(row: ProcessedRow): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ row, settle: resolve, fail: reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    while (this.#pending.length > 0) {
      void this.#insert(this.#pending.splice(0, RECORD_BATCH_MAX));
    }
  }

  async #insert(batch: PendingRecord[]): Promise<void> {
    try {
      if (batch.length === 1) {
        const only = batch[0]!;
        only.settle((await recordProcessed(this.db).execute(only.row)).length === 1);
        return;
      }
      const first = new Map<string, ProcessedRow>();
      for (const { row } of batch) if (!first.has(row.eventId)) first.set(row.eventId, row);
      const inserted = await this.db
        .insert(webhookEvents)
        .values([...first.values()].map((row) => ({ ...row, processed: true, attempts: 1 })))
        .onConflictDoNothing()
        .returning({ eventId: webhookEvents.eventId });
      const insertedIds = new Set(inserted.map((row) => row.eventId));
      for (const { row, settle } of batch)
        settle(first.get(row.eventId) === row && insertedIds.has(row.eventId));
    } catch (error) {
      for (const { fail } of batch) fail(error);
    }
  }
}

const recorders = new WeakMap<Database, ProcessedRecorder>();

/**
 * Records an event with no effect as processed, in one statement shared with the other events
 * verified in the same turn (ProcessedRecorder). True when it was new, false for a duplicate.
 */
export function recordProcessedEvent(db: Database, row: ProcessedRow): Promise<boolean> {
  let recorder = recorders.get(db);
  if (!recorder) {
    recorder = new ProcessedRecorder(db);
    recorders.set(db, recorder);
  }
  return recorder.record(row);
}

export type WebhookEventStatus = 'processed' | 'failed' | 'pending';

const eventStatusCondition: Record<WebhookEventStatus, SQL> = {
  processed: eq(webhookEvents.processed, true),
  failed: and(eq(webhookEvents.processed, false), isNotNull(webhookEvents.errorMessage))!,
  pending: and(eq(webhookEvents.processed, false), isNull(webhookEvents.errorMessage))!,
};

/**
 * A page of recorded events for the admin, newest first, by type and status; `failed: true` (the
 * older filter) keeps every event not processed yet, failed or in flight. `more` says whether
 * another page follows.
 */
export async function webhookEventPage(
  db: Database,
  query: {
    failed?: boolean | undefined;
    status?: WebhookEventStatus | undefined;
    type?: string | undefined;
    limit: number;
    cursor?: PageCursor | undefined;
  },
): Promise<{ rows: WebhookEventRow[]; more: boolean }> {
  const rows = await db
    .select()
    .from(webhookEvents)
    .where(
      and(
        query.failed ? eq(webhookEvents.processed, false) : undefined,
        query.status ? eventStatusCondition[query.status] : undefined,
        query.type ? eq(webhookEvents.eventType, query.type) : undefined,
        before(webhookEvents.createdAt, webhookEvents.eventId, query.cursor),
      ),
    )
    .orderBy(desc(webhookEvents.createdAt), desc(webhookEvents.eventId))
    .limit(query.limit + 1);
  return { rows: rows.slice(0, query.limit), more: rows.length > query.limit };
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
        // Whose customer it is, is the subscriptions' owner's to say; one statement still, as a
        // week of events is too many to check in pages.
        sql`not ${isRecordedCustomer(customerOf)}`,
      ),
    )
    .returning({ eventId: webhookEvents.eventId });
  return redacted.length;
}
