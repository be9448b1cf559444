import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { lockDataDir } from './data-dir-lock.ts';
import * as schema from './schema/index.ts';

export { schema };

/** The Drizzle handle every domain module uses; it does not say which driver is underneath. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export type DatabaseKind = 'pglite' | 'postgres';

export interface DatabaseHandle {
  db: Database;
  kind: DatabaseKind;
  /** Raw SQL for the few places that need it (health, pg-boss); values are bound, never interpolated. */
  query<Row = Record<string, unknown>>(text: string, values?: unknown[]): Promise<Row[]>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /** Set only on PGlite: pg-boss and tests need the instance itself. */
  pglite?: PGlite;
  /** Set only on PostgreSQL. */
  pool?: pg.Pool;
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  dataDir?: string;
  poolMax?: number;
  /** An already open PGlite (tests load a migrated snapshot into memory). */
  pglite?: PGlite;
  /** How long to wait for the data folder's lock held by another process (default: refuse at once). */
  lockWaitMs?: number;
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.poolMax ?? 10);
  if (options.pglite) return wrapPglite(options.pglite);
  if (!options.dataDir) throw new Error('openDatabase needs a databaseUrl, a dataDir or a pglite instance');
  // One process at a time on the embedded database (see data-dir-lock.ts).
  const release = await lockDataDir(options.dataDir, { waitMs: options.lockWaitMs ?? 0 });
  try {
    const dir = path.join(options.dataDir, 'pglite');
    fs.mkdirSync(dir, { recursive: true });
    const pglite = await PGlite.create(dir);
    dataDirLocks.set(pglite, release);
    return wrapPglite(pglite);
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * The lock of each on-disk PGlite, released by whichever handle closes it: the server migrates on
 * one handle and hands the open instance to the app, whose handle closes it at shutdown.
 */
const dataDirLocks = new WeakMap<PGlite, () => Promise<void>>();

function wrapPglite(pglite: PGlite): DatabaseHandle {
  return {
    db: drizzlePglite(pglite, { schema }),
    kind: 'pglite',
    pglite,
    async query<Row>(text: string, values?: unknown[]) {
      const result = await pglite.query<Row>(text, values);
      return result.rows;
    },
    async ping() {
      await pglite.query('select 1');
    },
    async close() {
      if (!pglite.closed) await pglite.close();
      const release = dataDirLocks.get(pglite);
      dataDirLocks.delete(pglite);
      await release?.();
    },
  };
}

function openPostgres(connectionString: string, max: number): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString,
    max,
    // Fail fast while the database is down, so requests answer 503 instead of hanging.
    connectionTimeoutMillis: 3000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection (server restart) must not crash the process; the pool
  // drops it and the next query opens a fresh one.
  pool.on('error', () => {});
  return {
    db: drizzlePg(pool, { schema }),
    kind: 'postgres',
    pool,
    async query<Row>(text: string, values?: unknown[]) {
      const result = await pool.query(text, values);
      return result.rows as Row[];
    },
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await pool.end();
    },
  };
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN', // DNS not answering, e.g. while a compose service's container restarts
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '53300', // too_many_connections: the server is up but refuses us for now
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
]);

/** True when an error means the database cannot be reached (as opposed to a bad query). */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if (typeof current !== 'object') return false;
    const { code, message } = current as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
    if (
      typeof message === 'string' &&
      /timeout exceeded when trying to connect|Connection terminated|connect ECONNREFUSED/i.test(message)
    ) {
      return true;
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
