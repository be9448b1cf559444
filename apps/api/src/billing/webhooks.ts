import { ErrorCode } from '@tierbase/contracts';
import Stripe from 'stripe';
import type { Database } from '../db/client.ts';
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
import {
  claimEvent,
  isEventProcessed,
  markEventFailed,
  markEventProcessed,
  recordEvent,
  recordProcessedEvent,
  reopenEvent,
  unprocessedEvents,
  webhookEvent,
} from './webhook-events.ts';

export interface WebhookDeps extends SyncDeps, DunningDeps {
  db: Database;
  webhookSecret: string;
}

export type WebhookOutcome = 'processed' | 'duplicate' | 'in_progress';

/** Stripe's default tolerance: a signature older than this is a replay. */
const SIGNATURE_TOLERANCE_SECONDS = 300;

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
    const inserted = await recordProcessedEvent(deps.db, {
      eventId: event.id,
      eventType: event.type,
      payload: recordedEvent.payload,
      processedAt: new Date(),
    });
    const outcome = inserted ? 'processed' : 'duplicate';
    webhookMetric.inc({ outcome });
    return { outcome, eventId: event.id, type: event.type };
  }
  await recordEvent(deps.db, recordedEvent);
  const claimed = await claimEvent(deps.db, event.id);
  if (!claimed) {
    const outcome = (await isEventProcessed(deps.db, event.id)) ? 'duplicate' : 'in_progress';
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

/** Applies a claimed event and records the result; returns the note kept on it (why it had no effect). */
async function processClaimed(deps: WebhookDeps, event: Stripe.Event): Promise<string | null> {
  let note: string | null;
  try {
    note = await applyEvent(deps, event);
  } catch (error) {
    await markEventFailed(deps.db, event.id, error instanceof Error ? error.message : String(error));
    throw error;
  }
  await markEventProcessed(deps.db, event.id, note);
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
      ? [await webhookEvent(deps.db, selector.eventId)].filter((row) => row !== undefined)
      : await unprocessedEvents(deps.db, 'recordedBefore' in selector ? selector : undefined);
  if ('eventId' in selector && rows.length === 0) {
    throw new AppError({
      status: 404,
      code: ErrorCode.NOT_FOUND,
      message: `No recorded event ${selector.eventId}.`,
    });
  }
  const results: { eventId: string; ok: boolean; error?: string }[] = [];
  for (const row of rows) {
    await reopenEvent(deps.db, row.eventId);
    if (!(await claimEvent(deps.db, row.eventId))) {
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
