import { ErrorCode } from '@tierbase/contracts';
import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import Stripe from 'stripe';
import type { Database } from '../db/client.ts';
import { webhookEvents } from '../db/schema/billing.ts';
import { AppError } from '../errors.ts';
import { webhookLag, webhookEvents as webhookMetric } from '../metrics.ts';
import { expireOpenCheckouts } from './checkout-sessions.ts';
import {
  type DunningDeps,
  sendActionRequired,
  sendCanceled,
  sendPaymentFailed,
  sendPaymentRecovered,
  sendTrialEnding,
} from './dunning.ts';
import { callStripe, StripeObjectMissing } from './stripe-client.ts';
import { type SyncDeps, syncCustomer } from './subscription-sync.ts';

export interface WebhookDeps extends SyncDeps, DunningDeps {
  db: Database;
  webhookSecret: string;
}

export type WebhookOutcome = 'processed' | 'duplicate' | 'in_progress';

/** Stripe's default tolerance: a signature older than this is a replay. */
const SIGNATURE_TOLERANCE_SECONDS = 300;
/** How long an instance may hold an event before another may take it over. */
const PROCESSING_LEASE_MS = 60_000;

/**
 * POST /api/stripe/webhook/: verify, record, process once.
 *
 * 1. The signature is checked over the raw bytes before anything is parsed or stored.
 * 2. The event is recorded by Stripe's id; a second delivery finds the row.
 * 3. One instance claims it (a lease, so a crashed instance's claim runs out); a concurrent
 *    duplicate answers 2xx without touching anything.
 * 4. Effects are idempotent (state is re-read from Stripe; emails are keyed), so even a retry after
 *    a crash between effect and bookkeeping changes nothing twice.
 * 5. A failure is recorded on the event and rethrown, so the caller answers 5xx and Stripe retries.
 */
export async function receiveWebhook(
  deps: WebhookDeps,
  rawBody: Buffer,
  signature: string | undefined,
): Promise<{ outcome: WebhookOutcome; eventId: string; type: string }> {
  const event = verify(rawBody, signature, deps.webhookSecret);
  webhookLag.observe(Math.max(0, Date.now() / 1000 - event.created));
  const recordedEvent = {
    eventId: event.id,
    eventType: event.type,
    payload: event as unknown as Record<string, unknown>,
  };
  if (!HANDLED_TYPES.has(event.type)) {
    // No effect to apply (decision 0028): recorded as processed in one statement, with no claim,
    // lease or bookkeeping round trips. Most of what Stripe sends an endpoint subscribed to `*`.
    const inserted = await recorderOf(deps.db).record({
      eventId: event.id,
      eventType: event.type,
      payload: recordedEvent.payload,
      processedAt: new Date(),
    });
    const outcome = inserted ? 'processed' : 'duplicate';
    webhookMetric.inc({ outcome });
    return { outcome, eventId: event.id, type: event.type };
  }
  await deps.db.insert(webhookEvents).values(recordedEvent).onConflictDoNothing();
  const claimed = await claim(deps.db, event.id);
  if (!claimed) {
    const [row] = await deps.db
      .select({ processed: webhookEvents.processed })
      .from(webhookEvents)
      .where(eq(webhookEvents.eventId, event.id));
    const outcome = row?.processed ? 'duplicate' : 'in_progress';
    webhookMetric.inc({ outcome });
    return { outcome, eventId: event.id, type: event.type };
  }
  let note: string | null;
  try {
    note = await processClaimed(deps, event);
  } catch (error) {
    webhookMetric.inc({ outcome: 'failed' });
    throw error;
  }
  webhookMetric.inc({ outcome: note?.startsWith('ignored') ? 'ignored' : 'processed' });
  return { outcome: 'processed', eventId: event.id, type: event.type };
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

type ProcessedRow = {
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

function recorderOf(db: Database): ProcessedRecorder {
  let recorder = recorders.get(db);
  if (!recorder) {
    recorder = new ProcessedRecorder(db);
    recorders.set(db, recorder);
  }
  return recorder;
}

function verify(rawBody: Buffer, signature: string | undefined, secret: string): Stripe.Event {
  if (!signature)
    throw new AppError({
      status: 400,
      code: ErrorCode.INVALID_SIGNATURE,
      message: 'Missing Stripe-Signature header.',
    });
  try {
    return Stripe.webhooks.constructEvent(rawBody, signature, secret, SIGNATURE_TOLERANCE_SECONDS);
  } catch (error) {
    if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
      throw new AppError({
        status: 400,
        code: ErrorCode.INVALID_SIGNATURE,
        message: 'The webhook signature is invalid or too old.',
      });
    }
    // Signed by the right secret but not JSON: nothing we can act on.
    throw new AppError({
      status: 400,
      code: ErrorCode.INVALID_JSON,
      message: 'The webhook body is not valid JSON.',
    });
  }
}

async function claim(db: Database, eventId: string): Promise<boolean> {
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

/** Applies a claimed event and records the result; returns the note kept on it (why it had no effect). */
async function processClaimed(deps: WebhookDeps, event: Stripe.Event): Promise<string | null> {
  let note: string | null;
  try {
    note = await applyEvent(deps, event);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await deps.db
      .update(webhookEvents)
      .set({ errorMessage: message.slice(0, 2000), lockedUntil: null, updatedAt: new Date() })
      .where(eq(webhookEvents.eventId, event.id));
    throw error;
  }
  await deps.db
    .update(webhookEvents)
    .set({
      processed: true,
      processedAt: new Date(),
      errorMessage: null,
      note,
      lockedUntil: null,
      updatedAt: new Date(),
    })
    .where(eq(webhookEvents.eventId, event.id));
  return note;
}

const idOf = (value: string | { id: string } | null | undefined) =>
  typeof value === 'string' ? value : (value?.id ?? null);

const notOurs = (customerId: string) => `ignored: customer ${customerId} is not linked to an organization`;

/**
 * The effect of one event; returns why it had none, when it was acknowledged without one (kept on
 * the event for the admin). An event about a customer or object Stripe no longer has (404
 * resource_missing: deleted with its test clock, or from another account or mode) is such a case:
 * retrying it cannot succeed, and failing it would have Stripe retry for days and then disable
 * the endpoint. Any other failure (network, 5xx, timeout) is thrown, so Stripe retries.
 */
export async function applyEvent(deps: WebhookDeps, event: Stripe.Event): Promise<string | null> {
  const object = event.data.object as { id?: string; customer?: string | { id: string } | null };
  const gone = [idOf(object.customer), object.id].filter(Boolean);
  try {
    return await applyKnownEvent(deps, event);
  } catch (error) {
    if (error instanceof StripeObjectMissing && gone.includes(error.objectId)) {
      return `ignored: Stripe has no ${error.objectId} (resource_missing on ${error.operation})`;
    }
    throw error;
  }
}

/** The event types `applyKnownEvent` acts on; every other type is recorded and acknowledged. */
const HANDLED_TYPES: ReadonlySet<string> = new Set([
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.paused',
  'customer.subscription.resumed',
  'customer.subscription.deleted',
  'customer.subscription.trial_will_end',
  'invoice.paid',
  'invoice.payment_failed',
  'invoice.payment_action_required',
]);

// A type added here must be added to HANDLED_TYPES, or its events are recorded and never applied.
async function applyKnownEvent(deps: WebhookDeps, event: Stripe.Event): Promise<string | null> {
  switch (event.type) {
    case 'checkout.session.completed': {
      const customerId = idOf(event.data.object.customer);
      if (!customerId) return 'ignored: the session has no customer';
      if (!(await syncCustomer(deps, customerId))) return notOurs(customerId);
      // The other tabs' sessions can no longer be paid (decision 7).
      await expireOpenCheckouts(deps, customerId);
      return null;
    }
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.paused':
    case 'customer.subscription.resumed':
    case 'customer.subscription.deleted':
    case 'customer.subscription.trial_will_end': {
      const subscription = event.data.object;
      const customerId = idOf(subscription.customer);
      if (!customerId) return 'ignored: the subscription has no customer';
      const synced = await syncCustomer(deps, customerId);
      if (!synced) return notOurs(customerId);
      // Sync has just read the customer's subscriptions; only one beyond its page is asked for.
      const fresh =
        synced.subscriptions.find((candidate) => candidate.id === subscription.id) ??
        (await callStripe(
          'subscriptions.retrieve',
          () => deps.stripe.subscriptions.retrieve(subscription.id),
          deps.log,
          { object: subscription.id },
        ));
      if (event.type === 'customer.subscription.trial_will_end') await sendTrialEnding(deps, fresh);
      // Only the end of the subscription that governs access ends access (not a duplicate's).
      const governs = synced.governing?.id === fresh.id;
      if (governs && (fresh.status === 'canceled' || fresh.status === 'unpaid'))
        await sendCanceled(deps, fresh);
      return null;
    }
    case 'invoice.paid':
    case 'invoice.payment_failed':
    case 'invoice.payment_action_required': {
      const invoice = event.data.object;
      const customerId = idOf(invoice.customer);
      if (!customerId || !invoice.id) return 'ignored: the invoice has no customer';
      if (!(await syncCustomer(deps, customerId))) return notOurs(customerId);
      // Act on the invoice as it is now, not as it was when the event was sent: a failure
      // notice for an invoice that has since been paid would be wrong.
      const invoiceId = invoice.id;
      const fresh = await callStripe(
        'invoices.retrieve',
        () => deps.stripe.invoices.retrieve(invoiceId),
        deps.log,
        { object: invoiceId },
      );
      if (event.type === 'invoice.paid') await sendPaymentRecovered(deps, fresh);
      else if (event.type === 'invoice.payment_failed') await sendPaymentFailed(deps, fresh);
      else await sendActionRequired(deps, fresh);
      return null;
    }
    default:
      return null;
  }
}

/**
 * Replays recorded events (by id, or every unprocessed one), as `webhooks:replay` does. `recordedBefore`
 * (reconciliation) takes the oldest `limit` unprocessed events recorded before then that no instance
 * holds a lease on.
 */
export async function replayEvents(
  deps: WebhookDeps,
  selector: { eventId: string } | { failed: true } | { recordedBefore: Date; limit: number },
): Promise<{ eventId: string; ok: boolean; error?: string }[]> {
  const rows =
    'eventId' in selector
      ? await deps.db.select().from(webhookEvents).where(eq(webhookEvents.eventId, selector.eventId))
      : 'recordedBefore' in selector
        ? await deps.db
            .select()
            .from(webhookEvents)
            .where(
              and(
                eq(webhookEvents.processed, false),
                lt(webhookEvents.createdAt, selector.recordedBefore),
                or(isNull(webhookEvents.lockedUntil), lt(webhookEvents.lockedUntil, new Date())),
              ),
            )
            .orderBy(webhookEvents.createdAt)
            .limit(selector.limit)
        : await deps.db.select().from(webhookEvents).where(eq(webhookEvents.processed, false));
  if ('eventId' in selector && rows.length === 0) {
    throw new AppError({
      status: 404,
      code: ErrorCode.NOT_FOUND,
      message: `No recorded event ${selector.eventId}.`,
    });
  }
  const results: { eventId: string; ok: boolean; error?: string }[] = [];
  for (const row of rows) {
    await deps.db
      .update(webhookEvents)
      .set({ processed: false, updatedAt: new Date() })
      .where(eq(webhookEvents.eventId, row.eventId));
    if (!(await claim(deps.db, row.eventId))) {
      results.push({ eventId: row.eventId, ok: false, error: 'being processed by another instance' });
      continue;
    }
    try {
      await processClaimed(deps, row.payload as unknown as Stripe.Event);
      results.push({ eventId: row.eventId, ok: true });
    } catch (error) {
      results.push({
        eventId: row.eventId,
        ok: false,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return results;
}
