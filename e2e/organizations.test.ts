import { auditPage, linkFromEmail, PASSWORD, uniqueEmail } from './support/browser.ts';
import { expectNoProblems, mainText, registerThroughUi } from './support/flows.ts';
import { expect, inject, test } from './support/test.ts';

/**
 * A team from both sides, in two browser contexts: the owner creates it and invites by email; the
 * invitee opens the emailed link signed out, creates an account, verifies it and accepts; the owner
 * then sees them among the members. Every organization page on the way is scanned with axe and
 * photographed.
 */
test('a team: create, invite by email, join, see the member', async ({ page: owner, browser }) => {
  const appUrl = inject('appUrl');
  const ownerEmail = uniqueEmail('team-owner');
  const inviteeEmail = uniqueEmail('team-invitee');
  const team = `Acme ${Date.now().toString(36)}`;
  const problems: string[] = [];
  // The invitee: a second, signed-out browser context.
  const inviteeContext = await browser.newContext({ baseURL: appUrl, viewport: owner.viewportSize() });
  const invitee = await inviteeContext.newPage();
  let teamPath = '';

  await test.step('the owner creates a team from the workspace switcher and invites a member', async () => {
    await registerThroughUi(owner, ownerEmail, 'Olivia Owner');
    const nav = owner.getByRole('navigation', { name: 'Main' });
    await nav.getByRole('button', { name: 'Workspace: Personal' }).click();
    await owner.getByRole('list', { name: 'Switch workspace' }).getByText('Personal').waitFor();
    problems.push(...(await auditPage(owner, 'workspace-switcher')));
    await owner.getByRole('link', { name: 'Manage workspaces and teams' }).click();
    await owner.getByRole('heading', { level: 1, name: 'Workspaces' }).waitFor();
    problems.push(...(await auditPage(owner, 'organizations')));

    await owner.getByLabel('Team name').fill(team);
    await owner.getByRole('button', { name: 'Create team' }).click();
    await owner.getByRole('heading', { level: 1, name: team, exact: true }).waitFor();
    teamPath = new URL(owner.url()).pathname;
    expect(teamPath).toMatch(/^\/organizations\/[^/]+$/);
    // The new team is the active workspace.
    await nav.getByRole('button', { name: `Workspace: ${team} Team` }).waitFor();
    await owner.getByText('1 member ·').waitFor();

    await owner.getByLabel('Email address').fill(inviteeEmail);
    await owner.getByLabel('Role').selectOption('member');
    await owner.getByRole('button', { name: 'Send invitation' }).click();
    await owner.getByText(`Invitation sent to ${inviteeEmail}.`, { exact: false }).waitFor();
    const pending = owner.getByRole('region', { name: 'Pending invitations' });
    await pending.getByText(inviteeEmail, { exact: true }).waitFor();
    problems.push(...(await auditPage(owner, 'organization-owner')));
    expectNoProblems(problems.splice(0));
  });

  await test.step('the invitee opens the emailed link signed out, creates an account, verifies it and accepts', async () => {
    const link = await linkFromEmail(appUrl, inviteeEmail, '/invitations#token=');
    await invitee.goto(link);
    await invitee.getByRole('heading', { level: 1, name: `Join ${team}` }).waitFor();
    await invitee.getByText('Olivia Owner invited').waitFor();
    // The single-use token is out of the address bar.
    expect(invitee.url()).toBe(`${appUrl}/invitations`);
    problems.push(...(await auditPage(invitee, 'invitation-signed-out')));

    await invitee.getByRole('link', { name: 'Create an account' }).click();
    await invitee.getByLabel('Name').fill('Ivy Invitee');
    await invitee.getByLabel('Email').fill(inviteeEmail);
    await invitee.getByLabel('Password').fill(PASSWORD);
    await invitee.getByRole('button', { name: 'Create account' }).click();
    await invitee.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();

    // The verification link signs the new account in and comes back to the invitation.
    await invitee.goto(await linkFromEmail(appUrl, inviteeEmail, '/verify-email#token='));
    const accept = invitee.getByRole('button', { name: `Accept and join ${team}` });
    await accept.waitFor();
    expect(invitee.url()).toBe(`${appUrl}/invitations`);
    problems.push(...(await auditPage(invitee, 'invitation-accept')));

    await accept.click();
    await invitee.getByRole('heading', { level: 1, name: team, exact: true }).waitFor();
    expect(new URL(invitee.url()).pathname).toBe(teamPath);
    await invitee
      .getByRole('navigation', { name: 'Main' })
      .getByRole('button', { name: `Workspace: ${team} Team` })
      .waitFor();
    await invitee.getByText('you are a member').waitFor();
    expect(await mainText(invitee)).toContain('2 members');
    // A plain member manages nothing: no invitation form, no removal, no billing buttons.
    expect(await invitee.getByRole('region', { name: 'Invite a member' }).count()).toBe(0);
    expect(await invitee.getByRole('button', { name: /^Remove / }).count()).toBe(0);
    problems.push(...(await auditPage(invitee, 'organization-member')));

    await invitee.getByRole('link', { name: 'Billing' }).first().click();
    await invitee.getByText(`Billing for ${team} is managed by its owners and admins`).waitFor();
    expect(await invitee.getByRole('link', { name: 'Manage billing' }).count()).toBe(0);
    problems.push(...(await auditPage(invitee, 'billing-team-member')));
    expectNoProblems(problems.splice(0));
  });

  await test.step('the owner sees the new member, and the invitation is no longer pending', async () => {
    await owner.reload();
    const members = owner.getByRole('region', { name: 'Members' });
    await members.getByText(inviteeEmail, { exact: true }).waitFor();
    expect(await mainText(owner)).toContain('Ivy Invitee');
    await members.getByText('2 members ·').waitFor();
    await owner.getByText('No invitations waiting for an answer.').waitFor();
    await owner.getByRole('button', { name: 'Make admin (Ivy Invitee)' }).waitFor();
    problems.push(...(await auditPage(owner, 'organization-with-member')));
    expectNoProblems(problems.splice(0));
  });

  await inviteeContext.close();
});
