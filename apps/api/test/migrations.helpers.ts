import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { type DatabaseHandle, openDatabase } from '../src/db/client.ts';
import { migrationsFolder, runMigrations } from '../src/db/migrate.ts';
import { installJobSchema } from '../src/jobs/queue.ts';
import { withDatabase } from './global-setup.ts';
import type { TestDatabase } from './helper.ts';

interface Journal {
  entries: { idx: number; tag: string }[];
}

/**
 * A copy of the migrations folder whose journal stops at `tag` (included): migrating with it
 * leaves a database exactly as a deployment of that release left it. Drizzle's migrator applies
 * the entries of a journal it has not applied yet, so running the real folder afterwards applies
 * the rest, as the next deployment would.
 */
export function migrationsUpTo(tag: string): { folder: string; remove(): void } {
  const journal = JSON.parse(
    fs.readFileSync(path.join(migrationsFolder, 'meta', '_journal.json'), 'utf8'),
  ) as Journal;
  const last = journal.entries.findIndex((entry) => entry.tag === tag);
  if (last < 0) throw new Error(`no migration tagged ${tag}`);
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'tierbase-migrations-'));
  fs.mkdirSync(path.join(folder, 'meta'));
  const kept = journal.entries.slice(0, last + 1);
  for (const entry of kept) {
    fs.copyFileSync(path.join(migrationsFolder, `${entry.tag}.sql`), path.join(folder, `${entry.tag}.sql`));
  }
  fs.writeFileSync(path.join(folder, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries: kept }));
  return { folder, remove: () => fs.rmSync(folder, { recursive: true, force: true }) };
}

/**
 * An empty database (not the migrated template the other tests clone): in-memory PGlite, or a new
 * PostgreSQL database when DATABASE_URL is set. `handle` is open on it for the test's own SQL.
 */
export async function emptyDatabase(): Promise<{ database: TestDatabase; handle: DatabaseHandle }> {
  const baseUrl = process.env.DATABASE_URL;
  if (baseUrl) {
    const name = `tierbase_mig_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: baseUrl });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    await admin.end();
    const databaseUrl = withDatabase(baseUrl, name);
    const handle = await openDatabase({ databaseUrl, poolMax: 2 });
    return {
      handle,
      database: {
        databaseUrl,
        async drop() {
          await handle.close();
          const client = new pg.Client({ connectionString: baseUrl });
          await client.connect();
          await client.query(`drop database if exists "${name}" with (force)`);
          await client.end();
        },
      },
    };
  }
  const pglite = await PGlite.create();
  const handle = await openDatabase({ pglite });
  return {
    handle,
    database: {
      pglite,
      async drop() {
        if (!pglite.closed) await pglite.close();
      },
    },
  };
}

/** Applies the migrations up to `tag` (included). */
export async function migrateTo(handle: DatabaseHandle, tag: string): Promise<void> {
  const partial = migrationsUpTo(tag);
  try {
    await runMigrations(handle, partial.folder);
  } finally {
    partial.remove();
  }
}

/** Applies every remaining migration and installs the job queue's schema, as a deployment does. */
export async function migrateToLatest(handle: DatabaseHandle, database: TestDatabase): Promise<void> {
  await runMigrations(handle);
  await installJobSchema(handle, database.databaseUrl);
}
