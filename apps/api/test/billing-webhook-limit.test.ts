import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webhookEvents } from '../src/db/schema/index.ts';
import { type BillingHarness, startBillingHarness } from './billing-harness.ts';
import { waitFor } from './helper.ts';

/*
 * The webhook's rate limit counts only requests that fail signature verification, per IP: a
 * stranger's flood slows the stranger down and never blocks Stripe's genuine events.
 */

const LIMIT = 100;
const GLOBAL_LIMIT = 150;
let h: BillingHarness;
beforeAll(async () => {
  h = await startBillingHarness({
    env: {
      RATE_LIMIT_WEBHOOK_PER_MINUTE: String(LIMIT),
      RATE_LIMIT_GLOBAL_PER_MINUTE: String(GLOBAL_LIMIT),
    },
  });
});
afterAll(async () => h?.close());

const eventPayload = (id = `evt_${randomBytes(8).toString('hex')}`) =>
  JSON.stringify({
    id,
    object: 'event',
    type: 'charge.dispute.created',
    api_version: '2026-10-28.endive',
    created: Math.floor(Date.now() / 1000),
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object: { id: 'dp_1', object: 'dispute' } },
  });

function post(remoteAddress: string, payload: string, signature?: string) {
  return h.t.app.inject({
    method: 'POST',
    url: '/api/stripe/webhook/',
    remoteAddress,
    headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) },
    payload,
  });
}

const forged = (payload: string) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret: 'whsec_not_the_real_one' });
const genuine = (payload: string) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret: h.emulator.webhookSecret });

async function recorded(eventId: string) {
  return h.t.app.database.db.select().from(webhookEvents).where(eq(webhookEvents.eventId, eventId));
}

describe('Stripe webhook rate limit', () => {
  it('limits invalid requests per IP and never a genuine, signed event', async () => {
    const attacker = '203.0.113.7';
    // Unsigned and wrongly signed requests count alike.
    for (let i = 0; i < LIMIT; i++) {
      const payload = eventPayload();
      const res = await post(attacker, payload, i % 2 === 0 ? undefined : forged(payload));
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'INVALID_SIGNATURE' });
    }
    const limited = await post(attacker, eventPayload());
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ success: false, code: 'RATE_LIMITED', status: 429 });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

    // A genuine event from the same IP, and from another, is accepted and recorded.
    for (const from of [attacker, '198.51.100.20']) {
      const id = `evt_${randomBytes(8).toString('hex')}`;
      const payload = eventPayload(id);
      const res = await post(from, payload, genuine(payload));
      expect(res.statusCode, res.body).toBe(200);
      expect(await recorded(id)).toHaveLength(1);
    }

    // Another IP's invalid requests are judged on their own count.
    const bystander = await post('192.0.2.44', eventPayload());
    expect(bystander.statusCode).toBe(400);
    expect(bystander.json()).toMatchObject({ code: 'INVALID_SIGNATURE' });
  });

  it("delivers the emulator's events while the same address is over the limit for invalid ones", async () => {
    // The emulator delivers over HTTP from 127.0.0.1; flood that address first.
    for (let i = 0; i <= LIMIT; i++) await post('127.0.0.1', eventPayload());
    expect((await post('127.0.0.1', eventPayload())).statusCode).toBe(429);

    const customer = await h.stripe.customers.create({ email: 'limit@example.com' });
    // Recorded and processed (the row appears before its effect is applied, so wait for both).
    const row = await waitFor(async () => {
      const found = await h.t.app.database.db.select().from(webhookEvents);
      return found.find(
        (event) =>
          event.eventType === 'customer.created' &&
          event.processed &&
          (event.payload as { data: { object: { id: string } } }).data.object.id === customer.id,
      );
    });
    expect(row.attempts).toBeGreaterThan(0);
  });

  it('accepts a genuine event from an address the per-IP request limit has stopped', async () => {
    const busy = '198.51.100.99';
    for (let i = 0; i < GLOBAL_LIMIT; i++) {
      await h.t.app.inject({ method: 'GET', url: '/api/billing/plans/', remoteAddress: busy });
    }
    const stopped = await h.t.app.inject({ method: 'GET', url: '/api/billing/plans/', remoteAddress: busy });
    expect(stopped.statusCode).toBe(429);
    const id = `evt_${randomBytes(8).toString('hex')}`;
    const payload = eventPayload(id);
    const res = await post(busy, payload, genuine(payload));
    expect(res.statusCode, res.body).toBe(200);
    expect(await recorded(id)).toHaveLength(1);
  });
});
