import type { TestApp, TestClient } from './helper.ts';
import { waitFor } from './helper.ts';
import { registered, secrets } from './users.helpers.ts';

/** Creates a team through the API as `owner` (it becomes their active workspace); returns its id. */
export async function createTeam(owner: TestClient, name = 'Acme'): Promise<string> {
  const res = await owner.post('/api/organizations/', { name });
  if (res.statusCode !== 201) throw new Error(`create failed: ${res.statusCode} ${res.body}`);
  return (res.json() as { data: { organization: { id: string } } }).data.organization.id;
}

/** The token of the newest invitation email sent to an address, read from the outbox like an inbox. */
export async function invitationToken(t: TestApp, email: string): Promise<string> {
  const [row] = await waitFor(async () => {
    const rows = await t.app.database.query<{ text: string }>(
      `select text from email_outbox where lower(to_address) = lower($1) and template = 'organization-invitation'
       order by created_at desc, id desc limit 1`,
      [email],
    );
    return rows.length > 0 ? rows : undefined;
  });
  const match = /\/invitations#token=([^\s&"'<>)]+)/.exec(row!.text);
  if (!match?.[1]) throw new Error('no invitation link in the email');
  const token = decodeURIComponent(match[1]);
  secrets.add(token);
  return token;
}

export async function invite(
  t: TestApp,
  inviter: TestClient,
  organizationId: string,
  email: string,
  role: 'admin' | 'member' = 'member',
): Promise<string> {
  const res = await inviter.post(`/api/organizations/${organizationId}/invitations/`, { email, role });
  if (res.statusCode !== 201) throw new Error(`invite failed: ${res.statusCode} ${res.body}`);
  return invitationToken(t, email);
}

/** A new verified account that joined the organization with `role` by accepting an invitation. */
export async function joinedMember(
  t: TestApp,
  inviter: TestClient,
  organizationId: string,
  role: 'admin' | 'member' = 'member',
  name = 'Member',
) {
  const account = await registered(t, { name });
  const token = await invite(t, inviter, organizationId, account.email, role);
  const res = await account.client.post('/api/invitations/accept/', { token });
  if (res.statusCode !== 200) throw new Error(`accept failed: ${res.statusCode} ${res.body}`);
  return account;
}

/** Seat sync jobs enqueued for the organization (in any state). */
export async function seatSyncJobs(t: TestApp, organizationId: string): Promise<number> {
  const [row] = await t.app.database.query<{ count: string }>(
    "select count(*)::text as count from pgboss.job where name = 'billing.sync-seats' and data->>'organizationId' = $1",
    [organizationId],
  );
  return Number(row?.count ?? 0);
}
