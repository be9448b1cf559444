import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { ReconciliationRun } from '@tierbase/contracts';
import { eq, sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileCommand } from '../src/billing/commands.ts';
import {
  createRunLock,
  describeRun,
  listRuns,
  type ReconcileOptions,
  RUNS_KEPT,
  reconcile,
} from '../src/billing/reconcile.ts';
import { loadConfig } from '../src/config.ts';
import { reconciliationRuns, subscriptions, users, webhookEvents } from '../src/db/schema/index.ts';
import { JOB_SCHEMA } from '../src/jobs/queue.ts';
import {
  type BillingHarness,
  deliverSigned,
  STRIPE_TEST_KEY,
  signUp,
  startBillingHarness,
  subscribe,
  subscriptionRow,
} from './billing-harness.ts';
import { createTestApp, TestClient, waitFor } from './helper.ts';

const RECONCILE_CRON = '7 */2 * * *';

let h: BillingHarness;
beforeAll(async () => {
  h = await startBillingHarness({ env: { JOB_POLL_INTERVAL_SECONDS: '0.5', RECONCILE_CRON } });
});
afterAll(async () => h?.close());

/** A user with a synced, trialing subscription. */
async function subscriber() {
  const account = await signUp(h.t);
  const { sessionId } = await subscribe(account.client);
  await account.client.post('/api/billing/sync/', { sessionId });
  await h.emulator.webhooks.flush();
  const row = (await subscriptionRow(h.t, account.userId))!;
  expect(row.status).toBe('trialing');
  return {
    ...account,
    organizationId: row.organizationId,
    customerId: row.stripeCustomerId,
    subscriptionId: row.stripeSubscriptionId!,
  };
}

async function staffClient() {
  const account = await signUp(h.t, `staff-${randomBytes(3).toString('hex')}@example.com`);
  await h.t.app.database.db.update(users).set({ isStaff: true }).where(eq(users.id, account.userId));
  return account.client;
}

/**
 * Stripe stops delivering to the app (the endpoint is deleted, as after a misconfiguration), for
 * the length of `work`; then the endpoint is created again. Events made meanwhile are never sent.
 */
async function withoutDeliveries<T>(work: () => Promise<T>): Promise<T> {
  await h.emulator.webhooks.flush();
  const endpoints = (await h.stripe.webhookEndpoints.list()).data;
  for (const endpoint of endpoints) await h.stripe.webhookEndpoints.del(endpoint.id);
  try {
    return await work();
  } finally {
    for (const endpoint of endpoints) {
      await h.stripe.webhookEndpoints.create({ url: endpoint.url, enabled_events: ['*'] });
    }
  }
}

const run = (options: Partial<ReconcileOptions> = {}) =>
  reconcile(h.t.app.billing!, createRunLock(h.t.app.database), {
    trigger: 'cli',
    eventAgeMinutes: 15,
    retryDelaysMs: [20, 50],
    ...options,
  });

async function billingStatus(client: TestClient) {
  return (await client.get('/api/billing/status/')).json().data as { status: string; isPro: boolean };
}

describe('reconciliation repairs what webhooks missed', () => {
  it('brings a subscriber whose webhooks were never delivered back in line with Stripe, and reports it', async () => {
    const canceled = await subscriber();
    const cancelingLater = await subscriber();
    const untouched = await subscriber();
    await withoutDeliveries(async () => {
      await h.stripe.subscriptions.cancel(canceled.subscriptionId);
      await h.stripe.subscriptions.update(cancelingLater.subscriptionId, { cancel_at_period_end: true });
    });
    // The app has not heard: it still shows both as they were.
    expect(await billingStatus(canceled.client)).toMatchObject({ status: 'trialing', isPro: true });
    expect((await subscriptionRow(h.t, cancelingLater.userId))?.cancelAtPeriodEnd).toBe(false);

    const result = await run();
    const report = result!.report!;

    expect(await billingStatus(canceled.client)).toMatchObject({ status: 'canceled', isPro: false });
    expect((await subscriptionRow(h.t, cancelingLater.userId))?.cancelAtPeriodEnd).toBe(true);
    const repairs = Object.fromEntries(report.repaired.map((repair) => [repair.organizationId, repair]));
    expect(repairs[canceled.organizationId]).toEqual({
      organizationId: canceled.organizationId,
      customerId: canceled.customerId,
      before: { status: 'trialing' },
      after: { status: 'canceled' },
    });
    expect(repairs[cancelingLater.organizationId]).toEqual({
      organizationId: cancelingLater.organizationId,
      customerId: cancelingLater.customerId,
      before: { cancelAtPeriodEnd: false },
      after: { cancelAtPeriodEnd: true },
    });
    expect(repairs[untouched.organizationId]).toBeUndefined();
    expect(report.customersChecked).toBeGreaterThanOrEqual(3);
    expect(report.errors).toEqual([]);

    // A second run finds nothing left to repair.
    const again = await run();
    expect(again!.report!.repaired).toEqual([]);
  });

  it('finds a customer whose row was lost, from the organization named in Stripe', async () => {
    const lost = await subscriber();
    await h.t.app.database.db
      .delete(subscriptions)
      .where(eq(subscriptions.organizationId, lost.organizationId));
    expect(await billingStatus(lost.client)).toMatchObject({ isPro: false });

    const report = (await run())!.report!;

    expect(await billingStatus(lost.client)).toMatchObject({ status: 'trialing', isPro: true });
    const repair = report.repaired.find((candidate) => candidate.organizationId === lost.organizationId);
    expect(repair).toMatchObject({
      customerId: lost.customerId,
      before: null,
      after: { subscriptionId: lost.subscriptionId, status: 'trialing', plan: 'pro' },
    });
  });

  it('lists so many repairs, and counts the rest', async () => {
    const drifted = [await subscriber(), await subscriber()];
    await withoutDeliveries(async () => {
      for (const user of drifted) await h.stripe.subscriptions.cancel(user.subscriptionId);
    });

    const report = (await run({ listed: 1 }))!.report!;

    expect(report.repaired).toHaveLength(1);
    expect(report.unlisted).toEqual({ repaired: 1, errors: 0 });
    expect(describeRun(report)[0]).toMatch(/ 2 repaired, /);
    for (const user of drifted) expect((await subscriptionRow(h.t, user.userId))?.status).toBe('canceled');
  });

  it('retries a customer Stripe answered 429 for', async () => {
    const limited = await subscriber();
    await withoutDeliveries(() => h.stripe.subscriptions.cancel(limited.subscriptionId));
    h.emulator.faults.failNext(1, '429', { pathPrefix: '/v1/subscriptions' });

    const report = (await run())!.report!;

    expect(report.errors).toEqual([]);
    expect((await subscriptionRow(h.t, limited.userId))?.status).toBe('canceled');
  });
});

describe('replaying events left unprocessed', () => {
  /** Delivers a Stripe event while Stripe fails the app's calls: recorded, not processed. */
  async function recordUnprocessed(event: Stripe.Event) {
    const payload = JSON.stringify(event);
    h.emulator.faults.failNext(1, '500');
    const res = await deliverSigned(h, payload);
    expect(res.statusCode).toBe(502);
    const [row] = await h.t.app.database.db
      .select()
      .from(webhookEvents)
      .where(eq(webhookEvents.eventId, event.id));
    expect(row).toMatchObject({ processed: false, lockedUntil: null });
  }

  const age = (eventId: string, minutes: number, lockedForSeconds?: number) =>
    h.t.app.database.db
      .update(webhookEvents)
      .set({
        createdAt: new Date(Date.now() - minutes * 60_000),
        ...(lockedForSeconds ? { lockedUntil: new Date(Date.now() + lockedForSeconds * 1000) } : {}),
      })
      .where(eq(webhookEvents.eventId, eventId));

  const processed = async (eventId: string) =>
    (await h.t.app.database.db.select().from(webhookEvents).where(eq(webhookEvents.eventId, eventId)))[0]
      ?.processed;

  it('processes an old unprocessed event; leaves a fresh one and one an instance still holds', async () => {
    const user = await subscriber();
    const events = await withoutDeliveries(async () => {
      for (const cancel of [true, false, true]) {
        await h.stripe.subscriptions.update(user.subscriptionId, { cancel_at_period_end: cancel });
      }
      const listed = await h.stripe.events.list({ type: 'customer.subscription.updated', limit: 10 });
      return listed.data
        .filter((event) => (event.data.object as Stripe.Subscription).id === user.subscriptionId)
        .reverse();
    });
    expect(events).toHaveLength(3);
    const [old, fresh, held] = events as [Stripe.Event, Stripe.Event, Stripe.Event];
    for (const event of events) await recordUnprocessed(event);
    await age(old.id, 20);
    await age(fresh.id, 5);
    await age(held.id, 20, 3600);

    const report = (await run())!.report!;

    expect(report.eventsReplayed).toEqual([{ eventId: old.id, ok: true }]);
    expect(await processed(old.id)).toBe(true);
    expect(await processed(fresh.id)).toBe(false);
    expect(await processed(held.id)).toBe(false);
    // The state itself is Stripe's, whichever events were processed.
    expect((await subscriptionRow(h.t, user.userId))?.cancelAtPeriodEnd).toBe(true);

    // Once the fresh one is old enough, the next run takes it.
    await age(fresh.id, 16);
    const next = (await run())!.report!;
    expect(next.eventsReplayed).toEqual([{ eventId: fresh.id, ok: true }]);
    expect(await processed(held.id)).toBe(false);
  });
});

describe('one run at a time', () => {
  it('a second run started while one is in progress does nothing', async () => {
    await subscriber();
    const [first, second] = await Promise.all([run(), run()]);
    expect([first, second].filter((result) => result === null)).toHaveLength(1);
    const ran = (first ?? second)!;
    const stored = await h.t.app.database.db
      .select()
      .from(reconciliationRuns)
      .where(eq(reconciliationRuns.startedAt, new Date(ran.startedAt)));
    expect(stored).toHaveLength(1);
    // And once it is over, the next one runs.
    expect(await run()).not.toBeNull();
  });

  it('marks a run its process never finished as interrupted', async () => {
    const db = h.t.app.database.db;
    // As left by an instance that died mid-run (its lock went with its connection).
    const [crashed] = await db
      .insert(reconciliationRuns)
      .values({ trigger: 'schedule', startedAt: new Date(Date.now() - 60_000) })
      .returning();
    const latest = await run();
    const runs = await listRuns(db, RUNS_KEPT);
    expect(runs[0]).toMatchObject({ id: latest!.id, status: 'finished' });
    expect(runs.find((entry) => entry.id === crashed!.id)).toMatchObject({
      status: 'interrupted',
      finishedAt: expect.any(String),
      report: null,
    });
  });

  it('stops when the process shuts down, and says so in its report', async () => {
    const shutdown = new AbortController();
    shutdown.abort();
    const report = (await run({ signal: shutdown.signal }))!.report!;
    expect(report.customersChecked).toBe(0);
    expect(report.errors).toEqual([{ message: 'stopped before the end: the process is shutting down' }]);
  });

  it('keeps the latest reports only', async () => {
    const db = h.t.app.database.db;
    await db.insert(reconciliationRuns).values(
      Array.from({ length: RUNS_KEPT + 5 }, (_, index) => ({
        trigger: 'schedule' as const,
        startedAt: new Date(Date.UTC(2020, 0, 1, 0, index)),
        finishedAt: new Date(Date.UTC(2020, 0, 1, 0, index, 30)),
        report: {},
      })),
    );
    const latest = await run();
    const [{ count }] = (await db.select({ count: sql<number>`count(*)::int` }).from(reconciliationRuns)) as [
      { count: number },
    ];
    expect(count).toBe(RUNS_KEPT);
    const kept = await db.select().from(reconciliationRuns).where(eq(reconciliationRuns.id, latest!.id));
    expect(kept).toHaveLength(1);
  });
});

describe('the schedule', () => {
  it('reads RECONCILE_CRON: five cron fields, or off', () => {
    expect(loadConfig({}).reconcile).toEqual({ cron: '41 * * * *', eventAgeMinutes: 15 });
    expect(loadConfig({ RECONCILE_CRON: 'off' }).reconcile.cron).toBeNull();
    expect(() => loadConfig({ RECONCILE_CRON: 'hourly' })).toThrow(
      /RECONCILE_CRON: must be a cron expression/,
    );
  });

  it('is declared with pg-boss on RECONCILE_CRON', async () => {
    const rows = await h.t.app.database.query<{ cron: string; data: unknown }>(
      `select cron, data from ${JOB_SCHEMA}.schedule where name = 'billing.reconcile'`,
    );
    expect(rows).toEqual([{ cron: RECONCILE_CRON, data: { trigger: 'schedule' } }]);
  });
});

describe('stripe:reconcile', () => {
  it('prints the report, as a summary or as JSON', async () => {
    const user = await subscriber();
    await withoutDeliveries(() => h.stripe.subscriptions.cancel(user.subscriptionId));
    const lines: string[] = [];
    const print = (line: string) => lines.push(line);
    const { config, app } = h.t;

    expect(await reconcileCommand(config, app.database, app.mailer, [], print)).toBe(true);
    expect(lines[0]).toMatch(
      /^Reconciliation finished in \d+\.\d s: \d+ customers checked, 1 repaired, 0 events replayed, 0 errors\.$/,
    );
    expect(lines).toContain(
      `  repaired ${user.organizationId} (${user.customerId}): status trialing → canceled`,
    );

    lines.length = 0;
    expect(await reconcileCommand(config, app.database, app.mailer, ['--json'], print)).toBe(true);
    const printed = JSON.parse(lines.join('\n')) as ReconciliationRun;
    expect(printed).toMatchObject({
      trigger: 'cli',
      status: 'finished',
      report: { repaired: [], errors: [] },
    });

    await expect(reconcileCommand(config, app.database, app.mailer, ['--jsno'], print)).rejects.toThrow(
      /Usage: stripe:reconcile/,
    );
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'runs as `npm run cli -- stripe:reconcile` in a process of its own (skipped on PGlite: an in-memory database cannot be shared with a child process)',
    async () => {
      const user = await subscriber();
      await withoutDeliveries(() =>
        h.stripe.subscriptions.update(user.subscriptionId, { cancel_at_period_end: true }),
      );
      const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '../src/cli.ts');
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', cli, 'stripe:reconcile'],
        {
          env: {
            PATH: process.env.PATH,
            NODE_ENV: 'test',
            DATABASE_URL: h.t.database.databaseUrl,
            STRIPE_SECRET_KEY: STRIPE_TEST_KEY,
            STRIPE_API_BASE: h.emulator.url,
            STRIPE_WEBHOOK_SECRET: h.emulator.webhookSecret,
          },
        },
      );
      expect(stdout).toContain(
        `  repaired ${user.organizationId} (${user.customerId}): cancelAtPeriodEnd false → true`,
      );
      expect((await subscriptionRow(h.t, user.userId))?.cancelAtPeriodEnd).toBe(true);
    },
    60_000,
  );
});

describe('admin', () => {
  it('staff see the latest reports and can start a run; others cannot', async () => {
    const user = await subscriber();
    const staff = await staffClient();
    const anonymous = new TestClient(h.t.app);

    expect((await user.client.get('/api/admin/reconciliation/')).statusCode).toBe(403);
    expect((await user.client.post('/api/admin/reconciliation/run/')).statusCode).toBe(403);
    expect((await anonymous.get('/api/admin/reconciliation/')).statusCode).toBe(401);
    // No CSRF token: refused before anything is queued.
    const forged = await h.t.app.inject({
      method: 'POST',
      url: '/api/admin/reconciliation/run/',
      headers: { cookie: staff.cookieHeader },
    });
    expect(forged.json()).toMatchObject({ code: 'CSRF_FAILED', status: 403 });

    await withoutDeliveries(() => h.stripe.subscriptions.cancel(user.subscriptionId));
    const before = (await staff.get('/api/admin/reconciliation/?limit=1')).json().data
      .runs as ReconciliationRun[];

    const started = await staff.post('/api/admin/reconciliation/run/');
    expect(started.statusCode).toBe(202);
    expect(started.json().data).toEqual({ queued: true, jobId: expect.any(String) });
    // One queued or running at a time.
    const twice = await staff.post('/api/admin/reconciliation/run/');
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({ success: false, code: 'CONFLICT', status: 409 });
    // The run is a staff action: it is in the audit log, naming the job; the refused one is not.
    const audit = (await staff.get('/api/admin/audit-log/')).json().data.entries as {
      action: string;
      targetId: string;
    }[];
    expect(audit.filter((entry) => entry.action === 'reconciliation.run')).toEqual([
      expect.objectContaining({ targetId: started.json().data.jobId }),
    ]);

    const latest = await waitFor(async () => {
      const runs = (await staff.get('/api/admin/reconciliation/?limit=1')).json().data
        .runs as ReconciliationRun[];
      const [top] = runs;
      return top && top.id !== before[0]?.id && top.status === 'finished' ? top : undefined;
    });
    expect(latest).toMatchObject({ trigger: 'admin', status: 'finished' });
    expect(latest.report?.repaired).toContainEqual({
      organizationId: user.organizationId,
      customerId: user.customerId,
      before: { status: 'trialing' },
      after: { status: 'canceled' },
    });
    expect((await subscriptionRow(h.t, user.userId))?.status).toBe('canceled');
  });

  it('answers 503 to a run while billing is not configured', async () => {
    const t = await createTestApp();
    try {
      const staff = await signUp(t, 'staff@example.com');
      await t.app.database.db.update(users).set({ isStaff: true }).where(eq(users.id, staff.userId));
      expect((await staff.client.get('/api/admin/reconciliation/')).json().data).toEqual({ runs: [] });
      const res = await staff.client.post('/api/admin/reconciliation/run/');
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ success: false, code: 'SERVICE_UNAVAILABLE', status: 503 });
    } finally {
      await t.close();
    }
  });
});
