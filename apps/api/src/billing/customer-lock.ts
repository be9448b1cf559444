import { drizzle } from 'drizzle-orm/node-postgres';
import type { Database, DatabaseHandle } from '../db/client.ts';
import { schema } from '../db/client.ts';

/**
 * Serializes the read-from-Stripe-then-write of one customer, so two instances (or two events in
 * one instance) can never write an older picture of the subscription over a newer one.
 *
 * On PostgreSQL: a session advisory lock on a dedicated connection, which also runs the work, so
 * a full pool cannot deadlock the lock holders. On PGlite (one process by construction): a
 * promise chain per customer.
 */
export type CustomerLock = <T>(customerId: string, work: (db: Database) => Promise<T>) => Promise<T>;

export function createCustomerLock(handle: DatabaseHandle): CustomerLock {
  if (handle.kind === 'postgres') {
    const pool = handle.pool!;
    return async (customerId, work) => {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock(hashtext($1))', [`customer:${customerId}`]);
        try {
          return await work(drizzle(client, { schema }) as unknown as Database);
        } finally {
          await client.query('select pg_advisory_unlock(hashtext($1))', [`customer:${customerId}`]);
        }
      } finally {
        client.release();
      }
    };
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
