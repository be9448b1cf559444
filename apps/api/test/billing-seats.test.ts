import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncSeats } from '../src/billing/seats.ts';
import { subscriptionForOrganization } from '../src/billing/subscriptions.ts';
import { SEAT_SYNC_QUEUE } from '../src/organizations/seats.ts';
import {
  advance,
  type BillingHarness,
  DAY,
  signUp,
  startBillingHarness,
  subscribe,
} from './billing-harness.ts';
import { waitFor } from './helper.ts';
import { createTeam, joinedMember } from './organizations.helpers.ts';

let h: BillingHarness;
beforeAll(async () => {
  h = await startBillingHarness({ env: { JOB_POLL_INTERVAL_SECONDS: '0.5', JOB_STOP_TIMEOUT_SECONDS: '1' } });
});
afterAll(async () => h?.close());

/** The organization's seat sync jobs that have not finished (queued, waiting to retry, or running). */
async function pendingJobs(organizationId: string): Promise<number> {
  const [row] = await h.t.app.database.query<{ count: string }>(
    `select count(*)::text as count from pgboss.job
     where name = $1 and data->>'organizationId' = $2 and state in ('created', 'retry', 'active')`,
    [SEAT_SYNC_QUEUE, organizationId],
  );
  return Number(row?.count ?? 0);
}

async function settled(organizationId: string) {
  await waitFor(async () => (await pendingJobs(organizationId)) === 0, 30_000);
  await h.emulator.webhooks.flush();
}

async function quantityInStripe(subscriptionId: string) {
  return (await h.stripe.subscriptions.retrieve(subscriptionId)).items.data[0]!.quantity;
}

/** The invoices that seat changes made (each always_invoice update with a proration makes one). */
async function seatInvoices(subscriptionId: string): Promise<Stripe.Invoice[]> {
  const all = await h.stripe.invoices.list({ subscription: subscriptionId, limit: 100 });
  return all.data.filter((invoice) => invoice.billing_reason === 'subscription_update');
}

const prorated = (invoice: Stripe.Invoice) =>
  invoice.lines.data.map((line) => ({
    amount: line.amount,
    quantity: line.quantity,
    proration: Boolean(line.parent?.subscription_item_details?.proration),
  }));

/** A team of one (its owner) on Pro monthly, past the trial and a few days into a paid month. */
async function payingTeam() {
  const { client: owner } = await signUp(h.t);
  const organizationId = await createTeam(owner);
  const { sessionId } = await subscribe(owner, 'month');
  const synced = await owner.post('/api/billing/sync/', { sessionId });
  expect(synced.statusCode).toBe(200);
  const row = (await subscriptionForOrganization(h.t.app.database.db, organizationId))!;
  expect(row.quantity).toBe(1);
  const trialEnd = Math.floor(row.trialEnd!.getTime() / 1000);
  await advance(h, row.stripeCustomerId, (trialEnd + 3600) * 1000);
  await advance(h, row.stripeCustomerId, (trialEnd + 10 * DAY) * 1000);
  const subscriptionId = row.stripeSubscriptionId!;
  expect((await h.stripe.subscriptions.retrieve(subscriptionId)).status).toBe('active');
  return { owner, organizationId, subscriptionId, customerId: row.stripeCustomerId };
}

describe('seats follow the members of a team', () => {
  it('a member joins: 2 seats with a prorated charge; leaves: 1 with a credit; joins again: 2', async () => {
    const { owner, organizationId, subscriptionId } = await payingTeam();

    const member = await joinedMember(h.t, owner, organizationId);
    await settled(organizationId);
    expect(await quantityInStripe(subscriptionId)).toBe(2);
    const [added] = await seatInvoices(subscriptionId);
    expect(added).toMatchObject({ status: 'paid' });
    const addedLines = prorated(added!);
    expect(addedLines.every((line) => line.proration)).toBe(true);
    expect(addedLines.map((line) => line.quantity)).toEqual([1, 2]);
    // Two seats for the rest of the month, less the one already paid for: one seat's remaining time.
    expect(added!.total).toBeGreaterThan(0);
    expect(added!.total).toBeLessThan(1_900);
    expect(added!.total).toBe(addedLines[0]!.amount + addedLines[1]!.amount);
    // The row follows, through the sync; the status shows Pro still.
    expect((await subscriptionForOrganization(h.t.app.database.db, organizationId))!.quantity).toBe(2);

    const removed = await owner.request({
      method: 'DELETE',
      url: `/api/organizations/${organizationId}/members/${member.user.id}/`,
    });
    expect(removed.statusCode).toBe(200);
    await settled(organizationId);
    expect(await quantityInStripe(subscriptionId)).toBe(1);
    const credit = (await seatInvoices(subscriptionId))[0]!;
    expect(credit.id).not.toBe(added!.id);
    expect(credit.total).toBeLessThan(0);
    expect((await subscriptionForOrganization(h.t.app.database.db, organizationId))!.quantity).toBe(1);

    // The same member again: the same target quantity (2) as the first change, but a new
    // membership, so it is applied — not taken for a retry of the first change.
    await joinedMember(h.t, owner, organizationId);
    await settled(organizationId);
    expect(await quantityInStripe(subscriptionId)).toBe(2);
    expect(await seatInvoices(subscriptionId)).toHaveLength(3);
  });

  it('duplicated and concurrent runs update Stripe once', async () => {
    const { owner, organizationId, subscriptionId } = await payingTeam();
    await joinedMember(h.t, owner, organizationId);
    // The job the join queued, two duplicates of it, and two direct runs, all at once.
    await h.t.app.jobs.send(SEAT_SYNC_QUEUE, { organizationId });
    await h.t.app.jobs.send(SEAT_SYNC_QUEUE, { organizationId });
    const billing = h.t.app.billing!;
    const direct = await Promise.all([
      syncSeats(billing, organizationId),
      syncSeats(billing, organizationId),
    ]);
    await settled(organizationId);
    expect(await quantityInStripe(subscriptionId)).toBe(2);
    expect(await seatInvoices(subscriptionId)).toHaveLength(1);
    expect(direct.filter((run) => run.outcome === 'updated').length).toBeLessThanOrEqual(1);
    // Run again once everything has settled: nothing left to do.
    expect(await syncSeats(billing, organizationId)).toEqual({ outcome: 'unchanged', quantity: 2 });
    const events = await h.stripe.events.list({ type: 'customer.subscription.updated', limit: 100 });
    const quantityChanges = events.data.filter((event) => {
      const object = event.data.object as Stripe.Subscription;
      const before = event.data.previous_attributes as { items?: { data: { quantity?: number }[] } };
      const was = before?.items?.data[0]?.quantity;
      return object.id === subscriptionId && was !== undefined && was !== object.items.data[0]?.quantity;
    });
    expect(quantityChanges).toHaveLength(1);
  });

  it('Stripe down: the job fails, is retried later, and the seats converge', async () => {
    const { owner, organizationId, subscriptionId } = await payingTeam();
    await settled(organizationId);
    h.emulator.faults.failNext(1, '500', {
      pathPrefix: `/v1/subscriptions/${subscriptionId}`,
      method: 'POST',
    });
    await joinedMember(h.t, owner, organizationId);
    // The first attempt meets the outage and waits for its retry (30 s later by the queue's rule).
    const [retrying] = await waitFor(async () => {
      const rows = await h.t.app.database.query<{ id: string; retry_count: number }>(
        `select id, retry_count from pgboss.job where name = $1 and data->>'organizationId' = $2 and state = 'retry'`,
        [SEAT_SYNC_QUEUE, organizationId],
      );
      return rows.length > 0 ? rows : undefined;
    }, 30_000);
    expect(await quantityInStripe(subscriptionId)).toBe(1);
    // Time passes: the retry is due now.
    await h.t.app.database.query(`update pgboss.job set start_after = now() where id = $1`, [retrying!.id]);
    await settled(organizationId);
    expect(await quantityInStripe(subscriptionId)).toBe(2);
    const [done] = await h.t.app.database.query<{ state: string; retry_count: number }>(
      'select state::text, retry_count from pgboss.job where id = $1',
      [retrying!.id],
    );
    expect(done).toMatchObject({ state: 'completed', retry_count: 1 });
    expect(await seatInvoices(subscriptionId)).toHaveLength(1);
  });

  it('a team switches to yearly keeping its seats; a member may not change the plan', async () => {
    const { owner, organizationId, subscriptionId } = await payingTeam();
    const member = await joinedMember(h.t, owner, organizationId);
    await settled(organizationId);
    // The member acts in the team (accepting made it their active workspace), but does not manage billing.
    const refused = await member.client.post('/api/billing/plan-change/preview/', { interval: 'year' });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('PERMISSION_DENIED');

    const preview = await owner.post('/api/billing/plan-change/preview/', { interval: 'year' });
    expect(preview.statusCode).toBe(200);
    const p = preview.json().data;
    expect(p.nextPaymentAmount).toBe(2 * 19_000);
    const res = await owner.post('/api/billing/plan-change/', {
      interval: 'year',
      prorationDate: p.prorationDate,
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.invoice).toMatchObject({ total: p.total, status: 'paid' });
    const subscription = await h.stripe.subscriptions.retrieve(subscriptionId);
    expect(subscription.items.data[0]).toMatchObject({
      quantity: 2,
      price: { lookup_key: 'tierbase_pro_yearly' },
    });
    expect(await subscriptionForOrganization(h.t.app.database.db, organizationId)).toMatchObject({
      interval: 'year',
      quantity: 2,
    });
  });

  it('leaves a team without a subscription alone', async () => {
    const { client: owner } = await signUp(h.t);
    const organizationId = await createTeam(owner);
    await joinedMember(h.t, owner, organizationId);
    await settled(organizationId);
    expect(await syncSeats(h.t.app.billing!, organizationId)).toEqual({ outcome: 'no-subscription' });
  });
});
