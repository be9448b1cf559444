/**
 * PROCESS_ROLE splits one deployment into API processes (requests, no job workers) and worker
 * processes (the jobs, with the HTTP port kept for health probes), as deploy/k8s runs them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createTestApp, createTestDatabase, sleep, type TestApp, waitFor } from './helper.ts';

const DATABASE_URL = 'postgres://tierbase@db.example:5432/tierbase';
const FAST = { JOB_POLL_INTERVAL_SECONDS: '0.5', JOB_STOP_TIMEOUT_SECONDS: '1' };

describe('PROCESS_ROLE: configuration', () => {
  it('defaults to all, and takes api or worker with a server database', () => {
    expect(loadConfig({}).processRole).toBe('all');
    expect(loadConfig({ PROCESS_ROLE: 'api', DATABASE_URL }).processRole).toBe('api');
    expect(loadConfig({ PROCESS_ROLE: 'worker', DATABASE_URL }).processRole).toBe('worker');
  });

  it.each(['api', 'worker'])('refuses %s on the embedded database, which serves one process', (role) => {
    expect(() => loadConfig({ PROCESS_ROLE: role })).toThrow(ConfigError);
    expect(() => loadConfig({ PROCESS_ROLE: role })).toThrow(/PROCESS_ROLE: .*needs DATABASE_URL/);
  });

  it('refuses a role it does not know, naming the variable', () => {
    expect(() => loadConfig({ PROCESS_ROLE: 'jobs', DATABASE_URL })).toThrow(/PROCESS_ROLE/);
  });
});

// The roles need a server database (see above): these run on the PostgreSQL pass.
const onPostgres = Boolean(process.env.DATABASE_URL);
if (!onPostgres)
  console.warn('process-role: the split runs on PostgreSQL only (DATABASE_URL unset): skipped');

describe.skipIf(!onPostgres)('PROCESS_ROLE: an API process and a worker process on one database', () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const t of apps.splice(0).reverse()) await t.close();
  });

  it('a job sent by the API process runs in the worker process only', async () => {
    const database = await createTestDatabase();
    try {
      const start = async (role: string) => {
        const t = await createTestApp({ database, env: { ...FAST, PROCESS_ROLE: role } });
        apps.push(t);
        return t;
      };
      const api = await start('api');
      const worker = await start('worker');
      expect([api.app.jobs.workers, worker.app.jobs.workers]).toEqual([false, true]);

      await api.app.jobs.createQueue('test.role');
      const ranIn: string[] = [];
      await api.app.jobs.work('test.role', async () => {
        ranIn.push('api');
      });
      await worker.app.jobs.work('test.role', async () => {
        ranIn.push('worker');
      });
      const ids = await Promise.all([1, 2, 3].map((n) => api.app.jobs.send('test.role', { n })));
      const state = async () =>
        api.app.database.query<{ state: string }>('select state::text from pgboss.job where id = any($1)', [
          ids,
        ]);
      await waitFor(async () => (await state()).every((row) => row.state === 'completed'));
      // A fixed pause on purpose, "nothing happens" under test: another poll interval or two, and
      // the API process still takes nothing.
      await sleep(1200);
      expect(ranIn).toEqual(['worker', 'worker', 'worker']);
    } finally {
      for (const t of apps.splice(0).reverse()) await t.close();
      await database.drop();
    }
  });

  it('the worker process answers the health probes', async () => {
    const worker = await createTestApp({ env: { ...FAST, PROCESS_ROLE: 'worker' } });
    apps.push(worker);
    expect((await worker.app.inject({ url: '/health/live' })).statusCode).toBe(200);
    expect((await worker.app.inject({ url: '/health/ready' })).statusCode).toBe(200);
  });
});
