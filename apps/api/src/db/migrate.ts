import { fileURLToPath } from 'node:url';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { DatabaseHandle } from './client.ts';

/**
 * The SQL migrations folder. In the source tree it sits beside this file; the build copies it
 * next to the bundle, so the same relative URL works in both.
 */
export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

// Any fixed number: instances starting together take turns instead of racing the same DDL.
const MIGRATION_LOCK_ID = 7_041_977;

export async function runMigrations(handle: DatabaseHandle, folder = migrationsFolder): Promise<void> {
  if (handle.kind === 'pglite') {
    await migratePglite(drizzlePgliteFor(handle), { migrationsFolder: folder });
    return;
  }
  const pool = handle.pool!;
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    const { drizzle } = await import('drizzle-orm/node-postgres');
    await migratePg(drizzle(client) as NodePgDatabase<Record<string, never>>, { migrationsFolder: folder });
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => {});
    client.release();
  }
}

function drizzlePgliteFor(handle: DatabaseHandle) {
  return drizzlePglite(handle.pglite!);
}
