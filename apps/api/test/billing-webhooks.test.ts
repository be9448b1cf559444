import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayCommand } from '../src/billing/commands.ts';
import { webhookEvents } from '../src/db/schema/index.ts';
import {
  advance,
  type BillingHarness,
  emailsFor,
  signUp,
  startBillingHarness,
  subscribe,
  subscriptionRow,
} from './billing-harness.ts';

let h: BillingHarness;
let second: BillingHarness;
beforeAll(async () => {
  h = await startBillingHarness();
  // A second app instance on the same database and the same emulator, as behind a load balancer.
  second = await startBillingHarness({ database: h.t.database, emulator: h.emulator });
});
afterAll(async () => {
  await second?.close();
  await h?.close();
});

const secret = () => h.emulator.webhookSecret;

function signed(payload: string, options: { secret?: string; timestamp?: number } = {}) {
  return Stripe.webhooks.generateTestHeaderString({
    payload,
    secret: options.secret ?? secret(),
    ...(options.timestamp ? { timestamp: options.timestamp } : {}),
  });
}

function deliver(app: BillingHarness, payload: string, signature?: string) {
  return app.t.app.inject({
    method: 'POST',
    url: '/api/stripe/webhook/',
    headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) },
    payload,
  });
}

const eventPayload = (
  type: string,
  object: Record<string, unknown>,
  id = `evt_${randomBytes(8).toString('hex')}`,
) =>
  JSON.stringify({
    id,
    object: 'event',
    type,
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object },
  });

async function recorded(eventId: string) {
  return h.t.app.database.db.select().from(webhookEvents).where(eq(webhookEvents.eventId, eventId));
}

describe('Stripe webhook: signatures', () => {
  it.each([
    ['no signature', (_payload: string) => undefined],
    ['a wrong secret', (p: string) => signed(p, { secret: 'whsec_not_the_one' })],
    ['a stale timestamp', (p: string) => signed(p, { timestamp: Math.floor(Date.now() / 1000) - 301 })],
    ['a garbage header', (_p: string) => 't=1,v1=deadbeef'],
  ])('refuses %s with 400 and stores nothing', async (_name, sign) => {
    const id = `evt_${randomBytes(8).toString('hex')}`;
    const payload = eventPayload('customer.created', { id: 'cus_x', object: 'customer' }, id);
    const res = await deliver(h, payload, sign(payload));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ success: false, code: 'INVALID_SIGNATURE', status: 400 });
    expect(await recorded(id)).toHaveLength(0);
  });

  it('refuses a tampered body', async () => {
    const id = `evt_${randomBytes(8).toString('hex')}`;
    const payload = eventPayload('invoice.paid', { id: 'in_1', object: 'invoice', customer: 'cus_1' }, id);
    const res = await deliver(h, payload.replace('in_1', 'in_2'), signed(payload));
    expect(res.statusCode).toBe(400);
    expect(await recorded(id)).toHaveLength(0);
  });

  it('refuses a correctly signed body that is not JSON', async () => {
    const payload = '{"id": "evt_broken", "type":';
    const res = await deliver(h, payload, signed(payload));
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('INVALID_JSON');
  });

  it('needs no CSRF token (Stripe has none) but everything else still does', async () => {
    const payload = eventPayload('customer.created', { id: 'cus_x', object: 'customer' });
    const res = await deliver(h, payload, signed(payload));
    expect(res.statusCode).toBe(200);
  });
});

describe('Stripe webhook: recording', () => {
  it('records and acknowledges an event type it does not handle', async () => {
    const id = `evt_${randomBytes(8).toString('hex')}`;
    const payload = eventPayload('charge.dispute.created', { id: 'dp_1', object: 'dispute' }, id);
    const res = await deliver(h, payload, signed(payload));
    expect(res.statusCode).toBe(200);
    const [row] = await recorded(id);
    expect(row).toMatchObject({
      eventType: 'charge.dispute.created',
      processed: true,
      attempts: 1,
      errorMessage: null,
    });
    expect(res.json().data.outcome).toBe('processed');
    // Stripe's redelivery of it changes nothing.
    const again = await deliver(second, payload, signed(payload));
    expect([again.statusCode, again.json().data.outcome]).toEqual([200, 'duplicate']);
    expect((await recorded(id))[0]).toMatchObject({ processed: true, attempts: 1 });
  });

  it('records a burst of unhandled events arriving together, each once, a repeat as a duplicate', async () => {
    const payloads = Array.from({ length: 12 }, (_, i) =>
      eventPayload('charge.dispute.created', { id: `dp_${i}`, object: 'dispute' }),
    );
    // The first event twice in the same burst, so both copies meet in one insert.
    const burst = [...payloads, payloads[0]!];
    const answers = await Promise.all(burst.map((payload) => deliver(h, payload, signed(payload))));
    expect(answers.map((answer) => answer.statusCode)).toEqual(burst.map(() => 200));
    const outcomes = answers.map((answer) => answer.json().data.outcome);
    expect(outcomes.slice(1, 12)).toEqual(Array(11).fill('processed'));
    expect([outcomes[0], outcomes[12]].sort()).toEqual(['duplicate', 'processed']);
    for (const payload of payloads) {
      const rows = await recorded(JSON.parse(payload).id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ eventType: 'charge.dispute.created', processed: true, attempts: 1 });
    }
  });

  it('records and acknowledges an event for a customer that is not ours', async () => {
    const customer = await h.stripe.customers.create({ email: 'stranger@example.com' });
    const id = `evt_${randomBytes(8).toString('hex')}`;
    const payload = eventPayload(
      'customer.subscription.updated',
      { id: 'sub_unknown', object: 'subscription', customer: customer.id, status: 'active' },
      id,
    );
    const res = await deliver(h, payload, signed(payload));
    expect(res.statusCode).toBe(200);
    expect((await recorded(id))[0]).toMatchObject({ processed: true });
  });

  it('has its effect once when the same event arrives ten times at once on two instances', async () => {
    const { client, userId } = await signUp(h.t);
    const { sessionId } = await subscribe(client, 'month', '4000000000000341');
    await client.post('/api/billing/sync/', { sessionId });
    await h.emulator.webhooks.flush();
    const row = (await subscriptionRow(h.t, userId))!;
    // A real failed invoice to be notified about: the trial ends and the card on file fails.
    await advance(h, row.stripeCustomerId, row.trialEnd!.getTime() + 2 * 3600_000);
    const open = await h.stripe.invoices.list({ customer: row.stripeCustomerId, status: 'open' });
    expect(open.data.length).toBeGreaterThanOrEqual(1);
    const invoice = open.data[0]!;
    await h.t.app.database.query(
      `delete from email_outbox where template = 'payment_failed' and dedupe_key = $1`,
      [`payment_failed:${invoice.id}`],
    );

    const id = `evt_${randomBytes(8).toString('hex')}`;
    const payload = eventPayload('invoice.payment_failed', invoice as unknown as Record<string, unknown>, id);
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => deliver(i % 2 === 0 ? h : second, payload, signed(payload))),
    );
    for (const res of responses) expect(res.statusCode).toBe(200);
    const outcomes = responses.map((res) => res.json().data.outcome);
    expect(outcomes.filter((outcome) => outcome === 'processed')).toHaveLength(1);
    expect(await emailsFor(h.t, userId, 'payment_failed')).toHaveLength(1);
    const [event] = await recorded(id);
    expect(event).toMatchObject({ processed: true, attempts: 1 });
  });

  it('ends in the emulator’s state after a shuffled, duplicated burst of events', async () => {
    h.emulator.webhooks.setShuffleWindow(200);
    h.emulator.webhooks.setDuplicates(2);
    try {
      const { client, userId } = await signUp(h.t);
      await subscribe(client);
      const { stripeCustomerId } = (await subscriptionRow(h.t, userId))!;
      const [subscription] = (await h.stripe.subscriptions.list({ customer: stripeCustomerId })).data;
      await h.stripe.subscriptions.update(subscription!.id, { cancel_at_period_end: true });
      await h.stripe.subscriptions.update(subscription!.id, { cancel_at_period_end: false });
      await h.stripe.subscriptions.update(subscription!.id, { cancel_at_period_end: true });
      await advance(h, stripeCustomerId, subscription!.trial_end! * 1000 + 2 * 3600_000);
      await h.emulator.webhooks.flush();
      const remote = await h.stripe.subscriptions.retrieve(subscription!.id);
      const local = (await subscriptionRow(h.t, userId))!;
      expect(local.status).toBe(remote.status);
      expect(local.cancelAtPeriodEnd).toBe(remote.cancel_at_period_end);
      expect(local.currentPeriodEnd?.getTime()).toBe(remote.items.data[0]!.current_period_end * 1000);
    } finally {
      h.emulator.webhooks.setShuffleWindow(0);
      h.emulator.webhooks.setDuplicates(1);
    }
  });

  it('records a processing failure, answers 500 so Stripe retries, and replays it later', async () => {
    const { client, userId } = await signUp(h.t);
    const { sessionId } = await subscribe(client);
    await client.post('/api/billing/sync/', { sessionId });
    await h.emulator.webhooks.flush();
    const row = (await subscriptionRow(h.t, userId))!;
    const subscription = await h.stripe.subscriptions.retrieve(row.stripeSubscriptionId!);
    const id = `evt_${randomBytes(8).toString('hex')}`;
    const payload = eventPayload(
      'customer.subscription.updated',
      subscription as unknown as Record<string, unknown>,
      id,
    );

    h.emulator.faults.failNext(5, '500');
    const failed = await deliver(h, payload, signed(payload));
    h.emulator.faults.clear();
    expect(failed.statusCode).toBe(502);
    const [afterFailure] = await recorded(id);
    expect(afterFailure).toMatchObject({ processed: false, attempts: 1 });
    expect(afterFailure?.errorMessage).toBeTruthy();

    const retried = await deliver(h, payload, signed(payload));
    expect(retried.statusCode).toBe(200);
    expect((await recorded(id))[0]).toMatchObject({ processed: true, attempts: 2, errorMessage: null });
  });

  it('replays failed events with `webhooks:replay --failed` and one event by id', async () => {
    const id = `evt_${randomBytes(8).toString('hex')}`;
    const customer = await h.stripe.customers.create({ email: 'replay@example.com' });
    const payload = eventPayload(
      'checkout.session.completed',
      { id: 'cs_1', object: 'checkout.session', customer: customer.id },
      id,
    );
    h.emulator.faults.failNext(5, '500');
    expect((await deliver(h, payload, signed(payload))).statusCode).toBe(502);
    h.emulator.faults.clear();

    const lines: string[] = [];
    const ok = await replayCommand(h.t.config, h.t.app.database, h.t.app.mailer, ['--failed'], (line) =>
      lines.push(line),
    );
    expect(ok).toBe(true);
    expect(lines.join('\n')).toContain(`${id} processed`);
    expect((await recorded(id))[0]).toMatchObject({ processed: true, errorMessage: null });

    const again = await replayCommand(h.t.config, h.t.app.database, h.t.app.mailer, [id], (line) =>
      lines.push(line),
    );
    expect(again).toBe(true);
    await expect(
      replayCommand(h.t.config, h.t.app.database, h.t.app.mailer, ['evt_missing'], () => {}),
    ).rejects.toMatchObject({ status: 404 });
  });
});
