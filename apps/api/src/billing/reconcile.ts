import {
  ErrorCode,
  type ReconciliationReport,
  type ReconciliationRun,
  type ReconciliationTrigger,
} from '@tierbase/contracts';
import { desc, eq, isNull, notInArray } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Database, DatabaseHandle } from '../db/client.ts';
import { reconciliationRuns } from '../db/schema/billing.ts';
import { AppError } from '../errors.ts';
import { findOrganizations } from '../organizations/members.ts';
import { StripeObjectMissing, Stripe as StripeSdk } from './stripe-client.ts';
import { syncCustomer } from './subscription-sync.ts';
import { customerIdsAfter, type SubscriptionRow, subscriptionsForOrganizations } from './subscriptions.ts';
import { replayEvents, type WebhookDeps } from './webhooks.ts';

/**
 * Reconciliation: the safety net under the webhooks. A delivery Stripe gave up on, an endpoint that
 * was down or misconfigured, an instance that died holding an event: each leaves the database
 * behind Stripe. A run replays the events recorded but left unprocessed, then reads every
 * customer's subscriptions from Stripe and writes them through the one sync function
 * (`syncCustomer`), reporting each row that differed. It changes nothing a correct webhook would
 * not have changed.
 */

export interface ReconcileOptions {
  trigger: ReconciliationTrigger;
  /** Unprocessed events recorded longer ago than this are replayed (younger ones may be in flight). */
  eventAgeMinutes: number;
  /** Customers synced at the same time; each is a few Stripe calls. */
  concurrency?: number;
  /** Waits before each retry of a customer Stripe failed on (429, 5xx, timeout). */
  retryDelaysMs?: number[];
  /** Repairs and errors listed in the report at most; more are counted. Default {@link LISTED_PER_REPORT}. */
  listed?: number;
  /** Stops the run between customers (shutdown); what was done is still reported. */
  signal?: AbortSignal;
}

const PAGE_SIZE = 100;
const DEFAULT_CONCURRENCY = 4;
// Stripe's rate limit answers 429 and the SDK retries it only when Stripe marks it retryable, so a
// failed customer waits and is tried again here; 4 at a time stays well under the limits.
const DEFAULT_RETRY_DELAYS_MS = [1_000, 5_000, 15_000];
/** Events replayed per run at most, oldest first; the next run takes the rest. */
const EVENTS_PER_RUN = 500;
/** Repairs and errors listed in one report at most (after a restore, every row may differ); the rest are counted. */
export const LISTED_PER_REPORT = 1000;
/** Reports kept; older runs are deleted. */
export const RUNS_KEPT = 50;

/** Runs `work` unless another run holds the lock (on any instance); `ran: false` then. */
export type RunLock = <T>(work: () => Promise<T>) => Promise<{ ran: true; value: T } | { ran: false }>;

// The two-key form of the advisory lock lives apart from the one-key locks of customer-lock.ts.
const LOCK_SQL_KEYS = "hashtext('tierbase'), hashtext('billing.reconcile')";
/** PGlite is one process: the instances running there, by database. */
const runningOn = new WeakSet<object>();

/**
 * One reconciliation at a time across all instances, whoever starts it (the schedule, the CLI, an
 * admin). On PostgreSQL a session advisory lock on a connection held for the run: if the process
 * dies the connection closes and the lock goes with it, so a crash never leaves it taken.
 */
export function createRunLock(handle: DatabaseHandle): RunLock {
  const pool = handle.pool;
  if (handle.kind === 'postgres' && pool) {
    return async (work) => {
      const client = await pool.connect();
      let locked: boolean;
      try {
        const { rows } = await client.query<{ locked: boolean }>(
          `select pg_try_advisory_lock(${LOCK_SQL_KEYS}) as locked`,
        );
        locked = rows[0]?.locked === true;
      } catch (error) {
        client.release(true);
        throw error;
      }
      if (!locked) {
        client.release();
        return { ran: false };
      }
      try {
        return { ran: true, value: await work() };
      } finally {
        // A connection that cannot unlock is closed instead, which unlocks.
        const unlocked = await client.query(`select pg_advisory_unlock(${LOCK_SQL_KEYS})`).then(
          () => true,
          () => false,
        );
        client.release(!unlocked);
      }
    };
  }
  const key: object = handle.pglite ?? handle;
  return async (work) => {
    if (runningOn.has(key)) return { ran: false };
    runningOn.add(key);
    try {
      return { ran: true, value: await work() };
    } finally {
      runningOn.delete(key);
    }
  };
}

/** Runs one reconciliation and stores its report; null when another run is in progress. */
export async function reconcile(
  deps: WebhookDeps,
  lock: RunLock,
  options: ReconcileOptions,
): Promise<ReconciliationRun | null> {
  const outcome = await lock(() => run(deps, options));
  return outcome.ran ? outcome.value : null;
}

async function run(deps: WebhookDeps, options: ReconcileOptions): Promise<ReconciliationRun> {
  const startedAt = new Date();
  // This run holds the lock, so a run still marked unfinished was cut short (its process died).
  await deps.db
    .update(reconciliationRuns)
    .set({ finishedAt: startedAt })
    .where(isNull(reconciliationRuns.finishedAt));
  const [started] = await deps.db
    .insert(reconciliationRuns)
    .values({ trigger: options.trigger, startedAt })
    .returning({ id: reconciliationRuns.id });
  const report: ReconciliationReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: startedAt.toISOString(),
    customersChecked: 0,
    repaired: [],
    eventsReplayed: [],
    errors: [],
    unlisted: { repaired: 0, errors: 0 },
  };
  // Each step runs even if the one before failed; a failure is reported, and the next run retries.
  const steps = [replayStaleEvents, checkRecordedCustomers, checkStripeCustomers];
  for (const step of steps) {
    if (options.signal?.aborted) {
      report.errors.push({ message: 'stopped before the end: the process is shutting down' });
      break;
    }
    try {
      await step(deps, options, report);
    } catch (error) {
      note(report, options, 'errors', { message: messageOf(error) });
    }
  }
  const finishedAt = new Date();
  report.finishedAt = finishedAt.toISOString();
  await deps.db
    .update(reconciliationRuns)
    .set({ finishedAt, report })
    .where(eq(reconciliationRuns.id, started!.id));
  await pruneRuns(deps.db);
  return {
    id: started!.id,
    trigger: options.trigger,
    status: 'finished',
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    report,
  };
}

/** Events recorded but not processed, older than the threshold and held by no instance. */
async function replayStaleEvents(deps: WebhookDeps, options: ReconcileOptions, report: ReconciliationReport) {
  const recordedBefore = new Date(Date.now() - options.eventAgeMinutes * 60_000);
  const results = await replayEvents(deps, { recordedBefore, limit: EVENTS_PER_RUN });
  report.eventsReplayed.push(...results);
}

/** Every customer with a row, in pages by customer id (constant memory however many there are). */
async function checkRecordedCustomers(
  deps: WebhookDeps,
  options: ReconcileOptions,
  report: ReconciliationReport,
) {
  let after = '';
  for (;;) {
    const page = await customerIdsAfter(deps.db, after, PAGE_SIZE);
    if (page.length === 0) return;
    await eachLimited(page, options, (customerId) => checkCustomer(deps, customerId, options, report));
    after = page.at(-1)!;
  }
}

/**
 * Stripe's customers that name one of our organizations (or, made before organizations, a user,
 * whose personal workspace inherited it) that has no row: the row was lost (a failure between
 * creating the customer and recording it, a restore from an older backup). Syncing adopts the
 * customer, as a webhook for it would. Customers of others or of no one are left alone.
 */
async function checkStripeCustomers(
  deps: WebhookDeps,
  options: ReconcileOptions,
  report: ReconciliationReport,
) {
  let batch: Stripe.Customer[] = [];
  const flush = async () => {
    const candidates = await unrecorded(deps.db, batch);
    batch = [];
    await eachLimited(candidates, options, (customerId) => checkCustomer(deps, customerId, options, report));
  };
  for await (const customer of deps.stripe.customers.list({ limit: PAGE_SIZE })) {
    if (!customer.metadata?.organization_id && !customer.metadata?.user_id) continue;
    batch.push(customer);
    if (batch.length === PAGE_SIZE) await flush();
  }
  await flush();
}

/** Of these customers, those whose organization (or user's personal one) exists and has no row yet. */
async function unrecorded(db: Database, customers: Stripe.Customer[]): Promise<string[]> {
  if (customers.length === 0) return [];
  const named = (key: 'organization_id' | 'user_id') => [
    ...new Set(customers.flatMap((customer) => customer.metadata[key] ?? [])),
  ];
  const organizationIds = named('organization_id');
  const userIds = named('user_id');
  const found = await findOrganizations(db, { ids: organizationIds, personalUserIds: userIds });
  const recorded = await subscriptionsForOrganizations(
    db,
    found.map((organization) => organization.id),
  );
  const orphans = found.filter((organization) => !recorded.has(organization.id));
  const ids = new Set(orphans.map((organization) => organization.id));
  const users = new Set(orphans.flatMap((organization) => organization.personalUserId ?? []));
  return customers
    .filter((customer) => {
      const { organization_id: organizationId, user_id: userId } = customer.metadata;
      return organizationId ? ids.has(organizationId) : Boolean(userId && users.has(userId));
    })
    .map((customer) => customer.id);
}

async function checkCustomer(
  deps: WebhookDeps,
  customerId: string,
  options: ReconcileOptions,
  report: ReconciliationReport,
) {
  const delays = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      const synced = await syncCustomer(deps, customerId);
      report.customersChecked += 1;
      if (!synced) return;
      const before = synced.previous ? tracked(synced.previous) : null;
      const after = tracked(synced.row);
      const changed = Object.keys(after).filter((field) => before?.[field] !== after[field]);
      if (changed.length > 0) {
        note(report, options, 'repaired', {
          organizationId: synced.row.organizationId,
          customerId,
          before: before && pick(before, changed),
          after: pick(after, changed),
        });
      }
      return;
    } catch (error) {
      const delay = delays[attempt];
      if (delay === undefined || !transient(error) || options.signal?.aborted) {
        note(report, options, 'errors', { customerId, message: messageOf(error) });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

function note<K extends 'repaired' | 'errors'>(
  report: ReconciliationReport,
  options: ReconcileOptions,
  list: K,
  entry: ReconciliationReport[K][number],
) {
  if (report[list].length < (options.listed ?? LISTED_PER_REPORT)) {
    (report[list] as ReconciliationReport[K][number][]).push(entry);
  } else {
    report.unlisted[list] += 1;
  }
}

/** A Stripe failure worth another try: not a customer Stripe no longer has. */
const transient = (error: unknown) =>
  error instanceof AppError &&
  error.code === ErrorCode.BILLING_PROVIDER_ERROR &&
  !(error instanceof StripeObjectMissing);

/** The fields that decide what the user sees and may do, as the report shows them. */
function tracked(row: SubscriptionRow): Record<string, string | boolean | null> {
  return {
    subscriptionId: row.stripeSubscriptionId,
    status: row.status,
    plan: row.plan,
    priceId: row.priceId,
    currentPeriodEnd: row.currentPeriodEnd?.toISOString() ?? null,
    cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    trialEnd: row.trialEnd?.toISOString() ?? null,
  };
}

const pick = <T>(record: Record<string, T>, keys: string[]) =>
  Object.fromEntries(keys.map((key) => [key, record[key] as T]));

/** Runs `work` over `items`, `concurrency` at a time; stops starting new ones once aborted. */
async function eachLimited<T>(items: T[], options: ReconcileOptions, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      if (options.signal?.aborted) throw new Error('stopped before the end: the process is shutting down');
      await work(items[next++]!);
    }
  };
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  // Every worker finishes its customer before the step ends, so nothing writes to a stored report.
  const settled = await Promise.allSettled(
    Array.from({ length: Math.min(concurrency, items.length) }, worker),
  );
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Our own errors carry safe, generic messages. A Stripe error (from listing customers, which is
 * not wrapped in callStripe) is named by its kind only: its text can name customers or amounts.
 */
function messageOf(error: unknown): string {
  if (error instanceof StripeSdk.errors.StripeError) {
    return `Stripe failed: ${error.type}${error.statusCode ? ` (HTTP ${error.statusCode})` : ''}`;
  }
  const message = error instanceof Error ? error.message : String(error);
  return message.slice(0, 500);
}

async function pruneRuns(db: Database) {
  const kept = db
    .select({ id: reconciliationRuns.id })
    .from(reconciliationRuns)
    .orderBy(desc(reconciliationRuns.startedAt))
    .limit(RUNS_KEPT);
  await db.delete(reconciliationRuns).where(notInArray(reconciliationRuns.id, kept));
}

/** The latest runs, newest first, for the admin console. */
export async function listRuns(db: Database, limit: number): Promise<ReconciliationRun[]> {
  const rows = await db
    .select()
    .from(reconciliationRuns)
    .orderBy(desc(reconciliationRuns.startedAt))
    .limit(limit);
  return rows.map((row) => ({
    id: row.id,
    trigger: row.trigger,
    status: row.finishedAt === null ? 'running' : row.report ? 'finished' : 'interrupted',
    startedAt: row.startedAt.toISOString(),
    finishedAt: row.finishedAt?.toISOString() ?? null,
    report: (row.report as ReconciliationReport | null) ?? null,
  }));
}

/** What a run did, in numbers (for the logs and the CLI's first line). */
export function countsOf(report: ReconciliationReport) {
  return {
    customersChecked: report.customersChecked,
    repaired: report.repaired.length + report.unlisted.repaired,
    eventsReplayed: report.eventsReplayed.length,
    errors: report.errors.length + report.unlisted.errors,
  };
}

/** The report as text, one line per fact, for the CLI. */
export function describeRun(report: ReconciliationReport): string[] {
  const seconds = (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000;
  const counts = countsOf(report);
  const lines = [
    `Reconciliation finished in ${seconds.toFixed(1)} s: ${counts.customersChecked} customers checked, ` +
      `${counts.repaired} repaired, ${counts.eventsReplayed} events replayed, ${counts.errors} errors.`,
  ];
  for (const repair of report.repaired) {
    const fields = Object.keys(repair.after).map(
      (field) => `${field} ${String(repair.before?.[field] ?? '∅')} → ${String(repair.after[field] ?? '∅')}`,
    );
    lines.push(
      `  repaired ${repair.organizationId ?? repair.userId} (${repair.customerId}): ${fields.join('; ')}`,
    );
  }
  for (const event of report.eventsReplayed) {
    lines.push(`  replayed ${event.eventId}: ${event.ok ? 'processed' : `failed: ${event.error}`}`);
  }
  for (const error of report.errors) {
    const subject = error.customerId ?? error.eventId;
    lines.push(`  error${subject ? ` ${subject}` : ''}: ${error.message}`);
  }
  const { repaired, errors } = report.unlisted;
  if (repaired + errors > 0) lines.push(`  (${repaired} more repairs and ${errors} more errors not listed)`);
  return lines;
}
