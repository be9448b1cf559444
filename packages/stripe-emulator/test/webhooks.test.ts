import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { WebhookDelivery } from '../src/store.ts';
import { startTestEmulator, type TestEmulator, WebhookReceiver } from './helpers.ts';

const SECRET = 'whsec_test_emulator_secret';

describe('webhook delivery', () => {
  let receiver: WebhookReceiver;
  let t: TestEmulator;
  const verifier = new Stripe('sk_test_verify');

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    t = await startTestEmulator({
      webhookUrl: receiver.url,
      webhookSecret: SECRET,
      webhookRetryDelaysMs: [20, 40],
      webhookTimeoutMs: 200,
    });
  });
  afterAll(async () => {
    await t.emulator.stop();
    await receiver.stop();
  });
  afterEach(async () => {
    t.emulator.webhooks.setDuplicates(1);
    t.emulator.webhooks.setShuffleWindow(0);
    t.emulator.webhooks.setDelay(0);
    await t.emulator.webhooks.flush();
    await t.emulator.reset();
    receiver.received.length = 0;
    receiver.respondWith = [];
    receiver.delays = [];
  });

  it('signs deliveries as Stripe does (verified by stripe.webhooks.constructEvent), with wall-clock t', async () => {
    expect(t.emulator.webhookSecret).toBe(SECRET);
    // A customer on a test clock frozen long ago: the event's `created` is clock time, the signature's `t` is not.
    const clock = await t.stripe.testHelpers.testClocks.create({ frozen_time: 1_600_000_000 });
    const customer = await t.stripe.customers.create({ email: 'hook@example.com', test_clock: clock.id });
    await t.emulator.webhooks.flush();
    const delivery = receiver.received.find((r) => r.body.includes('"customer.created"'))!;
    const signature = delivery.headers['stripe-signature'] as string;
    expect(signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const event = verifier.webhooks.constructEvent(delivery.body, signature, SECRET);
    expect(event.type).toBe('customer.created');
    expect((event.data.object as Stripe.Customer).id).toBe(customer.id);
    expect(event.created).toBe(1_600_000_000);
    const t0 = Number(/t=(\d+)/.exec(signature)![1]);
    expect(Math.abs(t0 - Date.now() / 1000)).toBeLessThan(5);
    expect(() => verifier.webhooks.constructEvent(delivery.body, signature, 'whsec_wrong')).toThrow();
  });

  it('retries a non-2xx delivery with backoff and records each attempt', async () => {
    receiver.respondWith = [500, 503];
    await t.stripe.products.create({ name: 'Retry me' });
    await t.emulator.webhooks.flush();
    expect(receiver.types()).toEqual(['product.created', 'product.created', 'product.created']);
    const deliveries = (await (
      await fetch(`${t.emulator.url}/_emulator/deliveries`)
    ).json()) as WebhookDelivery[];
    const delivery = deliveries.find((d) => d.eventType === 'product.created')!;
    expect(delivery.status).toBe('succeeded');
    expect(delivery.attempts.map((a) => a.status)).toEqual([500, 503, 200]);
    const event = await t.stripe.events.retrieve(delivery.eventId);
    expect(event.pending_webhooks).toBe(0);
  });

  it('retries a delivery the endpoint does not answer in time', async () => {
    receiver.delays = [600];
    await t.stripe.products.create({ name: 'Slow endpoint' });
    await t.emulator.webhooks.flush();
    const deliveries = (await (
      await fetch(`${t.emulator.url}/_emulator/deliveries`)
    ).json()) as WebhookDelivery[];
    const delivery = deliveries.find((d) => d.eventType === 'product.created')!;
    expect(delivery.attempts.map((a) => a.error ?? a.status)).toEqual(['timeout', 200]);
    expect(delivery.status).toBe('succeeded');
  });

  it('gives up after the last retry', async () => {
    receiver.respondWith = [500, 500, 500];
    await t.stripe.products.create({ name: 'Never delivered' });
    await t.emulator.webhooks.flush();
    const deliveries = (await (
      await fetch(`${t.emulator.url}/_emulator/deliveries`)
    ).json()) as WebhookDelivery[];
    expect(deliveries[0]!.status).toBe('failed');
    expect(deliveries[0]!.attempts).toHaveLength(3);
  });

  it('delivers each event N times when asked', async () => {
    t.emulator.webhooks.setDuplicates(3);
    await t.stripe.products.create({ name: 'Dup' });
    await t.emulator.webhooks.flush();
    const ids = receiver.received.map((r) => (JSON.parse(r.body) as { id: string }).id);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(1);
  });

  it('delays delivery, and shuffles order within a window', async () => {
    t.emulator.webhooks.setDelay(150);
    const started = Date.now();
    await t.stripe.products.create({ name: 'Late' });
    await t.emulator.webhooks.flush();
    expect(receiver.received[0]!.receivedAt - started).toBeGreaterThanOrEqual(140);

    receiver.received.length = 0;
    t.emulator.webhooks.setDelay(0);
    t.emulator.webhooks.setShuffleWindow(100);
    const names = Array.from({ length: 12 }, (_, i) => `P${i}`);
    for (const name of names) await t.stripe.products.create({ name });
    await t.emulator.webhooks.flush();
    const order = receiver.received.map(
      (r) => (JSON.parse(r.body) as { data: { object: { name: string } } }).data.object.name,
    );
    expect([...order].sort()).toEqual([...names].sort());
    expect(order).not.toEqual(names); // 1 in 12! chance of a false failure
  });

  it('delivers to endpoints created through /v1/webhook_endpoints, filtered by enabled_events', async () => {
    const second = await new WebhookReceiver().start();
    try {
      const endpoint = await t.stripe.webhookEndpoints.create({
        url: second.url,
        enabled_events: ['customer.created'],
      });
      await t.stripe.products.create({ name: 'Not for the second endpoint' });
      await t.stripe.customers.create({ email: 'two@example.com' });
      await t.emulator.webhooks.flush();
      expect(second.types()).toEqual(['customer.created']);
      const delivery = second.received[0]!;
      verifier.webhooks.constructEvent(
        delivery.body,
        delivery.headers['stripe-signature'] as string,
        endpoint.secret!,
      );
    } finally {
      await second.stop();
    }
  });

  it('resends an event on request', async () => {
    await t.stripe.products.create({ name: 'Again' });
    await t.emulator.webhooks.flush();
    const eventId = (JSON.parse(receiver.received[0]!.body) as { id: string }).id;
    const response = await fetch(`${t.emulator.url}/_emulator/events/${eventId}/resend`, { method: 'POST' });
    expect(response.status).toBe(200);
    await t.emulator.webhooks.flush();
    expect(receiver.received.map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual([
      eventId,
      eventId,
    ]);
  });

  it('is configured over HTTP too (/_emulator/webhooks/config)', async () => {
    const response = await fetch(`${t.emulator.url}/_emulator/webhooks/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duplicates: 2 }),
    });
    expect(((await response.json()) as { webhooks: { duplicates: number } }).webhooks.duplicates).toBe(2);
    await t.stripe.products.create({ name: 'Twice' });
    await fetch(`${t.emulator.url}/_emulator/webhooks/flush`, { method: 'POST' });
    expect(receiver.received).toHaveLength(2);
  });
});
