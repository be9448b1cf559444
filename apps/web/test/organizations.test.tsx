import { defaultScheduler, notifyManager } from '@tanstack/react-query';
import { configure, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type {
  OrganizationDetailResponse,
  OrganizationRole,
  OrganizationSummary,
  Profile,
} from '@tierbase/contracts';
import { describe, expect, onTestFinished, test, vi } from 'vitest';
import { expectNoAxeViolations } from './axe.ts';
import { billingStatus, fail, fakeApi, ok, PRO_STATUS, profile, UNAUTHENTICATED } from './fake-api.ts';
import { renderApp } from './render.tsx';

// These flows span several pages, each a lazily loaded chunk: on a busy machine the first load of
// one takes longer than Testing Library's default second.
configure({ asyncUtilTimeout: 4000 });
vi.setConfig({ testTimeout: 20_000 });

const PERSONAL: OrganizationSummary = {
  id: 'o1',
  name: 'Ada Lovelace',
  personal: true,
  role: 'owner',
  memberCount: 1,
  active: true,
};
const ACME: OrganizationSummary = {
  id: 'team1',
  name: 'Acme',
  personal: false,
  role: 'owner',
  memberCount: 3,
  active: false,
};

/** Ada (u1) with a team as the active workspace, in the given role. */
function teamProfile(role: OrganizationRole, overrides: Partial<Profile> = {}): Profile {
  return { ...profile(), workspace: { id: 'team1', name: 'Acme', personal: false, role }, ...overrides };
}

const member = (userId: string, name: string, role: OrganizationRole) => ({
  userId,
  name,
  email: `${name.split(' ')[0]?.toLowerCase()}@example.com`,
  role,
  joinedAt: '2026-03-01T00:00:00.000Z',
});

/** Acme as Ada sees it in `role`: Olivia owns it unless Ada does. */
function acme(role: OrganizationRole): OrganizationDetailResponse {
  const members =
    role === 'owner'
      ? [
          member('u1', 'Ada Lovelace', 'owner'),
          member('u2', 'Grace Hopper', 'admin'),
          member('u3', 'Alan Turing', 'member'),
        ]
      : [
          member('u9', 'Olivia Owner', 'owner'),
          member('u2', 'Grace Hopper', 'admin'),
          member('u1', 'Ada Lovelace', role),
          member('u3', 'Alan Turing', 'member'),
        ];
  return {
    organization: {
      id: 'team1',
      name: 'Acme',
      personal: false,
      role,
      memberCount: members.length,
      seats: members.length,
      createdAt: '2026-02-01T00:00:00.000Z',
    },
    members,
    invitations:
      role === 'member'
        ? []
        : [
            {
              id: 'inv1',
              email: 'bob@example.com',
              role: 'member',
              invitedAt: '2026-11-28T00:00:00.000Z',
              expiresAt: '2026-12-05T00:00:00.000Z',
            },
          ],
  };
}

function teamRoutes(role: OrganizationRole) {
  return {
    'GET /api/profile/': ok(teamProfile(role)),
    'GET /api/billing/status/': ok(PRO_STATUS),
    'GET /api/organizations/team1/': ok(acme(role)),
    'GET /api/organizations/': ok({
      organizations: [
        { ...PERSONAL, active: false },
        { ...ACME, role, active: true },
      ],
    }),
  };
}

const sent = (calls: { method: string; path: string; body: unknown }[], method: string, path: string) =>
  calls.filter((call) => call.method === method && call.path === path).map((call) => call.body);

describe('workspace switcher', () => {
  test('shows the active workspace, lists the others, and switching re-reads profile and billing', async () => {
    let active = 'o1';
    const { calls } = fakeApi({
      'GET /api/profile/': () => ok(active === 'o1' ? profile() : { ...teamProfile('owner'), isPro: true }),
      'GET /api/billing/status/': () => ok(active === 'o1' ? billingStatus() : PRO_STATUS),
      'GET /api/organizations/': () =>
        ok({
          organizations: [
            { ...PERSONAL, active: active === 'o1' },
            { ...ACME, active: active === 'team1' },
          ],
        }),
      'POST /api/organizations/team1/activate/': () => {
        active = 'team1';
        return ok({ organization: { ...ACME, active: true } });
      },
    });
    const user = userEvent.setup();
    renderApp('/');
    const nav = await screen.findByRole('navigation', { name: 'Main' });
    // The switcher names the kind of workspace and the account names the person: Ada's name (her
    // personal workspace's too) is in the bar once.
    const toggle = await within(nav).findByRole('button', { name: 'Workspace: Personal' });
    expect(within(nav).getAllByText('Ada Lovelace')).toHaveLength(1);
    expect(nav).toHaveTextContent('Signed in as Ada Lovelace');
    expect(nav).toHaveTextContent('Plan: Free');
    expect(toggle).toHaveAttribute('aria-expanded', 'false');

    await user.click(toggle);
    expect(toggle).toHaveAttribute('aria-expanded', 'true');
    const list = await screen.findByRole('list', { name: 'Switch workspace' });
    const personal = within(list).getByRole('button', { name: /Ada Lovelace/ });
    expect(personal).toHaveAttribute('aria-current', 'true');
    expect(personal).toHaveTextContent('Personal');
    const team = within(list).getByRole('button', { name: /Acme/ });
    expect(team).not.toHaveAttribute('aria-current');
    expect(team).toHaveTextContent('Team · Owner · 3 members');
    expect(screen.getByRole('link', { name: 'Manage workspaces and teams' })).toHaveAttribute(
      'href',
      '/organizations',
    );
    await expectNoAxeViolations();

    const profileReads = sent(calls, 'GET', '/api/profile/').length;
    const statusReads = sent(calls, 'GET', '/api/billing/status/').length;
    await user.click(team);
    // Pro follows the workspace: the profile and billing status are read again for the team.
    await waitFor(() => expect(nav).toHaveTextContent('Plan: Pro'));
    expect(sent(calls, 'POST', '/api/organizations/team1/activate/')).toHaveLength(1);
    expect(sent(calls, 'GET', '/api/profile/').length).toBeGreaterThan(profileReads);
    expect(sent(calls, 'GET', '/api/billing/status/').length).toBeGreaterThan(statusReads);
    const switched = within(nav).getByRole('button', { name: /^Workspace: Acme/ });
    expect(switched).toHaveAttribute('aria-expanded', 'false');
    expect(switched).toHaveFocus();
    expect(await screen.findByRole('heading', { level: 1, name: 'Welcome back, Ada' })).toBeInTheDocument();
  });

  test('Escape closes it and gives focus back; a refused switch is said in the panel', async () => {
    fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'GET /api/organizations/': ok({ organizations: [PERSONAL, ACME] }),
      'POST /api/organizations/team1/activate/': fail(404, 'NOT_FOUND', 'Organization not found.'),
    });
    const user = userEvent.setup();
    renderApp('/');
    const toggle = await screen.findByRole('button', { name: 'Workspace: Personal' });
    await user.click(toggle);
    await user.click(await screen.findByRole('button', { name: /Acme/ }));
    expect(await screen.findByRole('alert')).toHaveTextContent('Organization not found.');
    await user.keyboard('{Escape}');
    expect(toggle).toHaveAttribute('aria-expanded', 'false');
    expect(toggle).toHaveFocus();
    expect(screen.queryByRole('list', { name: 'Switch workspace' })).not.toBeInTheDocument();
  });
});

describe('the workspaces page', () => {
  test('lists the workspaces, marks the active one, and creates a team that becomes active', async () => {
    let created = false;
    const { calls } = fakeApi({
      'GET /api/profile/': () => ok(created ? teamProfile('owner') : profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'GET /api/organizations/': () =>
        ok({
          organizations: created
            ? [
                { ...PERSONAL, active: false },
                { ...ACME, memberCount: 1, active: true },
              ]
            : [PERSONAL],
        }),
      'POST /api/organizations/': ({ body }) => {
        if ((body as { name: string }).name === 'x'.repeat(101)) {
          return fail(400, 'VALIDATION_ERROR', 'Some fields are invalid.', {
            details: { name: ['Use at most 100 characters.'] },
          });
        }
        created = true;
        return ok({ organization: { ...ACME, memberCount: 1, active: true } }, 201);
      },
      'GET /api/organizations/team1/': ok({
        ...acme('owner'),
        organization: { ...acme('owner').organization, memberCount: 1, seats: null },
        members: [member('u1', 'Ada Lovelace', 'owner')],
        invitations: [],
      }),
    });
    const user = userEvent.setup();
    renderApp('/organizations');
    expect(await screen.findByRole('heading', { level: 1, name: 'Workspaces' })).toBeInTheDocument();
    const list = await screen.findByRole('list');
    expect(within(list).getByRole('link', { name: 'Ada Lovelace' })).toHaveAttribute(
      'href',
      '/organizations/o1',
    );
    expect(list).toHaveTextContent('Active');
    expect(list).toHaveTextContent('Personal · only you');
    await expectNoAxeViolations();

    const name = screen.getByLabelText('Team name');
    expect(screen.getByRole('button', { name: 'Create team' })).toBeDisabled();
    // The field has maxLength; bypass it to see the contract's rule refuse the name on its field.
    name.removeAttribute('maxlength');
    await user.type(name, 'x'.repeat(101));
    await user.click(screen.getByRole('button', { name: 'Create team' }));
    await waitFor(() => expect(name).toHaveAccessibleDescription('Use at most 100 characters.'));
    expect(name).toHaveAttribute('aria-invalid', 'true');

    await user.clear(name);
    await user.type(name, '  Acme ');
    await user.click(screen.getByRole('button', { name: 'Create team' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Acme' })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/organizations\/team1$/);
    expect(sent(calls, 'POST', '/api/organizations/').at(-1)).toEqual({ name: 'Acme' });
    // The new team is the active workspace: the top bar says so.
    await waitFor(() => expect(screen.getByRole('button', { name: /^Workspace: Acme/ })).toBeInTheDocument());
    expect(screen.getByText('1 member · no subscription yet')).toBeInTheDocument();
  });

  test('switches to another workspace from the list', async () => {
    const { calls } = fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'GET /api/organizations/': ok({ organizations: [PERSONAL, ACME] }),
      'POST /api/organizations/team1/activate/': ok({ organization: { ...ACME, active: true } }),
    });
    const user = userEvent.setup();
    renderApp('/organizations');
    await user.click(await screen.findByRole('button', { name: 'Switch to it (Acme)' }));
    await waitFor(() => expect(sent(calls, 'POST', '/api/organizations/team1/activate/')).toHaveLength(1));
    // Only the inactive ones offer the switch.
    expect(screen.queryByRole('button', { name: 'Switch to it (Ada Lovelace)' })).not.toBeInTheDocument();
  });
});

describe('a team page, as its owner', () => {
  test('shows members with roles, the billed seats and what adding a member costs', async () => {
    fakeApi(teamRoutes('owner'));
    renderApp('/organizations/team1');
    expect(await screen.findByRole('heading', { level: 1, name: 'Acme' })).toBeInTheDocument();
    const members = screen.getByRole('region', { name: 'Members' });
    expect(members).toHaveTextContent('3 members · 3 billed seats');
    expect(members).toHaveTextContent(
      /Every member is a billed seat.*Stripe prorates the difference at once/,
    );
    const rows = within(members).getAllByRole('listitem');
    expect(rows.map((row) => row.textContent)).toEqual([
      expect.stringMatching(/^Ada Lovelace \(you\)ada@example\.comOwner/),
      expect.stringMatching(/^Grace Hoppergrace@example\.comAdmin/),
      expect.stringMatching(/^Alan Turingalan@example\.comMember/),
    ]);
    // The owner cannot be removed nor demoted, least of all by themself.
    expect(within(rows[0] as HTMLElement).queryByRole('button')).not.toBeInTheDocument();
    expect(
      within(rows[1] as HTMLElement).getByRole('button', { name: 'Make member (Grace Hopper)' }),
    ).toBeVisible();
    expect(
      within(rows[2] as HTMLElement).getByRole('button', { name: 'Make admin (Alan Turing)' }),
    ).toBeVisible();
    expect(screen.getByRole('region', { name: 'Invite a member' })).toHaveTextContent(
      'the subscription gains a seat, prorated',
    );
    for (const card of ['Pending invitations', 'Team name', 'Transfer ownership', 'Delete team']) {
      expect(screen.getByRole('region', { name: card })).toBeInTheDocument();
    }
    expect(screen.queryByRole('region', { name: 'Leave team' })).not.toBeInTheDocument();
    await expectNoAxeViolations();
  });

  test('invites by email and role; an address that is already a member is said on the field', async () => {
    const api = fakeApi({
      ...teamRoutes('owner'),
      'POST /api/organizations/team1/invitations/': fail(
        409,
        'ALREADY_MEMBER',
        'alan@example.com is already a member of Acme.',
      ),
    });
    const user = userEvent.setup();
    renderApp('/organizations/team1');
    const email = await screen.findByLabelText('Email address');
    await user.type(email, 'alan@example.com');
    await user.click(screen.getByRole('button', { name: 'Send invitation' }));
    await waitFor(() => expect(email).toHaveAttribute('aria-invalid', 'true'));
    expect(email).toHaveAccessibleDescription('alan@example.com is already a member of Acme.');

    api.set('POST /api/organizations/team1/invitations/', ({ body }) =>
      ok(
        {
          invitation: {
            id: 'inv2',
            email: (body as { email: string }).email,
            role: (body as { role: string }).role,
            invitedAt: '2026-12-01T00:00:00.000Z',
            expiresAt: '2026-12-08T00:00:00.000Z',
          },
        },
        201,
      ),
    );
    await user.clear(email);
    await user.type(email, 'carol@example.com');
    await user.selectOptions(screen.getByLabelText('Role'), 'admin');
    await user.click(screen.getByRole('button', { name: 'Send invitation' }));
    const notice = await screen.findByText(/^Invitation sent to carol@example.com\./);
    expect(notice.closest('[tabindex="-1"]')).toHaveFocus();
    expect(email).toHaveValue('');
    expect(
      api.calls
        .filter((call) => call.path === '/api/organizations/team1/invitations/')
        .map((call) => call.body),
    ).toEqual([
      { email: 'alan@example.com', role: 'member' },
      { email: 'carol@example.com', role: 'admin' },
    ]);
  });

  test('revokes a pending invitation', async () => {
    let revoked = false;
    const { calls } = fakeApi({
      ...teamRoutes('owner'),
      'GET /api/organizations/team1/': () =>
        ok({ ...acme('owner'), invitations: revoked ? [] : acme('owner').invitations }),
      'DELETE /api/organizations/team1/invitations/inv1/': () => {
        revoked = true;
        return ok({ message: 'Invitation revoked.' });
      },
    });
    const user = userEvent.setup();
    renderApp('/organizations/team1');
    const pending = await screen.findByRole('region', { name: 'Pending invitations' });
    expect(pending).toHaveTextContent('bob@example.com');
    expect(pending).toHaveTextContent('Member · sent November 28, 2026 · expires December 5, 2026');
    await user.click(
      within(pending).getByRole('button', { name: 'Revoke the invitation to bob@example.com' }),
    );
    expect(await screen.findByText(/The invitation to bob@example.com was revoked/)).toBeInTheDocument();
    await waitFor(() => expect(pending).toHaveTextContent('No invitations waiting for an answer.'));
    expect(sent(calls, 'DELETE', '/api/organizations/team1/invitations/inv1/')).toHaveLength(1);
  });

  test('changes a role, and removes a member after confirming', async () => {
    let state = acme('owner');
    const { calls } = fakeApi({
      ...teamRoutes('owner'),
      'GET /api/organizations/team1/': () => ok(state),
      'PATCH /api/organizations/team1/members/u3/': ({ body }) => {
        const role = (body as { role: OrganizationRole }).role;
        state = { ...state, members: state.members.map((m) => (m.userId === 'u3' ? { ...m, role } : m)) };
        return ok({ member: state.members[2] });
      },
      'DELETE /api/organizations/team1/members/u3/': () => {
        state = {
          ...state,
          organization: { ...state.organization, memberCount: 2, seats: 2 },
          members: state.members.filter((m) => m.userId !== 'u3'),
        };
        return ok({ message: 'Removed.' });
      },
    });
    const user = userEvent.setup();
    renderApp('/organizations/team1');
    await user.click(await screen.findByRole('button', { name: 'Make admin (Alan Turing)' }));
    expect(await screen.findByText('Alan Turing is now an admin.')).toBeInTheDocument();
    await screen.findByRole('button', { name: 'Make member (Alan Turing)' });
    expect(sent(calls, 'PATCH', '/api/organizations/team1/members/u3/')).toEqual([{ role: 'admin' }]);

    // Cancel first: nothing is sent and focus goes back to the button.
    const remove = screen.getByRole('button', { name: 'Remove Alan Turing' });
    await user.click(remove);
    const question = screen.getByText('Remove Alan Turing from Acme?');
    expect(question).toHaveFocus();
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Remove Alan Turing' })).toHaveFocus());

    await user.click(screen.getByRole('button', { name: 'Remove Alan Turing' }));
    await user.click(screen.getByRole('button', { name: 'Yes, remove' }));
    expect(await screen.findByText(/Alan Turing was removed from Acme/)).toBeInTheDocument();
    await waitFor(() => expect(screen.getByText('2 members · 2 billed seats')).toBeInTheDocument());
    expect(screen.queryByText('alan@example.com')).not.toBeInTheDocument();
    expect(sent(calls, 'DELETE', '/api/organizations/team1/members/u3/')).toHaveLength(1);
  });

  test('transfers ownership only after a confirmation, and becomes an admin', async () => {
    const after = acme('owner');
    after.organization.role = 'admin';
    after.members = after.members.map((m) =>
      m.userId === 'u1' ? { ...m, role: 'admin' } : m.userId === 'u2' ? { ...m, role: 'owner' } : m,
    );
    let transferred = false;
    const { calls } = fakeApi({
      ...teamRoutes('owner'),
      'GET /api/profile/': () => ok(teamProfile(transferred ? 'admin' : 'owner')),
      'GET /api/organizations/team1/': () => ok(transferred ? after : acme('owner')),
      'POST /api/organizations/team1/transfer/': () => {
        transferred = true;
        return ok(after);
      },
    });
    const user = userEvent.setup();
    renderApp('/organizations/team1');
    const card = await screen.findByRole('region', { name: 'Transfer ownership' });
    const start = within(card).getByRole('button', { name: 'Transfer ownership…' });
    expect(start).toBeDisabled();
    await user.selectOptions(within(card).getByLabelText('New owner'), 'u2');
    await user.click(start);
    expect(screen.getByText('Make Grace Hopper the owner of Acme?')).toHaveFocus();
    expect(sent(calls, 'POST', '/api/organizations/team1/transfer/')).toEqual([]);
    await user.click(screen.getByRole('button', { name: 'Yes, transfer ownership' }));
    expect(await screen.findByText('Grace Hopper now owns Acme. You are an admin.')).toBeInTheDocument();
    expect(sent(calls, 'POST', '/api/organizations/team1/transfer/')).toEqual([{ userId: 'u2' }]);
    expect(screen.queryByRole('region', { name: 'Transfer ownership' })).not.toBeInTheDocument();
    expect(screen.queryByRole('region', { name: 'Delete team' })).not.toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Leave team' })).toBeInTheDocument();
  });

  test('renames the team', async () => {
    const { calls } = fakeApi({
      ...teamRoutes('owner'),
      'PATCH /api/organizations/team1/': ok({ organization: { ...ACME, name: 'Acme Ltd', active: true } }),
    });
    const user = userEvent.setup();
    renderApp('/organizations/team1');
    const card = await screen.findByRole('region', { name: 'Team name' });
    const name = within(card).getByLabelText('Name');
    await user.clear(name);
    await user.type(name, 'Acme Ltd');
    await user.click(within(card).getByRole('button', { name: 'Rename team' }));
    expect(await screen.findByText('The team was renamed.')).toBeInTheDocument();
    expect(sent(calls, 'PATCH', '/api/organizations/team1/')).toEqual([{ name: 'Acme Ltd' }]);
  });

  test('deleting a team with a live subscription shows the server’s refusal', async () => {
    const { calls } = fakeApi({
      ...teamRoutes('owner'),
      'DELETE /api/organizations/team1/': fail(
        409,
        'ORGANIZATION_HAS_SUBSCRIPTION',
        'Acme has a live subscription: cancel it before deleting the team.',
      ),
    });
    const user = userEvent.setup();
    renderApp('/organizations/team1');
    await user.click(await screen.findByRole('button', { name: 'Delete team…' }));
    await user.click(screen.getByRole('button', { name: 'Yes, delete the team' }));
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('That did not work');
    expect(alert).toHaveTextContent('Acme has a live subscription: cancel it before deleting the team.');
    expect(alert.parentElement).toHaveFocus();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/organizations\/team1$/);
    expect(sent(calls, 'DELETE', '/api/organizations/team1/')).toHaveLength(1);
  });

  test('deleting a team leads back to the list, which says so', async () => {
    fakeApi({
      ...teamRoutes('owner'),
      'DELETE /api/organizations/team1/': ok({ message: 'Deleted.' }),
      'GET /api/organizations/': ok({ organizations: [PERSONAL] }),
    });
    const user = userEvent.setup();
    renderApp('/organizations/team1');
    await user.click(await screen.findByRole('button', { name: 'Delete team…' }));
    await user.click(screen.getByRole('button', { name: 'Yes, delete the team' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Workspaces' })).toBeInTheDocument();
    expect(screen.getByText('Acme was deleted.')).toBeInTheDocument();
  });
});

describe('a team page, as an admin or a member', () => {
  test('an admin invites and removes members, but not other admins or the owner, and cannot transfer', async () => {
    fakeApi(teamRoutes('admin'));
    renderApp('/organizations/team1');
    const members = await screen.findByRole('region', { name: 'Members' });
    expect(within(members).queryByRole('button', { name: /^Make / })).not.toBeInTheDocument();
    expect(
      within(members)
        .getAllByRole('button')
        .map((button) => button.textContent),
    ).toEqual(['Remove Alan Turing']);
    expect(screen.getByRole('region', { name: 'Invite a member' })).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Pending invitations' })).toBeInTheDocument();
    expect(screen.queryByRole('region', { name: 'Transfer ownership' })).not.toBeInTheDocument();
    expect(screen.queryByRole('region', { name: 'Delete team' })).not.toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Leave team' })).toBeInTheDocument();
  });

  test('a member sees the team but no management, and can leave it', async () => {
    const { calls } = fakeApi({
      ...teamRoutes('member'),
      'POST /api/organizations/team1/leave/': ok({ message: 'You left Acme.' }),
    });
    const user = userEvent.setup();
    renderApp('/organizations/team1');
    const members = await screen.findByRole('region', { name: 'Members' });
    expect(members).toHaveTextContent('4 members · 4 billed seats');
    expect(within(members).queryAllByRole('button')).toEqual([]);
    for (const card of [
      'Invite a member',
      'Pending invitations',
      'Team name',
      'Transfer ownership',
      'Delete team',
    ]) {
      expect(screen.queryByRole('region', { name: card })).not.toBeInTheDocument();
    }
    await expectNoAxeViolations();

    await user.click(screen.getByRole('button', { name: 'Leave team' }));
    expect(screen.getByText('Leave Acme?')).toHaveFocus();
    await user.click(screen.getByRole('button', { name: 'Yes, leave' }));
    expect(await screen.findByRole('heading', { level: 1, name: 'Workspaces' })).toBeInTheDocument();
    expect(screen.getByText('You left Acme.')).toBeInTheDocument();
    expect(sent(calls, 'POST', '/api/organizations/team1/leave/')).toHaveLength(1);
  });

  test('the personal workspace explains itself and offers nothing that does not apply', async () => {
    fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'GET /api/organizations/o1/': ok({
        organization: { ...PERSONAL, seats: null, createdAt: '2026-01-01T00:00:00.000Z' },
        members: [member('u1', 'Ada Lovelace', 'owner')],
        invitations: [],
      }),
    });
    renderApp('/organizations/o1');
    expect(await screen.findByRole('heading', { level: 1, name: 'Ada Lovelace' })).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Your personal workspace' })).toHaveTextContent(
      'it cannot be shared, left or deleted',
    );
    for (const card of ['Invite a member', 'Leave team', 'Transfer ownership', 'Delete team', 'Team name']) {
      expect(screen.queryByRole('region', { name: card })).not.toBeInTheDocument();
    }
  });

  test('a team the caller is not in is "not found"', async () => {
    fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'GET /api/organizations/nope/': fail(404, 'NOT_FOUND', 'Organization not found.'),
    });
    renderApp('/organizations/nope');
    expect(await screen.findByRole('heading', { level: 1, name: 'Workspace not found' })).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'See your workspaces' })).toHaveAttribute(
      'href',
      '/organizations',
    );
  });
});

const PREVIEW = {
  organizationName: 'Acme',
  inviterName: 'Grace Hopper',
  email: 'ada@example.com',
  role: 'member',
  expiresAt: '2026-12-08T00:00:00.000Z',
};

describe('the invitation page', () => {
  test('a visitor sees the invitation, signs in, comes back and accepts', async () => {
    let signedIn = false;
    let joined = false;
    const { calls } = fakeApi({
      'GET /api/profile/': () =>
        signedIn ? ok(joined ? teamProfile('member') : profile()) : UNAUTHENTICATED,
      'POST /api/login/': () => {
        signedIn = true;
        return ok(profile());
      },
      'GET /api/billing/status/': ok(billingStatus()),
      'POST /api/invitations/preview/': ok(PREVIEW),
      'POST /api/invitations/accept/': () => {
        joined = true;
        return ok({ organization: { ...ACME, role: 'member', memberCount: 4, active: true } });
      },
      'GET /api/organizations/team1/': ok(acme('member')),
    });
    const user = userEvent.setup();
    renderApp('/invitations#token=inv-token-123');
    expect(await screen.findByRole('heading', { level: 1, name: 'Join Acme' })).toBeInTheDocument();
    expect(screen.getByText(/Grace Hopper invited/)).toHaveTextContent(
      'Grace Hopper invited ada@example.com to join as a member.',
    );
    // The single-use token leaves the address bar at once.
    await waitFor(() => expect(screen.getByTestId('location')).toHaveTextContent(/^\/invitations$/));
    expect(screen.getByRole('link', { name: 'Create an account' })).toHaveAttribute(
      'href',
      '/register?next=%2Finvitations',
    );
    await expectNoAxeViolations();

    await user.click(screen.getByRole('link', { name: 'Sign in to accept' }));
    await user.type(await screen.findByLabelText('Email'), 'ada@example.com');
    await user.type(screen.getByLabelText('Password'), 'Correct-Horse-42');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));

    const accept = await screen.findByRole('button', { name: 'Accept and join Acme' });
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/invitations$/);
    await user.click(accept);
    expect(await screen.findByRole('heading', { level: 1, name: 'Acme' })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/organizations\/team1$/);
    expect(sent(calls, 'POST', '/api/invitations/preview/')).toEqual([{ token: 'inv-token-123' }]);
    expect(sent(calls, 'POST', '/api/invitations/accept/')).toEqual([{ token: 'inv-token-123' }]);
    await waitFor(() => expect(screen.getByRole('button', { name: /^Workspace: Acme/ })).toBeInTheDocument());
    expect(sessionStorage.getItem('tierbase:invitation')).toBeNull();
  });

  test('a new account comes back to the invitation after verifying its email', async () => {
    let verified = false;
    fakeApi({
      'GET /api/profile/': () => (verified ? ok(profile()) : UNAUTHENTICATED),
      'GET /api/billing/status/': ok(billingStatus()),
      'POST /api/invitations/preview/': ok(PREVIEW),
      'POST /api/verify-email/': () => {
        verified = true;
        return ok({ message: 'Your email address is verified.' });
      },
    });
    // The invitation was opened earlier in this tab, before signing up.
    sessionStorage.setItem('tierbase:invitation', 'inv-token-123');
    renderApp('/verify-email#token=verify-token');
    expect(await screen.findByRole('button', { name: 'Accept and join Acme' })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/invitations$/);
  });

  test('signed in with another address: says so clearly, offers to switch account, no accept', async () => {
    // Like the server: once signed out, the profile answers 401 (a refetch must not sign back in).
    let signedIn = true;
    const { calls } = fakeApi({
      'GET /api/profile/': () => (signedIn ? ok(profile()) : UNAUTHENTICATED),
      'GET /api/billing/status/': ok(billingStatus()),
      'POST /api/invitations/preview/': ok({ ...PREVIEW, email: 'bob@example.com' }),
      'POST /api/logout/': () => {
        signedIn = false;
        return ok({ message: 'Signed out.' });
      },
    });
    const user = userEvent.setup();
    renderApp('/invitations#token=inv-token-123');
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('This invitation is for bob@example.com');
    expect(alert).toHaveTextContent('You are signed in as ada@example.com.');
    expect(screen.queryByRole('button', { name: /Accept/ })).not.toBeInTheDocument();
    await expectNoAxeViolations();
    // The query cache tells the app it is signed out on a timer (setTimeout 0); on a busy machine the
    // sign-out's navigation renders first. A later flush, with the sign-in page's code already
    // loaded, makes that order certain here.
    await import('../src/pages/LoginPage.tsx');
    notifyManager.setScheduler((flush) => setTimeout(flush, 500));
    onTestFinished(() => notifyManager.setScheduler(defaultScheduler));
    await user.click(screen.getByRole('button', { name: 'Sign out and switch account' }));
    await waitFor(() => expect(sent(calls, 'POST', '/api/logout/')).toHaveLength(1));
    // Signed out, the visitor lands on the sign-in form, which brings them back to the invitation
    // (not bounced back to /invitations by a sign-in page that still saw them signed in).
    expect(await screen.findByRole('heading', { level: 1, name: 'Sign in' })).toBeInTheDocument();
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/login\?next=%2Finvitations$/);
    expect(screen.getByRole('link', { name: 'Create an account' })).toHaveAttribute(
      'href',
      '/register?next=%2Finvitations',
    );
  });

  test('the server’s refusal of an accept is shown', async () => {
    fakeApi({
      'GET /api/profile/': ok(profile()),
      'GET /api/billing/status/': ok(billingStatus()),
      'POST /api/invitations/preview/': ok(PREVIEW),
      'POST /api/invitations/accept/': fail(
        403,
        'INVITATION_EMAIL_MISMATCH',
        'This invitation was sent to another email address.',
      ),
    });
    const user = userEvent.setup();
    renderApp('/invitations#token=inv-token-123');
    await user.click(await screen.findByRole('button', { name: 'Accept and join Acme' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'This invitation is for ada@example.com, not for the account you are signed in with.',
    );
    expect(screen.getByTestId('location')).toHaveTextContent(/^\/invitations$/);
  });

  test('a used, expired or revoked invitation says it does not work', async () => {
    fakeApi({
      'GET /api/profile/': UNAUTHENTICATED,
      'POST /api/invitations/preview/': fail(404, 'NOT_FOUND', 'This invitation is invalid or has expired.'),
    });
    renderApp('/invitations#token=used');
    expect(
      await screen.findByRole('heading', { level: 1, name: 'This invitation does not work' }),
    ).toBeInTheDocument();
    await waitFor(() => expect(sessionStorage.getItem('tierbase:invitation')).toBeNull());
  });
});

describe('billing in a team workspace', () => {
  test('a plain member is told who manages billing, without the billing buttons or invoices', async () => {
    const { calls } = fakeApi({
      'GET /api/profile/': ok({ ...teamProfile('member'), isPro: true }),
      'GET /api/billing/status/': ok(
        billingStatus({ ...PRO_STATUS, status: 'past_due', pastDueGraceEnd: '2026-12-10T00:00:00.000Z' }),
      ),
    });
    renderApp('/billing');
    expect(
      await screen.findByText('Billing for Acme is managed by its owners and admins'),
    ).toBeInTheDocument();
    expect(await screen.findByText('Your last payment failed')).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Manage billing' })).not.toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Fix your card' })).not.toBeInTheDocument();
    expect(screen.queryByRole('region', { name: 'Invoices' })).not.toBeInTheDocument();
    expect(calls.some((call) => call.path.startsWith('/api/invoices/'))).toBe(false);
    await expectNoAxeViolations();
  });

  test('an admin of the team keeps the billing buttons', async () => {
    fakeApi({
      'GET /api/profile/': ok({ ...teamProfile('admin'), isPro: true }),
      'GET /api/billing/status/': ok(PRO_STATUS),
      'GET /api/invoices/': ok({ invoices: [], hasMore: false, nextCursor: null }),
    });
    renderApp('/billing');
    expect(await screen.findByRole('link', { name: 'Manage billing' })).toHaveAttribute(
      'href',
      '/api/stripe/portal/',
    );
    expect(screen.queryByText(/managed by its owners and admins/)).not.toBeInTheDocument();
    expect(await screen.findByText('No invoices yet')).toBeInTheDocument();
  });

  test('pricing asks a plain member to go to an owner or admin instead of opening Checkout', async () => {
    fakeApi({
      'GET /api/profile/': ok(teamProfile('member')),
      'GET /api/billing/status/': ok(billingStatus()),
    });
    renderApp('/pricing');
    expect(await screen.findByText(/ask one of them to upgrade/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: /free trial|Upgrade to Pro/ })).not.toBeInTheDocument();
  });
});
