import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';
import { installJobSchema } from '../src/jobs/queue.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** PGlite runs: a migrated data dir dumped once, loaded into memory per test file. */
    pgliteSnapshot: string;
    /** PostgreSQL runs: a migrated template database each test file clones. */
    postgresTemplate: string;
  }
}

/**
 * Migrates once per run, so each test file starts from a migrated database in well under a second:
 * on PGlite a dumped data dir, on PostgreSQL a template database. The job queue's schema (pg-boss)
 * is installed there too, so no test file pays for creating it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const databaseUrl = process.env.DATABASE_URL;
  if (databaseUrl) {
    const template = `tierbase_tpl_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: databaseUrl });
    await admin.connect();
    await admin.query(`create database "${template}"`);
    const templateUrl = withDatabase(databaseUrl, template);
    const database = await openDatabase({ databaseUrl: templateUrl, poolMax: 1 });
    await runMigrations(database);
    await installJobSchema(database, templateUrl);
    await database.close();
    project.provide('postgresTemplate', template);
    project.provide('pgliteSnapshot', '');
    return async () => {
      await admin.query(`drop database if exists "${template}" with (force)`);
      await admin.end();
    };
  }

  const pglite = await PGlite.create();
  const database = await openDatabase({ pglite });
  await runMigrations(database);
  await installJobSchema(database);
  const dump = await pglite.dumpDataDir('none');
  await pglite.close();
  const file = path.join(os.tmpdir(), `tierbase-pglite-${process.pid}-${Date.now()}.tar`);
  fs.writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('pgliteSnapshot', file);
  project.provide('postgresTemplate', '');
  return async () => fs.rmSync(file, { force: true });
}

export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
