import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, freePort, type TestApp, TestClient, waitFor } from './helper.ts';
import { createTeam, invitationToken, invite, joinedMember, seatSyncJobs } from './organizations.helpers.ts';
import { SmtpSink } from './smtp-sink.ts';
import {
  leakedSecrets,
  newEmail,
  registered,
  signedIn,
  signUpAndVerify,
  strongPassword,
} from './users.helpers.ts';

let sink: SmtpSink;
let t: TestApp;

beforeAll(async () => {
  sink = new SmtpSink(await freePort());
  await sink.start();
  t = await createTestApp({
    env: {
      SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
      MAIL_FROM: 'Tierbase <no-reply@tierbase.test>',
      JOB_POLL_INTERVAL_SECONDS: '0.5',
      RATE_LIMIT_USER_PER_MINUTE: '1000',
    },
  });
});
afterAll(async () => {
  await t?.close();
  await sink?.stop();
});

const data = (res: { json(): unknown }) => (res.json() as { data: Record<string, unknown> }).data;
const workspaceOf = async (client: TestClient) => data(await client.get('/api/profile/')).workspace;

describe('personal workspaces', () => {
  it('every new account has exactly one, named after the user, active by default', async () => {
    const { client } = await registered(t, { name: 'Grace Hopper' });
    const list = data(await client.get('/api/organizations/')).organizations as unknown[];
    expect(list).toEqual([
      {
        id: expect.any(String),
        name: 'Grace Hopper',
        personal: true,
        role: 'owner',
        memberCount: 1,
        active: true,
      },
    ]);
    const [personal] = list as { id: string }[];
    expect(await workspaceOf(client)).toEqual({
      id: personal!.id,
      name: 'Grace Hopper',
      personal: true,
      role: 'owner',
    });

    // It follows the user's name.
    await client.request({ method: 'PATCH', url: '/api/profile/', payload: { name: 'Rear Admiral Hopper' } });
    expect(await workspaceOf(client)).toMatchObject({ name: 'Rear Admiral Hopper' });
  });

  it('is made on first use for an account that lacks one (the creating hook failed after the user committed)', async () => {
    const { client, user } = await registered(t, { name: 'Orphan' });
    await t.app.database.query('delete from organizations where personal_user_id = $1', [user.id]);
    const res = await client.get('/api/profile/');
    expect(res.statusCode).toBe(200);
    expect(data(res).workspace).toMatchObject({ name: 'Orphan', personal: true, role: 'owner' });
    const rows = await t.app.database.query('select id from organizations where personal_user_id = $1', [
      user.id,
    ]);
    expect(rows).toHaveLength(1);
  });

  it('cannot be renamed, deleted, invited to, left or transferred', async () => {
    const { client } = await registered(t);
    const { id } = (await workspaceOf(client)) as { id: string };
    const refusals = [
      await client.patch(`/api/organizations/${id}/`, { name: 'Other' }),
      await client.request({ method: 'DELETE', url: `/api/organizations/${id}/` }),
      await client.post(`/api/organizations/${id}/invitations/`, { email: newEmail(), role: 'member' }),
      await client.post(`/api/organizations/${id}/leave/`),
      await client.post(`/api/organizations/${id}/transfer/`, { userId: 'someone' }),
    ];
    for (const res of refusals) {
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('PERSONAL_WORKSPACE');
    }
  });
});

describe('team organizations', () => {
  it('are created by a user who owns them, and become the active workspace', async () => {
    const { client } = await registered(t, { name: 'Ada' });
    const res = await client.post('/api/organizations/', { name: '  Analytical Engines  ' });
    expect(res.statusCode).toBe(201);
    const organization = data(res).organization as { id: string };
    expect(organization).toEqual({
      id: expect.any(String),
      name: 'Analytical Engines',
      personal: false,
      role: 'owner',
      memberCount: 1,
      active: true,
    });
    expect(await workspaceOf(client)).toEqual({
      id: organization.id,
      name: 'Analytical Engines',
      personal: false,
      role: 'owner',
    });
    const list = data(await client.get('/api/organizations/')).organizations as {
      personal: boolean;
      active: boolean;
    }[];
    expect(list.map(({ personal, active }) => ({ personal, active }))).toEqual([
      { personal: true, active: false },
      { personal: false, active: true },
    ]);

    const detail = data(await client.get(`/api/organizations/${organization.id}/`));
    expect(detail).toMatchObject({
      organization: { id: organization.id, role: 'owner', memberCount: 1, seats: null, personal: false },
      members: [{ name: 'Ada', role: 'owner', joinedAt: expect.any(String) }],
      invitations: [],
    });

    const renamed = await client.patch(`/api/organizations/${organization.id}/`, {
      name: 'Difference Engines',
    });
    expect(renamed.statusCode).toBe(200);
    expect(data(renamed).organization).toMatchObject({ name: 'Difference Engines', active: true });

    const invalid = await client.post('/api/organizations/', { name: '   ' });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json()).toMatchObject({ code: 'VALIDATION_ERROR', details: { name: expect.any(Array) } });
  });

  it('are activated per session: another session of the user keeps its own workspace', async () => {
    const { client, email, password } = await registered(t);
    const personal = (await workspaceOf(client)) as { id: string };
    const other = await signedIn(t, email, password);
    const team = await createTeam(client);
    expect(await workspaceOf(client)).toMatchObject({ id: team });
    expect(await workspaceOf(other)).toMatchObject({ id: personal.id, personal: true });

    const back = await client.post(`/api/organizations/${personal.id}/activate/`);
    expect(back.statusCode).toBe(200);
    expect(data(back).organization).toMatchObject({ id: personal.id, active: true });
    expect(await workspaceOf(client)).toMatchObject({ id: personal.id });
    await other.post(`/api/organizations/${team}/activate/`);
    expect(await workspaceOf(other)).toMatchObject({ id: team, role: 'owner' });
  });

  it('are invisible to non-members: 404 for every action, as for an unknown id', async () => {
    const owner = await registered(t);
    const team = await createTeam(owner.client);
    const stranger = await registered(t);
    for (const id of [team, 'no-such-organization']) {
      const answers = [
        await stranger.client.get(`/api/organizations/${id}/`),
        await stranger.client.patch(`/api/organizations/${id}/`, { name: 'Mine now' }),
        await stranger.client.post(`/api/organizations/${id}/activate/`),
        await stranger.client.post(`/api/organizations/${id}/invitations/`, {
          email: newEmail(),
          role: 'member',
        }),
        await stranger.client.post(`/api/organizations/${id}/leave/`),
        await stranger.client.request({ method: 'DELETE', url: `/api/organizations/${id}/` }),
      ];
      for (const res of answers) {
        expect(res.statusCode).toBe(404);
        expect(res.json().code).toBe('NOT_FOUND');
      }
    }
    expect(await workspaceOf(stranger.client)).toMatchObject({ personal: true });
    expect((await new TestClient(t.app).get('/api/organizations/')).statusCode).toBe(401);
  });
});

describe('invitations', () => {
  it('are emailed through the outbox and delivered, with a link whose token is stored only hashed', async () => {
    const owner = await registered(t, { name: 'Ada' });
    const team = await createTeam(owner.client, 'Analytical Engines');
    const email = newEmail('invitee');
    const res = await owner.client.post(`/api/organizations/${team}/invitations/`, {
      email: email.toUpperCase(),
      role: 'admin',
    });
    expect(res.statusCode).toBe(201);
    const invitation = data(res).invitation as { id: string; expiresAt: string };
    expect(invitation).toMatchObject({ email, role: 'admin' });
    const days = (Date.parse(invitation.expiresAt) - Date.now()) / (24 * 3600 * 1000);
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);

    const token = await invitationToken(t, email);
    const [mail] = await waitFor(() => (sink.to(email).length > 0 ? sink.to(email) : undefined));
    expect(mail!.subject).toBe('Ada invited you to Analytical Engines on Tierbase');
    expect(mail!.text).toContain(`${t.config.appUrl}/invitations#token=${token}`);
    await waitFor(async () => {
      const [row] = await t.app.database.query<{ status: string }>(
        "select status from email_outbox where to_address = $1 and template = 'organization-invitation'",
        [email],
      );
      return row?.status === 'sent' ? true : undefined;
    });

    const stored = await t.app.database.query<{ token_hash: string }>(
      'select token_hash from organization_invitations where id = $1',
      [invitation.id],
    );
    expect(stored).toEqual([{ token_hash: createHash('sha256').update(token).digest('base64url') }]);

    const preview = await new TestClient(t.app).post('/api/invitations/preview/', { token });
    expect(preview.statusCode).toBe(200);
    expect(data(preview)).toEqual({
      organizationName: 'Analytical Engines',
      inviterName: 'Ada',
      email,
      role: 'admin',
      expiresAt: invitation.expiresAt,
    });
    const detail = data(await owner.client.get(`/api/organizations/${team}/`));
    expect(detail.invitations).toEqual([
      {
        id: invitation.id,
        email,
        role: 'admin',
        invitedAt: expect.any(String),
        expiresAt: invitation.expiresAt,
      },
    ]);
  });

  it('are accepted by an existing account: it joins with the role and the team becomes active', async () => {
    const owner = await registered(t);
    const team = await createTeam(owner.client, 'Team Existing');
    const invitee = await registered(t, { name: 'Invitee' });
    const token = await invite(t, owner.client, team, invitee.email, 'member');
    const before = await seatSyncJobs(t, team);

    const res = await invitee.client.post('/api/invitations/accept/', { token });
    expect(res.statusCode).toBe(200);
    expect(data(res).organization).toEqual({
      id: team,
      name: 'Team Existing',
      personal: false,
      role: 'member',
      memberCount: 2,
      active: true,
    });
    expect(await workspaceOf(invitee.client)).toEqual({
      id: team,
      name: 'Team Existing',
      personal: false,
      role: 'member',
    });
    expect(await seatSyncJobs(t, team)).toBe(before + 1);
    const members = data(await owner.client.get(`/api/organizations/${team}/`)).members as {
      email: string;
    }[];
    expect(members.map((member) => member.email)).toEqual([owner.email, invitee.email]);

    // Single use: the link is spent.
    expect((await invitee.client.post('/api/invitations/accept/', { token })).statusCode).toBe(404);
    expect((await new TestClient(t.app).post('/api/invitations/preview/', { token })).statusCode).toBe(404);
  });

  it('are accepted by a brand-new account made with the invited address', async () => {
    const owner = await registered(t);
    const team = await createTeam(owner.client);
    const email = newEmail('newcomer');
    const token = await invite(t, owner.client, team, email);

    // The newcomer opens the link: the preview says which address to use, then they sign up.
    const newcomer = new TestClient(t.app);
    expect(data(await newcomer.post('/api/invitations/preview/', { token }))).toMatchObject({ email });
    expect((await newcomer.post('/api/invitations/accept/', { token })).statusCode).toBe(401);
    await signUpAndVerify(t, newcomer, { email, password: strongPassword(), name: 'Newcomer' });
    const res = await newcomer.post('/api/invitations/accept/', { token });
    expect(res.statusCode).toBe(200);
    expect(data(res).organization).toMatchObject({ id: team, role: 'member', active: true });
    const list = data(await newcomer.get('/api/organizations/')).organizations as { personal: boolean }[];
    expect(list.map((organization) => organization.personal)).toEqual([true, false]);
  });

  it('refuse another account, and an unverified one, without using the invitation up', async () => {
    const owner = await registered(t);
    const team = await createTeam(owner.client);
    const email = newEmail('rightful');
    const token = await invite(t, owner.client, team, email);

    const intruder = await registered(t);
    const wrong = await intruder.client.post('/api/invitations/accept/', { token });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().code).toBe('INVITATION_EMAIL_MISMATCH');
    expect(await workspaceOf(intruder.client)).toMatchObject({ personal: true });

    const unverified = await registered(t, { email, verified: false });
    const notYet = await unverified.client.post('/api/invitations/accept/', { token });
    expect(notYet.statusCode).toBe(403);
    expect(notYet.json().code).toBe('INVITATION_EMAIL_MISMATCH');
    expect(notYet.json().error).toMatch(/Confirm your email address/);

    const rightful = await signedIn(t, email, unverified.password);
    await t.app.database.query('update users set email_verified = true where id = $1', [unverified.user.id]);
    expect((await rightful.post('/api/invitations/accept/', { token })).statusCode).toBe(200);
  });

  it('stop working once expired, revoked or replaced', async () => {
    const owner = await registered(t);
    const team = await createTeam(owner.client);

    const late = await registered(t);
    const expired = await invite(t, owner.client, team, late.email);
    await t.app.database.query(
      "update organization_invitations set expires_at = now() - interval '1 second' where email = $1",
      [late.email],
    );
    expect((await late.client.post('/api/invitations/preview/', { token: expired })).statusCode).toBe(404);
    const tooLate = await late.client.post('/api/invitations/accept/', { token: expired });
    expect(tooLate.statusCode).toBe(404);
    expect(tooLate.json().code).toBe('NOT_FOUND');
    expect(data(await owner.client.get(`/api/organizations/${team}/`)).invitations).toEqual([]);

    const revokedUser = await registered(t);
    const revoked = await invite(t, owner.client, team, revokedUser.email);
    const [pending] = data(await owner.client.get(`/api/organizations/${team}/`)).invitations as {
      id: string;
    }[];
    const revoke = await owner.client.request({
      method: 'DELETE',
      url: `/api/organizations/${team}/invitations/${pending!.id}/`,
    });
    expect(revoke.statusCode).toBe(200);
    expect((await revokedUser.client.post('/api/invitations/accept/', { token: revoked })).statusCode).toBe(
      404,
    );
    const again = await owner.client.request({
      method: 'DELETE',
      url: `/api/organizations/${team}/invitations/${pending!.id}/`,
    });
    expect(again.statusCode).toBe(404);

    const twice = await registered(t);
    const first = await invite(t, owner.client, team, twice.email, 'admin');
    const second = await invite(t, owner.client, team, twice.email, 'member');
    expect(second).not.toBe(first);
    expect(data(await owner.client.get(`/api/organizations/${team}/`)).invitations).toHaveLength(1);
    expect((await twice.client.post('/api/invitations/accept/', { token: first })).statusCode).toBe(404);
    const accepted = await twice.client.post('/api/invitations/accept/', { token: second });
    expect(data(accepted).organization).toMatchObject({ role: 'member' });
  });

  it('to a member is a conflict; a bad address or role is a validation error', async () => {
    const owner = await registered(t);
    const team = await createTeam(owner.client);
    const member = await joinedMember(t, owner.client, team);
    for (const email of [member.email, owner.email.toUpperCase()]) {
      const res = await owner.client.post(`/api/organizations/${team}/invitations/`, {
        email,
        role: 'member',
      });
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('ALREADY_MEMBER');
    }
    const bad = await owner.client.post(`/api/organizations/${team}/invitations/`, {
      email: 'nope',
      role: 'owner',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { email: expect.any(Array), role: expect.any(Array) },
    });
    expect(
      (await new TestClient(t.app).post('/api/invitations/preview/', { token: 'made-up' })).statusCode,
    ).toBe(404);
  });
});

describe('members and roles', () => {
  it('the owner promotes and demotes; nobody else changes roles, and the owner’s role only moves by transfer', async () => {
    const owner = await registered(t);
    const team = await createTeam(owner.client);
    const admin = await joinedMember(t, owner.client, team, 'admin');
    const member = await joinedMember(t, owner.client, team, 'member');
    const url = (userId: string) => `/api/organizations/${team}/members/${userId}/`;

    const promoted = await owner.client.patch(url(member.user.id), { role: 'admin' });
    expect(promoted.statusCode).toBe(200);
    expect(data(promoted).member).toMatchObject({
      userId: member.user.id,
      role: 'admin',
      email: member.email,
    });
    expect(await workspaceOf(member.client)).toMatchObject({ role: 'admin' });
    expect(data(await owner.client.patch(url(member.user.id), { role: 'member' })).member).toMatchObject({
      role: 'member',
    });

    for (const [client, target] of [
      [admin.client, member.user.id],
      [member.client, admin.user.id],
      [admin.client, admin.user.id],
    ] as const) {
      const res = await client.patch(url(target), { role: 'admin' });
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('PERMISSION_DENIED');
    }
    const ownerself = await owner.client.patch(url(owner.user.id), { role: 'member' });
    expect(ownerself.statusCode).toBe(409);
    expect((await owner.client.patch(url(member.user.id), { role: 'owner' })).statusCode).toBe(400);
    expect((await owner.client.patch(url('not-a-member'), { role: 'admin' })).statusCode).toBe(404);
  });

  it('permissions: a member cannot invite, remove, rename or see invitations; an admin cannot remove an admin', async () => {
    const owner = await registered(t);
    const team = await createTeam(owner.client);
    const admin = await joinedMember(t, owner.client, team, 'admin');
    const otherAdmin = await joinedMember(t, owner.client, team, 'admin');
    const member = await joinedMember(t, owner.client, team, 'member');
    const victim = await joinedMember(t, owner.client, team, 'member');
    await invite(t, owner.client, team, newEmail('pending'));
    const remove = (client: TestClient, userId: string) =>
      client.request({ method: 'DELETE', url: `/api/organizations/${team}/members/${userId}/` });
    const denied = (res: { statusCode: number; json(): { code: string } }) => {
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe('PERMISSION_DENIED');
    };

    denied(
      await member.client.post(`/api/organizations/${team}/invitations/`, {
        email: newEmail(),
        role: 'member',
      }),
    );
    denied(await remove(member.client, victim.user.id));
    denied(await member.client.patch(`/api/organizations/${team}/`, { name: 'Hijacked' }));
    denied(await member.client.request({ method: 'DELETE', url: `/api/organizations/${team}/` }));
    denied(await member.client.post(`/api/organizations/${team}/transfer/`, { userId: member.user.id }));
    const seenByMember = data(await member.client.get(`/api/organizations/${team}/`));
    expect(seenByMember.invitations).toEqual([]);
    expect(seenByMember.members).toHaveLength(5);
    expect(
      (data(await admin.client.get(`/api/organizations/${team}/`)).invitations as unknown[]).length,
    ).toBe(1);

    denied(await remove(admin.client, otherAdmin.user.id));
    denied(await admin.client.request({ method: 'DELETE', url: `/api/organizations/${team}/` }));
    denied(await admin.client.post(`/api/organizations/${team}/transfer/`, { userId: admin.user.id }));
    expect(
      (await admin.client.patch(`/api/organizations/${team}/`, { name: 'Renamed by admin' })).statusCode,
    ).toBe(200);
    expect((await remove(admin.client, victim.user.id)).statusCode).toBe(200);
    expect(
      (
        await admin.client.post(`/api/organizations/${team}/invitations/`, {
          email: newEmail(),
          role: 'member',
        })
      ).statusCode,
    ).toBe(201);

    for (const client of [admin.client, owner.client]) {
      const res = await remove(client, owner.user.id);
      expect(res.statusCode).toBe(409);
      expect(res.json().code).toBe('OWNER_CANNOT_LEAVE');
    }
    expect((await remove(owner.client, otherAdmin.user.id)).statusCode).toBe(200);
  });

  it('a removed member loses the team at once: their session falls back to the personal workspace', async () => {
    const owner = await registered(t);
    const team = await createTeam(owner.client);
    const member = await joinedMember(t, owner.client, team);
    expect(await workspaceOf(member.client)).toMatchObject({ id: team });
    const before = await seatSyncJobs(t, team);

    const res = await owner.client.request({
      method: 'DELETE',
      url: `/api/organizations/${team}/members/${member.user.id}/`,
    });
    expect(res.statusCode).toBe(200);
    expect(await workspaceOf(member.client)).toMatchObject({ personal: true });
    expect((await member.client.get(`/api/organizations/${team}/`)).statusCode).toBe(404);
    expect(data(await owner.client.get(`/api/organizations/${team}/`)).organization).toMatchObject({
      memberCount: 1,
    });
    expect(await seatSyncJobs(t, team)).toBe(before + 1);
  });

  it('any member but the owner can leave', async () => {
    const owner = await registered(t);
    const team = await createTeam(owner.client);
    const admin = await joinedMember(t, owner.client, team, 'admin');
    const before = await seatSyncJobs(t, team);

    const left = await admin.client.post(`/api/organizations/${team}/leave/`);
    expect(left.statusCode).toBe(200);
    expect(await workspaceOf(admin.client)).toMatchObject({ personal: true });
    expect(await seatSyncJobs(t, team)).toBe(before + 1);
    const list = data(await admin.client.get('/api/organizations/')).organizations as unknown[];
    expect(list).toHaveLength(1);

    const ownerLeaves = await owner.client.post(`/api/organizations/${team}/leave/`);
    expect(ownerLeaves.statusCode).toBe(409);
    expect(ownerLeaves.json().code).toBe('OWNER_CANNOT_LEAVE');
  });

  it('the owner transfers the ownership to a member and becomes an admin', async () => {
    const owner = await registered(t);
    const team = await createTeam(owner.client);
    const member = await joinedMember(t, owner.client, team);
    const stranger = await registered(t);

    expect(
      (await owner.client.post(`/api/organizations/${team}/transfer/`, { userId: stranger.user.id }))
        .statusCode,
    ).toBe(404);
    const res = await owner.client.post(`/api/organizations/${team}/transfer/`, { userId: member.user.id });
    expect(res.statusCode).toBe(200);
    const roles = Object.fromEntries(
      (data(res).members as { userId: string; role: string }[]).map((entry) => [entry.userId, entry.role]),
    );
    expect(roles).toEqual({ [member.user.id]: 'owner', [owner.user.id]: 'admin' });
    expect(data(res).organization).toMatchObject({ role: 'admin' });
    expect(await workspaceOf(member.client)).toMatchObject({ role: 'owner' });

    const formerOwner = await owner.client.post(`/api/organizations/${team}/transfer/`, {
      userId: owner.user.id,
    });
    expect(formerOwner.statusCode).toBe(403);
    expect((await owner.client.post(`/api/organizations/${team}/leave/`)).statusCode).toBe(200);
  });

  it('a team is deleted by its owner only; its members fall back to their personal workspace', async () => {
    const owner = await registered(t);
    const team = await createTeam(owner.client);
    const admin = await joinedMember(t, owner.client, team, 'admin');
    expect(
      (await admin.client.request({ method: 'DELETE', url: `/api/organizations/${team}/` })).statusCode,
    ).toBe(403);
    const res = await owner.client.request({ method: 'DELETE', url: `/api/organizations/${team}/` });
    expect(res.statusCode).toBe(200);
    expect(await workspaceOf(admin.client)).toMatchObject({ personal: true });
    expect(await workspaceOf(owner.client)).toMatchObject({ personal: true });
    expect((await owner.client.get(`/api/organizations/${team}/`)).statusCode).toBe(404);
  });
});

describe('account deletion and organizations', () => {
  it('is refused while the account owns a team with other members, and goes through after a transfer', async () => {
    const owner = await registered(t);
    const team = await createTeam(owner.client);
    const member = await joinedMember(t, owner.client, team);
    const solo = await createTeam(owner.client, 'Solo');

    const refused = await owner.client.post('/api/account/delete/', { password: owner.password });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('OWNS_TEAM_ORGANIZATION');
    expect((await owner.client.get('/api/profile/')).statusCode).toBe(200);

    await owner.client.post(`/api/organizations/${team}/transfer/`, { userId: member.user.id });
    const before = await seatSyncJobs(t, team);
    const deleted = await owner.client.post('/api/account/delete/', { password: owner.password });
    expect(deleted.statusCode).toBe(200);
    // The team stays with its new owner, one seat fewer; the team the user had alone went with them.
    const detail = data(await member.client.get(`/api/organizations/${team}/`));
    expect(detail.members).toEqual([expect.objectContaining({ userId: member.user.id, role: 'owner' })]);
    expect(await seatSyncJobs(t, team)).toBe(before + 1);
    const left = await t.app.database.query(
      'select id from organizations where id = $1 or personal_user_id = $2',
      [solo, owner.user.id],
    );
    expect(left).toEqual([]);
  });

  it('takes the pending invitations to the address with it', async () => {
    const owner = await registered(t);
    const team = await createTeam(owner.client);
    const invitee = await registered(t);
    await invite(t, owner.client, team, invitee.email);
    expect(
      (await invitee.client.post('/api/account/delete/', { password: invitee.password })).statusCode,
    ).toBe(200);
    expect(data(await owner.client.get(`/api/organizations/${team}/`)).invitations).toEqual([]);
  });
});

describe('admin', () => {
  it('shows a user’s organizations, personal first, with their role and members', async () => {
    const staff = await registered(t);
    await t.app.database.query('update users set is_staff = true where id = $1', [staff.user.id]);
    const owner = await registered(t, { name: 'Owner Person' });
    const team = await createTeam(owner.client, 'Admin-visible Team');
    const member = await joinedMember(t, owner.client, team, 'admin');

    const res = await staff.client.get(`/api/admin/users/${member.user.id}/`);
    expect(res.statusCode).toBe(200);
    expect(data(res).organizations).toEqual([
      {
        id: expect.any(String),
        name: 'Member',
        personal: true,
        role: 'owner',
        memberCount: 1,
        subscription: null,
      },
      {
        id: team,
        name: 'Admin-visible Team',
        personal: false,
        role: 'admin',
        memberCount: 2,
        subscription: null,
      },
    ]);
  });
});

describe('logs', () => {
  it('never contain an address, a password or an invitation token', () => {
    expect(leakedSecrets(t)).toEqual([]);
  });
});
