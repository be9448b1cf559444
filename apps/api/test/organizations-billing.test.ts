import type Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { aiRows, makeOrganizationPro, seedUsage } from './ai.helpers.ts';
import { type BillingHarness, payOnHostedCheckout, startBillingHarness } from './billing-harness.ts';
import type { TestClient } from './helper.ts';
import { type OpenAiStub, startOpenAiStub } from './openai-stub-server.ts';
import { createTeam, joinedMember } from './organizations.helpers.ts';
import { registered } from './users.helpers.ts';

/**
 * Billing per organization (decision 25): the active workspace's subscription decides Pro and the
 * AI quota, its members share that quota, a team is billed per member, and only its owner and
 * admins manage its billing. The real app, Stripe emulated over HTTP, the AI behind a local stub.
 */

let h: BillingHarness;
let stub: OpenAiStub;

beforeAll(async () => {
  stub = await startOpenAiStub();
  h = await startBillingHarness({
    env: {
      OPENAI_API_KEY: 'sk-test-stub-key',
      OPENAI_BASE_URL: stub.baseUrl,
      AI_MODEL: 'stub-model',
      RATE_LIMIT_USER_PER_MINUTE: '1000',
    },
  });
});
afterAll(async () => {
  await h?.close();
  await stub?.close();
});
beforeEach(() => stub.reset());

const data = (res: { json(): unknown }) => (res.json() as { data: Record<string, unknown> }).data;
const profileOf = async (client: TestClient) => data(await client.get('/api/profile/'));
const personalId = async (client: TestClient) => {
  const list = data(await client.get('/api/organizations/')).organizations as {
    id: string;
    personal: boolean;
  }[];
  return list.find((organization) => organization.personal)!.id;
};

describe('the Pro gate follows the active workspace', () => {
  it('a member of a Pro team is Pro while the team is active, and not in their free personal workspace', async () => {
    const owner = await registered(h.t);
    const team = await createTeam(owner.client, 'Pro Team');
    await makeOrganizationPro(h.t, { organizationId: team });
    const member = await joinedMember(h.t, owner.client, team);

    expect(await profileOf(member.client)).toMatchObject({
      workspace: { id: team, role: 'member' },
      isPro: true,
      subscription: { status: 'active', plan: 'pro' },
    });
    const generated = await member.client.post('/api/ai/generate/', { prompt: 'Hello team', maxTokens: 20 });
    expect(generated.statusCode).toBe(200);
    expect((await aiRows(h.t, member.user.id)).map((row) => row.organization_id)).toEqual([team]);

    await member.client.post(`/api/organizations/${await personalId(member.client)}/activate/`);
    expect(await profileOf(member.client)).toMatchObject({
      workspace: { personal: true },
      isPro: false,
      subscription: null,
    });
    const refused = await member.client.post('/api/ai/generate/', { prompt: 'Hello me', maxTokens: 20 });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('SUBSCRIPTION_INACTIVE');
    expect(data(await member.client.get('/api/billing/status/'))).toMatchObject({
      isPro: false,
      plan: 'free',
    });

    // And back: the team's Pro is there again in the same session.
    await member.client.post(`/api/organizations/${team}/activate/`);
    expect(await profileOf(member.client)).toMatchObject({ isPro: true });
  });

  it('AI usage counts against the team’s quota for all its members; each sees only their own history', async () => {
    const owner = await registered(h.t);
    const team = await createTeam(owner.client, 'Busy Team');
    await makeOrganizationPro(h.t, { organizationId: team });
    const member = await joinedMember(h.t, owner.client, team);
    // The owner has used all but one of the Pro plan's 500 requests this period.
    await seedUsage(h.t, owner.user.id, { requests: 499, tokensEach: 10, organizationId: team });

    const last = await member.client.post('/api/ai/generate/', { prompt: 'The last one', maxTokens: 20 });
    expect(last.statusCode).toBe(200);
    const refused = await owner.client.post('/api/ai/generate/', { prompt: 'One more', maxTokens: 20 });
    expect(refused.statusCode).toBe(429);
    expect(refused.json().code).toBe('AI_QUOTA_EXCEEDED');
    const alsoRefused = await member.client.post('/api/ai/generate/', { prompt: 'And me?', maxTokens: 20 });
    expect(alsoRefused.statusCode).toBe(429);

    for (const client of [owner.client, member.client]) {
      const status = data(await client.get('/api/billing/status/'));
      expect(status.aiUsage).toMatchObject({ requests: { used: 500, limit: 500 } });
    }
    const history = data(await member.client.get('/api/ai/history/')).items as { prompt: string }[];
    expect(history.map((item) => item.prompt)).toEqual(['The last one']);

    // The owner's personal workspace has its own (free) plan: no quota was used there.
    await owner.client.post(`/api/organizations/${await personalId(owner.client)}/activate/`);
    expect(data(await owner.client.get('/api/billing/status/'))).toMatchObject({
      isPro: false,
      aiUsage: null,
    });
  });
});

describe('a team’s subscription', () => {
  it('is bought by the owner or an admin, for one seat per member, and makes every member Pro', async () => {
    const owner = await registered(h.t, { name: 'Owner' });
    const team = await createTeam(owner.client, 'Seated Team');
    const admin = await joinedMember(h.t, owner.client, team, 'admin');
    const member = await joinedMember(h.t, owner.client, team, 'member');

    for (const attempt of [
      await member.client.post('/api/billing/checkout/', { plan: 'pro', interval: 'month' }),
      await member.client.get('/api/stripe/portal/'),
      await member.client.get('/api/invoices/'),
    ]) {
      expect(attempt.statusCode).toBe(403);
      expect(attempt.json().code).toBe('PERMISSION_DENIED');
    }
    expect(data(await member.client.get('/api/billing/status/'))).toMatchObject({
      isPro: false,
      plan: 'free',
    });

    const checkout = await admin.client.post('/api/billing/checkout/', { plan: 'pro', interval: 'month' });
    expect(checkout.statusCode).toBe(200);
    const url = (data(checkout) as { url: string }).url;
    const session = await h.stripe.checkout.sessions.retrieve(url.split('/').pop()!);
    expect(session.client_reference_id).toBe(team);
    expect(session.metadata).toMatchObject({ organization_id: team });
    const customer = (await h.stripe.customers.retrieve(session.customer as string)) as Stripe.Customer;
    expect(customer.metadata).toMatchObject({ organization_id: team });
    expect(customer.name).toBe('Seated Team');

    const paid = await payOnHostedCheckout(url);
    const sessionId = new URL(paid.location!).searchParams.get('session_id');
    // Another member cannot claim the team's checkout for their own workspace.
    await member.client.post(`/api/organizations/${await personalId(member.client)}/activate/`);
    expect((await member.client.post('/api/billing/sync/', { sessionId })).statusCode).toBe(404);
    await member.client.post(`/api/organizations/${team}/activate/`);

    const synced = await admin.client.post('/api/billing/sync/', { sessionId });
    expect(data(synced)).toMatchObject({ isPro: true, status: 'trialing', plan: 'pro' });
    await h.emulator.webhooks.flush();
    const [subscription] = (await h.stripe.subscriptions.list({ customer: customer.id })).data;
    expect(subscription!.items.data[0]!.quantity).toBe(3);
    expect(data(await owner.client.get(`/api/organizations/${team}/`)).organization).toMatchObject({
      memberCount: 3,
      seats: 3,
    });
    expect(await profileOf(member.client)).toMatchObject({ workspace: { id: team }, isPro: true });
    expect(data(await member.client.get('/api/billing/status/'))).toMatchObject({ isPro: true, plan: 'pro' });
    expect((await owner.client.get('/api/invoices/')).statusCode).toBe(200);

    const again = await owner.client.post('/api/billing/checkout/', { plan: 'pro', interval: 'year' });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('ALREADY_SUBSCRIBED');

    const deletion = await owner.client.request({ method: 'DELETE', url: `/api/organizations/${team}/` });
    expect(deletion.statusCode).toBe(409);
    expect(deletion.json().code).toBe('ORGANIZATION_HAS_SUBSCRIPTION');
  });

  it('of a personal workspace is still one seat, as before organizations', async () => {
    const { client } = await registered(h.t);
    const res = await client.post('/api/billing/checkout/', { plan: 'pro', interval: 'month' });
    expect(res.statusCode).toBe(200);
    const paid = await payOnHostedCheckout((data(res) as { url: string }).url);
    const sessionId = new URL(paid.location!).searchParams.get('session_id');
    expect(data(await client.post('/api/billing/sync/', { sessionId }))).toMatchObject({ isPro: true });
    const organizationId = await personalId(client);
    const detail = data(await client.get(`/api/organizations/${organizationId}/`));
    expect(detail.organization).toMatchObject({ personal: true, seats: 1 });
  });
});
