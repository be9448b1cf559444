import { ErrorCode } from '@tierbase/contracts';
import { RECONCILE_QUEUE } from '../billing/plugin.ts';
import type { BillingContext } from '../billing/service.ts';
import { syncCustomer } from '../billing/subscription-sync.ts';
import { personalSubscriptionOf } from '../billing/subscriptions.ts';
import { replayEvents } from '../billing/webhooks.ts';
import type { Database } from '../db/client.ts';
import { adminAuditLog } from '../db/schema/admin.ts';
import { retryFailedEmail } from '../email/outbox.ts';
import { AppError, notFound } from '../errors.ts';
import type { JobQueue } from '../jobs/queue.ts';
import { deleteUserSessions } from '../users/sessions.ts';
import { clearDeactivated, findUser, markDeactivated, setIsStaff } from '../users/users.ts';

/*
 * What staff can change, each change with its audit row. Database-only changes write the row in
 * the change's own transaction, so one is never without the other. Stripe calls and replays cannot
 * share a transaction with it (their effect is in Stripe and in rows the billing module commits):
 * their row is written once the call has ended, with its outcome, failures included.
 */

/** The staff member acting. */
export interface Actor {
  id: string;
}

export interface AuditRecord {
  action: string;
  targetType: 'user' | 'webhook_event' | 'email' | 'reconciliation';
  targetId: string;
  details?: Record<string, unknown>;
}

export async function recordAudit(db: Database, actor: Actor, record: AuditRecord): Promise<void> {
  await db.insert(adminAuditLog).values({
    staffUserId: actor.id,
    action: record.action,
    targetType: record.targetType,
    targetId: record.targetId,
    details: record.details ?? {},
  });
}

/** Staff never lock themselves out: someone else has to take their access away. */
function refuseSelf(actor: Actor, userId: string, what: string): void {
  if (actor.id === userId) {
    throw new AppError({
      status: 409,
      code: ErrorCode.CONFLICT,
      message: `You cannot ${what} your own account; ask another staff member.`,
    });
  }
}

/**
 * Deactivates the user and ends every session they have, at once; they cannot sign in again until
 * reactivated (the session hooks refuse them). Deactivating twice keeps the first date.
 */
export async function deactivateUser(db: Database, actor: Actor, userId: string): Promise<void> {
  refuseSelf(actor, userId, 'deactivate');
  await db.transaction(async (tx) => {
    const user = await markDeactivated(tx, userId);
    if (!user) throw notFound('No such user.');
    const sessionsEnded = await deleteUserSessions(tx, userId);
    await recordAudit(tx, actor, {
      action: 'user.deactivate',
      targetType: 'user',
      targetId: userId,
      details: { sessionsEnded, wasDeactivated: user.wasDeactivated },
    });
  });
}

export async function reactivateUser(db: Database, actor: Actor, userId: string): Promise<void> {
  refuseSelf(actor, userId, 'reactivate');
  await db.transaction(async (tx) => {
    if (!(await clearDeactivated(tx, userId))) throw notFound('No such user.');
    await recordAudit(tx, actor, { action: 'user.reactivate', targetType: 'user', targetId: userId });
  });
}

/** Grants or takes away staff access; it applies from the user's next request. */
export async function setStaff(db: Database, actor: Actor, userId: string, isStaff: boolean): Promise<void> {
  refuseSelf(actor, userId, isStaff ? 'change the staff access of' : 'revoke staff access from');
  await db.transaction(async (tx) => {
    if (!(await setIsStaff(tx, userId, isStaff))) throw notFound('No such user.');
    await recordAudit(tx, actor, {
      action: isStaff ? 'user.make_staff' : 'user.revoke_staff',
      targetType: 'user',
      targetId: userId,
    });
  });
}

/**
 * "Sync from Stripe now": reads the customer of the user's personal workspace from Stripe and
 * rewrites its subscription row, through the billing module's one sync function (the same as a
 * webhook). 409 when it has no Stripe customer yet. (Team subscriptions are kept right by the
 * webhooks and the reconciliation.)
 */
export async function syncUserSubscription(
  billing: BillingContext,
  actor: Actor,
  userId: string,
): Promise<void> {
  if (!(await findUser(billing.db, userId))) throw notFound('No such user.');
  const row = await personalSubscriptionOf(billing.db, userId);
  if (!row) {
    throw new AppError({
      status: 409,
      code: ErrorCode.CONFLICT,
      message: 'This user has no Stripe customer yet: nothing to sync.',
    });
  }
  const audit = (details: Record<string, unknown>) =>
    recordAudit(billing.db, actor, {
      action: 'subscription.sync',
      targetType: 'user',
      targetId: userId,
      details,
    });
  try {
    const synced = await syncCustomer(billing, row.stripeCustomerId);
    await audit({
      ok: true,
      customer: row.stripeCustomerId,
      before: { status: row.status, plan: row.plan },
      after: { status: synced?.row.status ?? null, plan: synced?.row.plan ?? null },
    });
  } catch (error) {
    await audit({ ok: false, customer: row.stripeCustomerId, error: errorText(error) });
    throw error;
  }
}

/** Processes a recorded Stripe event again; the outcome is recorded whether or not it worked. */
export async function replayWebhookEvent(billing: BillingContext, actor: Actor, eventId: string) {
  // 404 (nothing replayed, nothing to record) comes from replayEvents itself.
  const [result] = await replayEvents(billing, { eventId });
  if (!result) throw notFound(`No recorded event ${eventId}.`);
  await recordAudit(billing.db, actor, {
    action: 'webhook_event.replay',
    targetType: 'webhook_event',
    targetId: eventId,
    details: result.ok ? { ok: true } : { ok: false, error: result.error },
  });
  return result;
}

/** Queues a failed email for delivery again; false when there is no failed email with that id. */
export async function retryEmail(
  db: Database,
  jobs: JobQueue,
  actor: Actor,
  emailId: string,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    if (!(await retryFailedEmail(tx, jobs, emailId))) return false;
    await recordAudit(tx, actor, { action: 'email.retry', targetType: 'email', targetId: emailId });
    return true;
  });
}

/**
 * Queues a reconciliation with Stripe (its report appears when the job finishes); null when one is
 * already queued or running. The audit row names the job.
 */
export async function queueReconciliation(
  db: Database,
  jobs: JobQueue,
  actor: Actor,
): Promise<string | null> {
  const jobId = await jobs.send(RECONCILE_QUEUE, { trigger: 'admin' });
  if (jobId) {
    await recordAudit(db, actor, {
      action: 'reconciliation.run',
      targetType: 'reconciliation',
      targetId: jobId,
    });
  }
  return jobId;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 500);
