import { randomBytes, randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuditLog, aiRequests, sessions, subscriptions, users } from '../src/db/schema/index.ts';
import {
  type BillingHarness,
  deliverSigned,
  personalOrganizationId,
  signUp,
  startBillingHarness,
  subscribe,
  subscriptionRow,
} from './billing-harness.ts';
import { TestClient } from './helper.ts';

const PASSWORD = 'correct horse battery staple 9';

let h: BillingHarness;
beforeAll(async () => {
  h = await startBillingHarness();
});
afterAll(async () => h?.close());

const db = () => h.t.app.database.db;

async function staff() {
  const account = await signUp(h.t, `staff-${randomBytes(3).toString('hex')}@example.com`);
  await db().update(users).set({ isStaff: true }).where(eq(users.id, account.userId));
  return account;
}

/** The audit rows about one target, oldest first. */
async function auditOf(targetId: string) {
  const rows = await db().select().from(adminAuditLog).where(eq(adminAuditLog.targetId, targetId));
  return rows.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

function login(email: string, password = PASSWORD) {
  return new TestClient(h.t.app).post('/api/login/', { email, password });
}

describe('admin console API', () => {
  it('answers 403 PERMISSION_DENIED to a signed-in user who is not staff, on every endpoint', async () => {
    const { client, userId } = await signUp(h.t);
    const gets = [
      `/api/admin/users/${userId}/`,
      '/api/admin/webhook-events/evt_x/',
      '/api/admin/ai-usage/',
      '/api/admin/audit-log/',
    ];
    const posts = ['deactivate', 'reactivate', 'make-staff', 'revoke-staff', 'sync-subscription'].map(
      (action) => `/api/admin/users/${userId}/${action}/`,
    );
    for (const url of gets) {
      const res = await client.get(url);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().code).toBe('PERMISSION_DENIED');
    }
    for (const url of posts) {
      const res = await client.post(url);
      expect(res.statusCode, url).toBe(403);
      expect(res.json().code).toBe('PERMISSION_DENIED');
    }
    // Making themself staff was refused: still not staff, nothing audited.
    expect((await client.get('/api/admin/users/')).statusCode).toBe(403);
    expect(await auditOf(userId)).toEqual([]);
    expect((await h.t.app.inject({ method: 'GET', url: '/api/admin/audit-log/' })).statusCode).toBe(401);
  });

  it('refuses a staff action without the CSRF token', async () => {
    const admin = await staff();
    const target = await signUp(h.t);
    const res = await admin.client.request({
      method: 'POST',
      url: `/api/admin/users/${target.userId}/deactivate/`,
      headers: { 'x-csrftoken': 'wrong' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('CSRF_FAILED');
    expect(await auditOf(target.userId)).toEqual([]);
  });

  it('shows one user with their subscription and live sessions; 404 for an unknown id', async () => {
    const admin = await staff();
    const subscriber = await signUp(h.t);
    const { sessionId } = await subscribe(subscriber.client);
    await subscriber.client.post('/api/billing/sync/', { sessionId });

    const res = await admin.client.get(`/api/admin/users/${subscriber.userId}/`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({
      id: subscriber.userId,
      email: subscriber.email,
      isStaff: false,
      deactivatedAt: null,
      activeSessions: 1,
      subscription: { status: 'trialing', plan: 'pro', interval: 'month', cancelAtPeriodEnd: false },
    });
    expect(res.json().data.subscription.stripeSubscriptionId).toMatch(/^sub_/);
    const missing = await admin.client.get('/api/admin/users/nobody/');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('NOT_FOUND');
  });

  it('deactivating ends the user’s sessions at once and blocks sign-in until reactivated; both audited', async () => {
    const admin = await staff();
    const target = await signUp(h.t);
    const second = await login(target.email);
    expect(second.statusCode).toBe(200);
    expect((await target.client.get('/api/profile/')).statusCode).toBe(200);

    const res = await admin.client.post(`/api/admin/users/${target.userId}/deactivate/`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data.deactivatedAt).not.toBeNull();
    expect(res.json().data.activeSessions).toBe(0);

    // The session the user held a moment ago no longer works.
    const profile = await target.client.get('/api/profile/');
    expect(profile.statusCode).toBe(401);
    expect(profile.json().code).toBe('AUTHENTICATION_REQUIRED');
    // The right password is refused with its own code and no session; a wrong one as ever.
    const refused = await login(target.email);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('ACCOUNT_DEACTIVATED');
    expect(refused.cookies.some((cookie) => cookie.name.includes('session_token') && cookie.value)).toBe(
      false,
    );
    expect((await login(target.email, 'wrong password 123')).json().code).toBe('INVALID_CREDENTIALS');
    const held = await db().select().from(sessions).where(eq(sessions.userId, target.userId));
    expect(held).toEqual([]);

    const back = await admin.client.post(`/api/admin/users/${target.userId}/reactivate/`);
    expect(back.statusCode).toBe(200);
    expect(back.json().data.deactivatedAt).toBeNull();
    expect((await login(target.email)).statusCode).toBe(200);

    const audit = await auditOf(target.userId);
    expect(audit.map((row) => [row.action, row.staffUserId, row.targetType])).toEqual([
      ['user.deactivate', admin.userId, 'user'],
      ['user.reactivate', admin.userId, 'user'],
    ]);
    expect(audit[0]?.details).toMatchObject({ sessionsEnded: 2 });
  });

  it('a session created in a race with deactivation is not honoured', async () => {
    const target = await signUp(h.t);
    // As if a sign-in slipped in after deactivation deleted the sessions.
    await db().update(users).set({ deactivatedAt: new Date() }).where(eq(users.id, target.userId));
    expect((await target.client.get('/api/profile/')).statusCode).toBe(401);
  });

  it('makes a user staff and takes it away; both take effect on the next request and are audited', async () => {
    const admin = await staff();
    const target = await signUp(h.t);
    expect((await target.client.get('/api/admin/users/')).statusCode).toBe(403);

    const made = await admin.client.post(`/api/admin/users/${target.userId}/make-staff/`);
    expect(made.statusCode).toBe(200);
    expect(made.json().data.isStaff).toBe(true);
    expect((await target.client.get('/api/admin/users/')).statusCode).toBe(200);

    const revoked = await admin.client.post(`/api/admin/users/${target.userId}/revoke-staff/`);
    expect(revoked.json().data.isStaff).toBe(false);
    expect((await target.client.get('/api/admin/users/')).statusCode).toBe(403);

    expect((await auditOf(target.userId)).map((row) => row.action)).toEqual([
      'user.make_staff',
      'user.revoke_staff',
    ]);
    expect((await admin.client.post('/api/admin/users/nobody/make-staff/')).statusCode).toBe(404);
  });

  it('a staff member cannot demote or deactivate themself', async () => {
    const admin = await staff();
    for (const action of ['revoke-staff', 'deactivate']) {
      const res = await admin.client.post(`/api/admin/users/${admin.userId}/${action}/`);
      expect(res.statusCode, action).toBe(409);
      expect(res.json().code).toBe('CONFLICT');
    }
    const [me] = await db().select().from(users).where(eq(users.id, admin.userId));
    expect(me).toMatchObject({ isStaff: true, deactivatedAt: null });
    expect((await admin.client.get('/api/admin/users/')).statusCode).toBe(200);
    expect(await auditOf(admin.userId)).toEqual([]);
  });

  it('"sync from Stripe now" repairs a subscription row changed behind the app’s back', async () => {
    const admin = await staff();
    const subscriber = await signUp(h.t);
    const { sessionId } = await subscribe(subscriber.client);
    await subscriber.client.post('/api/billing/sync/', { sessionId });
    await h.emulator.webhooks.flush();
    // Someone edits the row by hand: the user looks canceled though Stripe says trialing.
    await db()
      .update(subscriptions)
      .set({ status: 'canceled', plan: null })
      .where(eq(subscriptions.organizationId, await personalOrganizationId(h.t, subscriber.userId)));
    expect((await subscriber.client.get('/api/billing/status/')).json().data.isPro).toBe(false);

    const res = await admin.client.post(`/api/admin/users/${subscriber.userId}/sync-subscription/`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data.subscription).toMatchObject({ status: 'trialing', plan: 'pro' });
    expect(await subscriptionRow(h.t, subscriber.userId)).toMatchObject({ status: 'trialing', plan: 'pro' });
    expect((await subscriber.client.get('/api/billing/status/')).json().data.isPro).toBe(true);

    const [entry] = await auditOf(subscriber.userId);
    expect(entry).toMatchObject({
      action: 'subscription.sync',
      staffUserId: admin.userId,
      details: { ok: true, before: { status: 'canceled' }, after: { status: 'trialing', plan: 'pro' } },
    });

    // A user who never reached Checkout has nothing in Stripe to sync.
    const free = await signUp(h.t);
    const none = await admin.client.post(`/api/admin/users/${free.userId}/sync-subscription/`);
    expect(none.statusCode).toBe(409);
    expect(await auditOf(free.userId)).toEqual([]);
  });

  it('a sync that Stripe fails answers 502 and is still audited, with its failure', async () => {
    const admin = await staff();
    const subscriber = await signUp(h.t);
    const { sessionId } = await subscribe(subscriber.client);
    await subscriber.client.post('/api/billing/sync/', { sessionId });
    h.emulator.faults.failNext(5, '500');
    const res = await admin.client.post(`/api/admin/users/${subscriber.userId}/sync-subscription/`);
    h.emulator.faults.clear();
    expect(res.statusCode).toBe(502);
    const [entry] = await auditOf(subscriber.userId);
    expect(entry).toMatchObject({ action: 'subscription.sync', details: { ok: false } });
  });

  it('filters Stripe events by type and status, shows one payload, and audits a replay', async () => {
    const admin = await staff();
    const customer = await h.stripe.customers.create({ email: 'admin-console-replay@example.com' });
    const eventId = `evt_${randomBytes(8).toString('hex')}`;
    const type = 'customer.subscription.updated';
    const payload = JSON.stringify({
      id: eventId,
      object: 'event',
      type,
      api_version: '2026-10-28.endive',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: 'sub_console', object: 'subscription', customer: customer.id } },
    });
    h.emulator.faults.failNext(5, '500');
    const delivered = await deliverSigned(h, payload);
    h.emulator.faults.clear();
    expect(delivered.statusCode).toBe(502);

    const list = async (query: string) => {
      const res = await admin.client.get(`/api/admin/webhook-events/?${query}`);
      expect(res.statusCode).toBe(200);
      return res.json().data.events as {
        eventId: string;
        eventType: string;
        processed: boolean;
        errorMessage: string | null;
      }[];
    };
    const failed = await list(`type=${type}&status=failed`);
    expect(failed.map((event) => event.eventId)).toContain(eventId);
    expect(failed.every((event) => event.eventType === type && !event.processed && event.errorMessage)).toBe(
      true,
    );
    const processed = await list(`type=${type}&status=processed`);
    expect(processed.map((event) => event.eventId)).not.toContain(eventId);
    expect(processed.every((event) => event.eventType === type && event.processed)).toBe(true);
    expect((await list('type=invoice.paid&status=failed')).map((event) => event.eventId)).not.toContain(
      eventId,
    );
    expect((await list('status=pending')).map((event) => event.eventId)).not.toContain(eventId);
    expect((await admin.client.get('/api/admin/webhook-events/?status=bogus')).statusCode).toBe(400);

    const detail = await admin.client.get(`/api/admin/webhook-events/${eventId}/`);
    expect(detail.statusCode).toBe(200);
    expect(detail.json().data).toMatchObject({ eventId, eventType: type, processed: false });
    expect(detail.json().data.errorMessage).toBeTruthy();
    expect(detail.json().data.payload).toMatchObject({
      id: eventId,
      data: { object: { customer: customer.id } },
    });
    expect((await admin.client.get('/api/admin/webhook-events/evt_missing/')).statusCode).toBe(404);

    const replay = await admin.client.post(`/api/admin/webhook-events/${eventId}/replay/`);
    expect(replay.json().data).toEqual({ eventId, ok: true });
    expect((await list(`type=${type}&status=processed`)).map((event) => event.eventId)).toContain(eventId);
    expect((await list(`type=${type}&status=failed`)).map((event) => event.eventId)).not.toContain(eventId);
    expect(await auditOf(eventId)).toEqual([
      expect.objectContaining({
        action: 'webhook_event.replay',
        targetType: 'webhook_event',
        staffUserId: admin.userId,
        details: { ok: true },
      }),
    ]);
    // Nothing was replayed, so nothing is recorded.
    expect((await admin.client.post('/api/admin/webhook-events/evt_missing/replay/')).statusCode).toBe(404);
    expect(await auditOf('evt_missing')).toEqual([]);
  });

  it('pages through Stripe events with a cursor, without repeats', async () => {
    const admin = await staff();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await admin.client.get(
        `/api/admin/webhook-events/?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.statusCode).toBe(200);
      seen.push(...page.json().data.events.map((event: { eventId: string }) => event.eventId));
      cursor = page.json().data.nextCursor;
    } while (cursor);
    const all = (await admin.client.get('/api/admin/webhook-events/?limit=100')).json().data.events;
    expect(seen).toEqual(all.map((event: { eventId: string }) => event.eventId));
    expect((await admin.client.get('/api/admin/webhook-events/?cursor=garbage')).statusCode).toBe(400);
  });

  it('sums AI usage per user for a calendar month, heaviest first, with totals', async () => {
    const admin = await staff();
    const heavy = await signUp(h.t);
    const light = await signUp(h.t);
    const organizations = new Map([
      [heavy.userId, await personalOrganizationId(h.t, heavy.userId)],
      [light.userId, await personalOrganizationId(h.t, light.userId)],
    ]);
    const call = (userId: string, at: string, status: 'completed' | 'failed', tokens: [number, number]) => ({
      id: randomUUID(),
      userId,
      organizationId: organizations.get(userId)!,
      status,
      model: 'test-model',
      prompt: 'hello',
      stream: false,
      maxTokens: 100,
      reservedTokens: 200,
      promptTokens: tokens[0],
      completionTokens: tokens[1],
      totalTokens: tokens[0] + tokens[1],
      createdAt: new Date(at),
    });
    await db()
      .insert(aiRequests)
      .values([
        call(heavy.userId, '2031-03-02T10:00:00Z', 'completed', [100, 400]),
        call(heavy.userId, '2031-03-31T23:59:59Z', 'completed', [50, 50]),
        call(light.userId, '2031-03-15T00:00:00Z', 'completed', [10, 20]),
        call(light.userId, '2031-03-16T00:00:00Z', 'failed', [0, 0]),
        // Outside March 2031: not counted.
        call(heavy.userId, '2031-04-01T00:00:00Z', 'completed', [1000, 1000]),
        call(light.userId, '2031-02-28T23:59:59Z', 'completed', [1000, 1000]),
      ]);

    const res = await admin.client.get('/api/admin/ai-usage/?month=2031-03');
    expect(res.statusCode).toBe(200);
    const usage = res.json().data;
    expect(usage.period).toEqual({ start: '2031-03-01T00:00:00.000Z', end: '2031-04-01T00:00:00.000Z' });
    expect(usage.users).toEqual([
      {
        userId: heavy.userId,
        email: heavy.email,
        requests: 2,
        failed: 0,
        promptTokens: 150,
        completionTokens: 450,
        totalTokens: 600,
      },
      {
        userId: light.userId,
        email: light.email,
        requests: 1,
        failed: 1,
        promptTokens: 10,
        completionTokens: 20,
        totalTokens: 30,
      },
    ]);
    expect(usage.totals).toEqual({
      requests: 3,
      failed: 1,
      promptTokens: 160,
      completionTokens: 470,
      totalTokens: 630,
      users: 2,
    });
    const empty = (await admin.client.get('/api/admin/ai-usage/?month=2030-01')).json().data;
    expect(empty.users).toEqual([]);
    expect(empty.totals.totalTokens).toBe(0);
    expect((await admin.client.get('/api/admin/ai-usage/?month=2031-13')).statusCode).toBe(400);
  });

  it('lists the audit log newest first, a page at a time, naming the staff member', async () => {
    const admin = await staff();
    const targets = [await signUp(h.t), await signUp(h.t), await signUp(h.t)];
    for (const target of targets) {
      expect((await admin.client.post(`/api/admin/users/${target.userId}/make-staff/`)).statusCode).toBe(200);
    }
    const entries: { targetId: string; action: string; staffEmail: string; createdAt: string }[] = [];
    let cursor: string | null = null;
    do {
      const page = await admin.client.get(
        `/api/admin/audit-log/?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.statusCode).toBe(200);
      entries.push(...page.json().data.entries);
      cursor = page.json().data.nextCursor;
    } while (cursor);
    expect(new Set(entries.map((entry) => JSON.stringify(entry))).size).toBe(entries.length);
    const created = entries.map((entry) => Date.parse(entry.createdAt));
    expect(created).toEqual([...created].sort((a, b) => b - a));
    const mine = entries.filter((entry) => targets.some((target) => target.userId === entry.targetId));
    expect(mine.map((entry) => entry.targetId)).toEqual(targets.map((target) => target.userId).reverse());
    expect(
      mine.every((entry) => entry.action === 'user.make_staff' && entry.staffEmail === admin.email),
    ).toBe(true);
  });
});
