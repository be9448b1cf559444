import { sql } from 'drizzle-orm';
import type { Database, DatabaseHandle } from '../db/client.ts';

/**
 * Runs the read-from-Stripe-then-write of one customer alone, so two instances (or two events in
 * one instance) can never write an older picture of the subscription over a newer one.
 *
 * On PostgreSQL: one transaction holding `pg_advisory_xact_lock` for the customer; `work` gets the
 * transaction, so everything it writes commits together or not at all, and the lock is released
 * with the commit (or the rollback) even if the connection dies. On PGlite (one process by
 * construction, and one connection whose transactions block every other query): a promise chain
 * per customer, and `work` gets the database, opening a short transaction for its writes (a
 * nested transaction on PostgreSQL is a savepoint inside this one).
 */
export type CustomerLock = <T>(customerId: string, work: (db: Database) => Promise<T>) => Promise<T>;

export function createCustomerLock(handle: DatabaseHandle): CustomerLock {
  if (handle.kind === 'postgres') {
    return (customerId, work) =>
      handle.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`customer:${customerId}`}))`);
        return work(tx);
      });
  }
  const tails = new Map<string, Promise<unknown>>();
  return async (customerId, work) => {
    const previous = tails.get(customerId) ?? Promise.resolve();
    const run = previous.catch(() => {}).then(() => work(handle.db));
    tails.set(customerId, run);
    try {
      return await run;
    } finally {
      if (tails.get(customerId) === run) tails.delete(customerId);
    }
  };
}
