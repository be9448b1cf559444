/**
 * The per-process session cache (docs/decisions/0027): a resolved session is reused for a few
 * seconds, and every change to a session, its user or their subscription reaches every process
 * before the request that made it is answered. The cache is set to 60 s here, so a missed
 * invalidation shows as a stale answer rather than passing by luck of timing.
 */
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { sessions, users } from '../src/db/schema/index.ts';
import { SessionCache } from '../src/users/session-cache.ts';
import { invalidationChannel } from '../src/users/session-invalidation.ts';
import {
  type BillingHarness,
  signUp,
  startBillingHarness,
  subscribe,
  subscriptionRow,
} from './billing-harness.ts';
import {
  createTestApp,
  createTestDatabase,
  type TestApp,
  TestClient,
  type TestDatabase,
  waitFor,
} from './helper.ts';
import { createTeam, joinedMember } from './organizations.helpers.ts';
import { registered, signedIn } from './users.helpers.ts';

const LONG_CACHE = { SESSION_CACHE_SECONDS: '60' };

/** A client on another instance carrying the same cookies (a load balancer sent it elsewhere). */
function sameBrowserOn(t: TestApp, client: TestClient): TestClient {
  const other = new TestClient(t.app);
  for (const [name, value] of client.cookies) other.cookies.set(name, value);
  return other;
}

describe('SESSION_CACHE_SECONDS', () => {
  const DATABASE_URL = 'postgres://tierbase@db.example:5432/tierbase';
  it('is on by default on the embedded database and with Redis, off on PostgreSQL without Redis', () => {
    expect(loadConfig({}).sessionCacheSeconds).toBe(5);
    expect(loadConfig({ DATABASE_URL, REDIS_URL: 'redis://127.0.0.1:6379' }).sessionCacheSeconds).toBe(5);
    // Another process (an instance, a worker, a CLI command) could change a session unheard.
    expect(loadConfig({ DATABASE_URL }).sessionCacheSeconds).toBe(0);
    expect(loadConfig({ SESSION_CACHE_SECONDS: '0' }).sessionCacheSeconds).toBe(0);
    expect(() => loadConfig({ SESSION_CACHE_SECONDS: '3600' })).toThrow(/SESSION_CACHE_SECONDS/);
  });
});

describe('SessionCache', () => {
  it('does not keep a value loaded across an invalidation', async () => {
    const cache = new SessionCache<{ userId: string }>({
      ttlMs: 60_000,
      maxEntries: 10,
      userIdOf: (value) => value.userId,
    });
    let release: () => void = () => {};
    const loading = cache.get('token', async () => {
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      return { userId: 'u1' };
    });
    // The user is changed while the read that began before is in flight.
    cache.invalidateUser('u1');
    release();
    await loading;
    expect(cache.size).toBe(0);
    let loads = 0;
    const load = async () => {
      loads += 1;
      return { userId: 'u1' };
    };
    await cache.get('token', load);
    await cache.get('token', load);
    expect([loads, cache.size]).toEqual([1, 1]);
  });
});

describe('one instance', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: LONG_CACHE });
  });
  afterAll(async () => t?.close());

  it('a logged-out session is refused on the next request, and a name change shows at once', async () => {
    const { client } = await registered(t);
    const copy = sameBrowserOn(t, client);
    expect((await copy.get('/api/profile/')).statusCode).toBe(200);
    expect((await client.patch('/api/profile/', { name: 'Grace' })).statusCode).toBe(200);
    expect((await copy.get('/api/profile/')).json().data.user.name).toBe('Grace');
    expect((await client.post('/api/logout/')).statusCode).toBe(200);
    expect((await copy.get('/api/profile/')).statusCode).toBe(401);
  });

  it('staff deactivating a user ends their cached session at once', async () => {
    const target = await registered(t);
    const staff = await registered(t);
    await t.app.database.db.update(users).set({ isStaff: true }).where(eq(users.id, staff.user.id));
    await t.app.sessions.invalidateUser(staff.user.id);
    expect((await target.client.get('/api/profile/')).statusCode).toBe(200);
    const res = await staff.client.post(`/api/admin/users/${target.user.id}/deactivate/`);
    expect(res.statusCode).toBe(200);
    expect((await target.client.get('/api/profile/')).statusCode).toBe(401);
  });

  it('a member removed from a team loses its workspace at once, not when their cached session expires', async () => {
    const owner = await registered(t, { name: 'Owner' });
    const teamId = await createTeam(owner.client, 'Cached Co');
    const member = await joinedMember(t, owner.client, teamId);
    const workspaceOf = async () => (await member.client.get('/api/profile/')).json().data.workspace;
    // Read twice: the second answer comes from the cache.
    expect(await workspaceOf()).toMatchObject({ id: teamId, role: 'member' });
    expect(await workspaceOf()).toMatchObject({ id: teamId, role: 'member' });
    const removed = await owner.client.request({
      method: 'DELETE',
      url: `/api/organizations/${teamId}/members/${member.user.id}/`,
    });
    expect(removed.statusCode).toBe(200);
    expect(await workspaceOf()).toMatchObject({ personal: true, role: 'owner' });
  });
});

// Two instances share a database and hear each other through Redis: PostgreSQL + Redis runs only.
const shared = Boolean(process.env.DATABASE_URL && process.env.REDIS_URL);
if (!shared) console.warn('session-cache: the two-instance tests need DATABASE_URL and REDIS_URL: skipped');

describe.skipIf(!shared)('two instances on one database and one Redis', () => {
  let database: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    database = await createTestDatabase();
    // One Redis key prefix for both, as the instances of one deployment have.
    const env = { ...LONG_CACHE, REDIS_KEY_PREFIX: `tierbase-test:${Date.now()}:` };
    a = await createTestApp({ database, env });
    b = await createTestApp({ database, env, workers: false });
    // Both subscribed to the invalidation channel (the cache is bypassed until then).
    await waitFor(() => a.app.sessions.listening && b.app.sessions.listening);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await database?.drop();
  });

  it('a session revoked on A is refused on B on the very next request', async () => {
    const { client, email, password } = await registered(a);
    const other = await signedIn(a, email, password);
    const onB = sameBrowserOn(b, other);
    const meOnB = sameBrowserOn(b, client);
    // Cached on B.
    expect((await onB.get('/api/profile/')).statusCode).toBe(200);
    expect((await meOnB.get('/api/profile/')).statusCode).toBe(200);
    // B answers from its cache: a change nobody announces is not seen there (nor on A) yet.
    await a.app.database.db.update(users).set({ name: 'Unannounced' }).where(eq(users.email, email));
    expect((await meOnB.get('/api/profile/')).json().data.user.name).not.toBe('Unannounced');

    expect((await client.post('/api/sessions/revoke-others/')).statusCode).toBe(200);
    expect((await onB.get('/api/profile/')).statusCode).toBe(401);
    expect((await meOnB.get('/api/profile/')).statusCode).toBe(200);

    expect((await client.post('/api/logout/')).statusCode).toBe(200);
    expect((await meOnB.get('/api/profile/')).statusCode).toBe(401);
  });

  it('is refused on B even while the invalidation is still on its way there', async () => {
    const { client, email } = await registered(a);
    const onB = sameBrowserOn(b, client);
    expect((await onB.get('/api/profile/')).statusCode).toBe(200);
    // What a revoke on A leaves behind at the moment its message has been published but not yet
    // delivered to B: the session row gone and the invalidation counted, B's cache untouched.
    const [user] = await a.app.database.db.select({ id: users.id }).from(users).where(eq(users.email, email));
    await a.app.database.db.delete(sessions).where(eq(sessions.userId, user!.id));
    await a.app.redis!.incr(`${invalidationChannel(a.config.redisKeyPrefix)}:generation`);
    expect((await onB.get('/api/profile/')).statusCode).toBe(401);
  });

  it('asks Redis once for the requests of one turn, and afresh for each later turn', async () => {
    const redis = b.app.redis!;
    const generationKey = `${invalidationChannel(b.config.redisKeyPrefix)}:generation`;
    const asked: unknown[] = [];
    const sendCommand = redis.sendCommand.bind(redis);
    redis.sendCommand = (command, stream) => {
      if (command.name === 'get' && command.args[0] === generationKey) asked.push(command);
      return sendCommand(command, stream);
    };
    try {
      // B up to date first: an announced invalidation carries the count (the test above left one
      // counted and never announced).
      await a.app.sessions.invalidateAll();
      await waitFor(async () => (await b.app.sessions.heardEverything()) || undefined);
      asked.length = 0;
      const together = await Promise.all([1, 2, 3].map(() => b.app.sessions.heardEverything()));
      expect(together).toEqual([true, true, true]);
      expect(asked).toHaveLength(1);
      // Published elsewhere, not yet delivered here: the next question reads the new count.
      await a.app.redis!.incr(generationKey);
      expect(await b.app.sessions.heardEverything()).toBe(false);
      expect(asked).toHaveLength(2);
    } finally {
      redis.sendCommand = sendCommand;
    }
  });
});

describe('a subscription changed by a webhook', () => {
  let h: BillingHarness;
  beforeAll(async () => {
    h = await startBillingHarness({ env: LONG_CACHE });
  });
  afterAll(async () => h?.close());

  it('shows on the next request of a session cached before it', async () => {
    const { client, userId } = await signUp(h.t);
    expect((await client.get('/api/profile/')).json().data.isPro).toBe(false);
    await subscribe(client);
    // No /api/billing/sync/ call: only the webhook (applied by its job) writes the row.
    await waitFor(async () => (await subscriptionRow(h.t, userId))?.status === 'trialing');
    const profile = (await client.get('/api/profile/')).json().data;
    expect(profile.isPro).toBe(true);
    expect(profile.subscription).toMatchObject({ status: 'trialing', plan: 'pro' });
  });
});
