import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BillingHarness,
  signUp,
  startBillingHarness,
  subscribe,
  subscriptionRow,
} from './billing-harness.ts';

let h: BillingHarness;
beforeAll(async () => {
  // Short timeouts so a hanging Stripe is noticed quickly; no SDK retries so each fault counts once.
  h = await startBillingHarness({ env: { STRIPE_TIMEOUT_MS: '400', STRIPE_MAX_NETWORK_RETRIES: '0' } });
});
afterAll(async () => h?.close());

describe('when Stripe fails', () => {
  it.each([
    ['errors', '500' as const],
    ['rate-limits', '429' as const],
    ['drops the connection', 'drop' as const],
    ['hangs', 'slow' as const],
  ])(
    'checkout answers 502 BILLING_PROVIDER_ERROR when Stripe %s, and writes nothing',
    async (_name, kind) => {
      const { client, userId } = await signUp(h.t);
      // The SDK retries a closed connection once even with retries off, so a drop must happen twice.
      h.emulator.faults.failNext(kind === 'drop' ? 2 : 1, kind, { delayMs: 1000 });
      const res = await client.post('/api/billing/checkout/', { plan: 'pro', interval: 'month' });
      h.emulator.faults.clear();
      // A request that hung may still complete on Stripe's side, holding its idempotency key meanwhile:
      // a fixed pause on purpose, past the fault's 1000 ms, so the retry below is a user's later click.
      if (kind === 'slow') await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(res.statusCode).toBe(502);
      expect(res.json()).toMatchObject({ success: false, code: 'BILLING_PROVIDER_ERROR', status: 502 });
      expect(await subscriptionRow(h.t, userId)).toBeUndefined();
      // And once Stripe is back, the same click works.
      const again = await client.post('/api/billing/checkout/', { plan: 'pro', interval: 'month' });
      expect(again.statusCode).toBe(200);
      expect(await subscriptionRow(h.t, userId)).toBeDefined();
    },
  );

  it('portal and sync answer 502 and change nothing', async () => {
    const { client, userId } = await signUp(h.t);
    const { sessionId } = await subscribe(client);
    await client.post('/api/billing/sync/', { sessionId });
    await h.emulator.webhooks.flush();
    const before = await subscriptionRow(h.t, userId);

    h.emulator.faults.failNext(1, '500');
    const portal = await client.get('/api/stripe/portal/');
    expect(portal.statusCode).toBe(502);
    expect(portal.json().code).toBe('BILLING_PROVIDER_ERROR');

    h.emulator.faults.failNext(1, 'slow', { delayMs: 2000 });
    const sync = await client.post('/api/billing/sync/', { sessionId });
    expect(sync.statusCode).toBe(502);
    h.emulator.faults.clear();
    expect(await subscriptionRow(h.t, userId)).toEqual(before);
  });

  it('never lets a user sync another user’s checkout session', async () => {
    const alice = await signUp(h.t);
    const bob = await signUp(h.t);
    const { sessionId } = await subscribe(alice.client);
    const res = await bob.client.post('/api/billing/sync/', { sessionId });
    expect(res.statusCode).toBe(404);
    expect(await subscriptionRow(h.t, bob.userId)).toBeUndefined();
  });
});
