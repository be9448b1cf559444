import { afterEach, describe, expect, it } from 'vitest';
import type { JobContext } from '../src/jobs/queue.ts';
import { createTestApp, createTestDatabase, sleep, type TestApp, waitFor } from './helper.ts';

const FAST = { JOB_POLL_INTERVAL_SECONDS: '0.5', JOB_STOP_TIMEOUT_SECONDS: '1' };

async function jobState(t: TestApp, id: string): Promise<string | undefined> {
  const rows = await t.app.database.query<{ state: string }>(
    'select state::text from pgboss.job where id = $1',
    [id],
  );
  return rows[0]?.state;
}

const apps: TestApp[] = [];
afterEach(async () => {
  for (const t of apps.splice(0).reverse()) await t.close();
});

async function app(options: Parameters<typeof createTestApp>[0] = {}): Promise<TestApp> {
  const t = await createTestApp({ ...options, env: { ...FAST, ...options.env } });
  apps.push(t);
  return t;
}

describe('job queue', () => {
  it('runs a job and retries a failing one with backoff until it succeeds', async () => {
    const t = await app();
    await t.app.jobs.createQueue('test.flaky', {
      retryLimit: 3,
      retryDelaySeconds: 1,
      retryDelayMaxSeconds: 1,
    });
    const attempts: JobContext[] = [];
    await t.app.jobs.work<{ n: number }>('test.flaky', async (data, job) => {
      attempts.push(job);
      expect(data).toEqual({ n: 1 });
      if (job.attempt < 3) throw new Error('not yet');
    });
    const id = await t.app.jobs.send('test.flaky', { n: 1 });
    expect(id).toEqual(expect.any(String));

    await waitFor(async () => (await jobState(t, id!)) === 'completed');
    expect(attempts.map((job) => [job.attempt, job.isLastAttempt])).toEqual([
      [1, false],
      [2, false],
      [3, false],
    ]);
  });

  it('fails a job for good after its retry limit, telling the handler which attempt is last', async () => {
    const t = await app();
    await t.app.jobs.createQueue('test.doomed', { retryLimit: 1, retryDelaySeconds: 1 });
    const seen: boolean[] = [];
    await t.app.jobs.work('test.doomed', async (_data, job) => {
      seen.push(job.isLastAttempt);
      throw new Error('always');
    });
    const id = await t.app.jobs.send('test.doomed', {});
    await waitFor(async () => (await jobState(t, id!)) === 'failed');
    expect(seen).toEqual([false, true]);
  });

  it('enqueues inside a transaction: nothing when it rolls back, the job when it commits', async () => {
    const t = await app({ workers: false });
    await t.app.jobs.createQueue('test.tx');
    const ids: Array<string | null> = [];
    await expect(
      t.app.database.db.transaction(async (transaction) => {
        ids.push(await t.app.jobs.send('test.tx', { a: 1 }, { transaction }));
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    await t.app.database.db.transaction(async (transaction) => {
      ids.push(await t.app.jobs.send('test.tx', { a: 2 }, { transaction }));
    });
    const rows = await t.app.database.query<{ id: string; data: { a: number } }>(
      `select id, data from pgboss.job where name = 'test.tx'`,
    );
    expect(rows).toEqual([{ id: ids[1], data: { a: 2 } }]);
  });

  it('keeps one pending job per key on an exclusive queue', async () => {
    const t = await app({ workers: false });
    await t.app.jobs.createQueue('test.exclusive', { policy: 'exclusive' });
    const first = await t.app.jobs.send('test.exclusive', {}, { singletonKey: 'k' });
    const second = await t.app.jobs.send('test.exclusive', {}, { singletonKey: 'k' });
    const other = await t.app.jobs.send('test.exclusive', {}, { singletonKey: 'other' });
    expect(first).toEqual(expect.any(String));
    expect(second).toBeNull();
    expect(other).toEqual(expect.any(String));
  });

  it('records a cron schedule (UTC) once, however often it is declared', async () => {
    const t = await app({ workers: false });
    await t.app.jobs.createQueue('test.cron');
    await t.app.jobs.schedule('test.cron', '0 9 * * *', { kind: 'daily' });
    await t.app.jobs.schedule('test.cron', '0 9 * * *', { kind: 'daily' });
    const rows = await t.app.database.query<{ cron: string; timezone: string; data: unknown }>(
      `select cron, timezone, data from pgboss.schedule where name = 'test.cron'`,
    );
    expect(rows).toEqual([{ cron: '0 9 * * *', timezone: 'UTC', data: { kind: 'daily' } }]);
  });

  it('runs no handlers in an instance started without workers; one with workers picks the job up', async () => {
    const database = await createTestDatabase();
    try {
      const idle = await app({ workers: false, database });
      await idle.app.jobs.createQueue('test.where');
      const ranIn: string[] = [];
      await idle.app.jobs.work('test.where', async () => {
        ranIn.push('idle');
      });
      const id = await idle.app.jobs.send('test.where', {});
      // A fixed pause on purpose, "nothing runs" under test: longer than a polling interval.
      await sleep(1200);
      expect(ranIn).toEqual([]);
      expect(await jobState(idle, id!)).toBe('created');

      const busy = await app({ database });
      await busy.app.jobs.work('test.where', async () => {
        ranIn.push('busy');
      });
      await waitFor(async () => (await jobState(busy, id!)) === 'completed');
      expect(ranIn).toEqual(['busy']);
    } finally {
      for (const t of apps.splice(0).reverse()) await t.close();
      await database.drop();
    }
  });

  it('stop() waits for a job in flight before it returns', async () => {
    const t = await app({ env: { JOB_STOP_TIMEOUT_SECONDS: '10' } });
    await t.app.jobs.createQueue('test.slow');
    let started = false;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await t.app.jobs.work('test.slow', async () => {
      started = true;
      await released;
    });
    const id = await t.app.jobs.send('test.slow', {});
    await waitFor(() => started);

    let stopped = false;
    const stopping = t.app.jobs.stop().then(() => {
      stopped = true;
    });
    // A fixed pause on purpose, "stop() has not returned yet" under test.
    await sleep(700);
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(stopped).toBe(true);
    expect(await jobState(t, id!)).toBe('completed');
  });

  it('stop() gives up on a stuck job after its timeout and hands it back to be retried', async () => {
    const t = await app({ env: { JOB_STOP_TIMEOUT_SECONDS: '1' } });
    await t.app.jobs.createQueue('test.stuck', { retryLimit: 2 });
    let signal: AbortSignal | undefined;
    await t.app.jobs.work('test.stuck', async (_data, job) => {
      signal = job.signal;
      await new Promise<void>((resolve) => job.signal.addEventListener('abort', () => resolve()));
    });
    const id = await t.app.jobs.send('test.stuck', {});
    await waitFor(() => signal);

    const before = Date.now();
    await t.app.jobs.stop();
    const took = Date.now() - before;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(5000);
    expect(signal!.aborted).toBe(true);
    expect(await jobState(t, id!)).toBe('retry');
  });
});

if (!process.env.DATABASE_URL) {
  console.warn(
    'jobs: the database-outage test runs on PostgreSQL only (PGlite is in-process: nothing to cut)',
  );
}

describe('job queue during a database outage', () => {
  it.skipIf(!process.env.DATABASE_URL)(
    'logs the lost connections, stays up, and runs jobs again once it can reconnect (PostgreSQL only: PGlite is in-process)',
    async () => {
      const t = await app();
      await t.app.jobs.createQueue('test.outage');
      const ran: number[] = [];
      await t.app.jobs.work<{ n: number }>('test.outage', async (data) => {
        ran.push(data.n);
      });
      // Cut every connection the queue holds, as a database restart would.
      const cut = async () =>
        t.app.database.query(
          `select pg_terminate_backend(pid) from pg_stat_activity
           where application_name = 'tierbase-jobs' and datname = current_database()`,
        );
      await cut();
      // The outage lasts a while on purpose: the queue's reconnect attempts are cut again.
      await sleep(300);
      await cut();
      const id = await t.app.jobs.send('test.outage', { n: 1 });
      await waitFor(async () => (await jobState(t, id!)) === 'completed');
      expect(ran).toEqual([1]);
      // The process is still here, and the outage was logged rather than thrown.
      expect(t.logs.text).toContain('job queue cannot reach the database; retrying');
    },
  );
});
