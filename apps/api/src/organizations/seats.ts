import type { DatabaseTransaction, JobQueue } from '../jobs/queue.ts';

/**
 * The job that makes a team subscription's quantity equal its member count again (in Stripe, with
 * proration). Its handler lives with billing; this module only says when it is needed.
 */
export const SEAT_SYNC_QUEUE = 'billing.sync-seats';

/** Ids only: the handler reads the current member count and subscription itself. */
export interface SeatSyncJob {
  organizationId: string;
}

/**
 * Called after every change of an organization's members (a join, a removal, a leave, an account
 * deletion), inside the transaction that made it: the seat sync job is enqueued if and only if the
 * change commits. Several changes in a row queue several jobs; each reads the count as it then is,
 * so the last one leaves Stripe right.
 */
export async function membershipChanged(
  jobs: Pick<JobQueue, 'send'>,
  tx: DatabaseTransaction,
  organizationId: string,
): Promise<void> {
  await jobs.send<SeatSyncJob>(SEAT_SYNC_QUEUE, { organizationId }, { transaction: tx });
}
