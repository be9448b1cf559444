import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { users } from '../src/db/schema/index.ts';
import {
  type BillingHarness,
  deliverSigned,
  signUp,
  startBillingHarness,
  subscribe,
} from './billing-harness.ts';

let h: BillingHarness;
beforeAll(async () => {
  h = await startBillingHarness();
});
afterAll(async () => h?.close());

async function staff() {
  const account = await signUp(h.t, `staff-${randomBytes(3).toString('hex')}@example.com`);
  await h.t.app.database.db.update(users).set({ isStaff: true }).where(eq(users.id, account.userId));
  await h.t.app.sessions.invalidateUser(account.userId);
  return account;
}

describe('admin API', () => {
  it('is for staff only: 401 anonymous, 403 signed in without the staff flag', async () => {
    const anonymous = await h.t.app.inject({ method: 'GET', url: '/api/admin/users/' });
    expect(anonymous.statusCode).toBe(401);
    const { client } = await signUp(h.t);
    for (const url of ['/api/admin/users/', '/api/admin/webhook-events/']) {
      const res = await client.get(url);
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('PERMISSION_DENIED');
    }
    const replay = await client.post('/api/admin/webhook-events/evt_x/replay/');
    expect(replay.statusCode).toBe(403);
  });

  it('lists users with their subscription, searchable and paged', async () => {
    const admin = await staff();
    const subscriber = await signUp(h.t, `zed-${randomBytes(3).toString('hex')}@example.com`);
    const { sessionId } = await subscribe(subscriber.client);
    await subscriber.client.post('/api/billing/sync/', { sessionId });

    const found = await admin.client.get(
      `/api/admin/users/?search=${encodeURIComponent(subscriber.email.slice(0, 8))}`,
    );
    expect(found.statusCode).toBe(200);
    expect(found.json().data.users).toHaveLength(1);
    expect(found.json().data.users[0]).toMatchObject({
      email: subscriber.email,
      subscription: { status: 'trialing', plan: 'pro' },
    });

    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await admin.client.get(
        `/api/admin/users/?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      ids.push(...page.json().data.users.map((user: { id: string }) => user.id));
      cursor = page.json().data.nextCursor;
    } while (cursor);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain(subscriber.userId);
    expect(ids).toContain(admin.userId);

    // A LIKE wildcard is searched for literally.
    expect((await admin.client.get('/api/admin/users/?search=%25')).json().data.users).toEqual([]);
  });

  it('shows failed Stripe events and replays one', async () => {
    const admin = await staff();
    const customer = await h.stripe.customers.create({ email: 'admin-replay@example.com' });
    const eventId = `evt_${randomBytes(8).toString('hex')}`;
    const payload = JSON.stringify({
      id: eventId,
      object: 'event',
      type: 'checkout.session.completed',
      api_version: '2026-10-28.endive',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: 'cs_1', object: 'checkout.session', customer: customer.id } },
    });
    h.emulator.faults.failNext(5, '500');
    const failed = await deliverSigned(h, payload);
    h.emulator.faults.clear();
    expect(failed.statusCode).toBe(502);

    const list = await admin.client.get('/api/admin/webhook-events/?failed=true');
    expect(list.json().data.events.map((event: { eventId: string }) => event.eventId)).toContain(eventId);

    const replay = await admin.client.post(`/api/admin/webhook-events/${eventId}/replay/`);
    expect(replay.statusCode).toBe(200);
    expect(replay.json().data).toEqual({ eventId, ok: true });
    const after = await admin.client.get('/api/admin/webhook-events/?failed=true');
    expect(after.json().data.events.map((event: { eventId: string }) => event.eventId)).not.toContain(
      eventId,
    );
    expect((await admin.client.post('/api/admin/webhook-events/evt_missing/replay/')).statusCode).toBe(404);
  });
});
