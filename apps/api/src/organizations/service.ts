import { randomUUID } from 'node:crypto';
import {
  type AssignableRole,
  ErrorCode,
  type OrganizationDetailResponse,
  type OrganizationMember,
  type OrganizationSummary,
} from '@tierbase/contracts';
import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { HAS_LIVE_SUBSCRIPTION } from '../billing/checkout.ts';
import { subscriptionForOrganization } from '../billing/subscriptions.ts';
import type { Database } from '../db/client.ts';
import { organizationInvitations, organizationMembers, organizations } from '../db/schema/organizations.ts';
import { AppError, forbidden, notFound } from '../errors.ts';
import type { DatabaseTransaction, JobQueue } from '../jobs/queue.ts';
import { leaveOrganizationInSessions, setActiveOrganization } from '../users/sessions.ts';
import { contactsOf } from '../users/users.ts';
import { membershipChanged } from './seats.ts';
import { MANAGERS, membershipOf, toWorkspace, type Workspace } from './workspaces.ts';

/*
 * Team organizations: creating, renaming, deleting, switching to, and their members' roles,
 * removals, departures and ownership (decision 24). Invitations are in invitations.ts. Every
 * change to an organization's members runs in one transaction that first locks the organization's
 * row, so two changes (a transfer and a removal, say) take turns; every join or departure
 * enqueues the seat sync in the same transaction (seats.ts).
 */

export interface OrganizationDeps {
  db: Database;
  jobs: Pick<JobQueue, 'send'>;
}

export const noSuchOrganization = () => notFound('No such organization.');
const noSuchMember = () => notFound('No such member of this organization.');

export const personalWorkspaceRefused = (what: string) =>
  new AppError({
    status: 409,
    code: ErrorCode.PERSONAL_WORKSPACE,
    message: `A personal workspace cannot be ${what}.`,
  });

const memberCountSql = sql<number>`(select count(*) from ${organizationMembers} as counted
  where counted.organization_id = ${organizations.id})`.mapWith(Number);

/** Each organization the user belongs to, with their role and its member count. */
function summaryRows(db: Database) {
  return db
    .select({
      id: organizations.id,
      name: organizations.name,
      personalUserId: organizations.personalUserId,
      role: organizationMembers.role,
      memberCount: memberCountSql,
    })
    .from(organizationMembers)
    .innerJoin(organizations, eq(organizations.id, organizationMembers.organizationId));
}

type MembershipRow = Awaited<ReturnType<typeof summaryRows>>[number];

function toSummary(row: MembershipRow, activeId: string): OrganizationSummary {
  return { ...toWorkspace(row), memberCount: row.memberCount, active: row.id === activeId };
}

/** The user's organizations with their role and member count, personal workspace first, then teams by name. */
export async function membershipsOf(db: Database, userId: string): Promise<MembershipRow[]> {
  return summaryRows(db)
    .where(eq(organizationMembers.userId, userId))
    .orderBy(sql`${organizations.personalUserId} is null`, asc(organizations.name), asc(organizations.id));
}

/** The caller's organizations, personal workspace first, then teams by name. */
export async function listOrganizations(
  db: Database,
  userId: string,
  activeId: string,
): Promise<OrganizationSummary[]> {
  const rows = await membershipsOf(db, userId);
  return rows.map((row) => toSummary(row, activeId));
}

/** The organization as the caller's list shows it; 404 when they are not a member. */
export async function organizationSummary(
  db: Database,
  organizationId: string,
  userId: string,
  activeId: string,
): Promise<OrganizationSummary> {
  const [row] = await summaryRows(db).where(
    and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.userId, userId)),
  );
  if (!row) throw noSuchOrganization();
  return toSummary(row, activeId);
}

/**
 * Locks the organization's row for the rest of the transaction and returns it as the caller sees
 * it; 404 when it does not exist or the caller is not a member.
 */
export async function lockMembership(
  tx: DatabaseTransaction,
  organizationId: string,
  userId: string,
): Promise<Workspace> {
  const [organization] = await tx
    .select({ id: organizations.id })
    .from(organizations)
    .where(eq(organizations.id, organizationId))
    .for('update');
  if (!organization) throw noSuchOrganization();
  const workspace = await membershipOf(tx, organizationId, userId);
  if (!workspace) throw noSuchOrganization();
  return workspace;
}

export function requireManager(workspace: Workspace, what: string): void {
  if (!MANAGERS.has(workspace.role)) throw forbidden(`Only the owner or an admin can ${what}.`);
}

export function requireOwner(workspace: Workspace, what: string): void {
  if (workspace.role !== 'owner') throw forbidden(`Only the owner can ${what}.`);
}

/** POST /api/organizations: a team with the caller as its owner, made the session's active workspace. */
export async function createOrganization(
  db: Database,
  user: { id: string },
  sessionId: string,
  name: string,
): Promise<OrganizationSummary> {
  const id = randomUUID();
  await db.transaction(async (tx) => {
    await tx.insert(organizations).values({ id, name });
    await tx.insert(organizationMembers).values({ organizationId: id, userId: user.id, role: 'owner' });
    await setActiveOrganization(tx, sessionId, id);
  });
  return { id, name, personal: false, role: 'owner', memberCount: 1, active: true };
}

/** GET /api/organizations/:id: the organization, its members and (for managers) its pending invitations. */
export async function organizationDetail(
  db: Database,
  organizationId: string,
  userId: string,
  now: Date = new Date(),
): Promise<OrganizationDetailResponse> {
  const [row] = await db
    .select({
      id: organizations.id,
      name: organizations.name,
      personalUserId: organizations.personalUserId,
      createdAt: organizations.createdAt,
      role: organizationMembers.role,
    })
    .from(organizationMembers)
    .innerJoin(organizations, eq(organizations.id, organizationMembers.organizationId))
    .where(
      and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.userId, userId)),
    );
  if (!row) throw noSuchOrganization();
  const workspace = toWorkspace(row);
  const members = await membersOf(db, organizationId);
  const subscription = await subscriptionForOrganization(db, organizationId);
  const invitations = MANAGERS.has(workspace.role)
    ? await db
        .select({
          id: organizationInvitations.id,
          email: organizationInvitations.email,
          role: organizationInvitations.role,
          invitedAt: organizationInvitations.createdAt,
          expiresAt: organizationInvitations.expiresAt,
        })
        .from(organizationInvitations)
        .where(
          and(
            eq(organizationInvitations.organizationId, organizationId),
            gt(organizationInvitations.expiresAt, now),
          ),
        )
        .orderBy(asc(organizationInvitations.createdAt), asc(organizationInvitations.id))
    : [];
  return {
    organization: {
      ...workspace,
      memberCount: members.length,
      seats: subscription?.quantity ?? null,
      createdAt: row.createdAt.toISOString(),
    },
    members,
    invitations: invitations.map((invitation) => ({
      ...invitation,
      invitedAt: invitation.invitedAt.toISOString(),
      expiresAt: invitation.expiresAt.toISOString(),
    })),
  };
}

const ROLE_ORDER = sql`case ${organizationMembers.role} when 'owner' then 0 when 'admin' then 1 else 2 end`;

async function membersOf(db: Database, organizationId: string): Promise<OrganizationMember[]> {
  const rows = await db
    .select({
      userId: organizationMembers.userId,
      role: organizationMembers.role,
      joinedAt: organizationMembers.createdAt,
    })
    .from(organizationMembers)
    .where(eq(organizationMembers.organizationId, organizationId))
    .orderBy(ROLE_ORDER, asc(organizationMembers.createdAt), asc(organizationMembers.userId));
  const contacts = await contactsOf(
    db,
    rows.map((row) => row.userId),
  );
  // A user deleted between the two reads has lost the membership too (it cascades): left out.
  return rows.flatMap((row) => {
    const contact = contacts.get(row.userId);
    return contact
      ? [{ userId: row.userId, ...contact, role: row.role, joinedAt: row.joinedAt.toISOString() }]
      : [];
  });
}

/** PATCH /api/organizations/:id (owner or admin; a personal workspace carries its user's name). */
export async function renameOrganization(
  db: Database,
  organizationId: string,
  userId: string,
  name: string,
): Promise<void> {
  await db.transaction(async (tx) => {
    const workspace = await lockMembership(tx, organizationId, userId);
    if (workspace.personal) {
      throw new AppError({
        status: 409,
        code: ErrorCode.PERSONAL_WORKSPACE,
        message: 'A personal workspace is named after you: change your name in the profile instead.',
      });
    }
    requireManager(workspace, 'rename the organization');
    await tx
      .update(organizations)
      .set({ name, updatedAt: new Date() })
      .where(eq(organizations.id, organizationId));
  });
}

/** Statuses in which deleting the organization would leave a subscription billing no one's workspace. */
const BLOCKS_DELETION = new Set([...HAS_LIVE_SUBSCRIPTION, 'incomplete']);

/**
 * DELETE /api/organizations/:id (owner; teams only): the organization, its memberships,
 * invitations, AI usage and subscription row go. Refused while its subscription can still bill:
 * cancel it in the portal first.
 */
export async function deleteOrganization(
  db: Database,
  organizationId: string,
  userId: string,
): Promise<void> {
  await db.transaction(async (tx) => {
    const workspace = await lockMembership(tx, organizationId, userId);
    if (workspace.personal) throw personalWorkspaceRefused('deleted');
    requireOwner(workspace, 'delete the organization');
    const subscription = await subscriptionForOrganization(tx, organizationId);
    if (subscription?.status && BLOCKS_DELETION.has(subscription.status)) {
      throw new AppError({
        status: 409,
        code: ErrorCode.ORGANIZATION_HAS_SUBSCRIPTION,
        message:
          'This organization has a subscription. Cancel it in the billing portal, then delete the organization.',
        links: { portal: '/api/stripe/portal/' },
      });
    }
    // Sessions that had it active fall back to their personal workspace (ON DELETE SET NULL).
    await tx.delete(organizations).where(eq(organizations.id, organizationId));
  });
}

/** POST /api/organizations/:id/activate: the session acts in this workspace from now on. */
export async function activateOrganization(
  db: Database,
  organizationId: string,
  userId: string,
  sessionId: string,
): Promise<OrganizationSummary> {
  const summary = await organizationSummary(db, organizationId, userId, organizationId);
  await setActiveOrganization(db, sessionId, organizationId);
  return summary;
}

async function lockedMember(
  tx: DatabaseTransaction,
  organizationId: string,
  userId: string,
): Promise<{ role: Workspace['role'] }> {
  const [member] = await tx
    .select({ role: organizationMembers.role })
    .from(organizationMembers)
    .where(
      and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.userId, userId)),
    );
  if (!member) throw noSuchMember();
  return member;
}

/** PATCH /api/organizations/:id/members/:userId (owner only): make a member an admin, or back. */
export async function changeRole(
  db: Database,
  organizationId: string,
  actorId: string,
  targetId: string,
  role: AssignableRole,
): Promise<OrganizationMember> {
  await db.transaction(async (tx) => {
    const workspace = await lockMembership(tx, organizationId, actorId);
    if (workspace.personal) throw personalWorkspaceRefused('shared');
    requireOwner(workspace, "change members' roles");
    const target = await lockedMember(tx, organizationId, targetId);
    if (target.role === 'owner') {
      throw new AppError({
        status: 409,
        code: ErrorCode.CONFLICT,
        message: "The owner's role changes only by transferring the ownership to another member.",
      });
    }
    await tx
      .update(organizationMembers)
      .set({ role })
      .where(
        and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.userId, targetId)),
      );
  });
  const member = (await membersOf(db, organizationId)).find((candidate) => candidate.userId === targetId);
  if (!member) throw noSuchMember();
  return member;
}

/** Deletes the membership and points the user's sessions that had the organization active back home. */
async function dropMember(
  deps: OrganizationDeps,
  tx: DatabaseTransaction,
  organizationId: string,
  userId: string,
): Promise<void> {
  await tx
    .delete(organizationMembers)
    .where(
      and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.userId, userId)),
    );
  await leaveOrganizationInSessions(tx, userId, organizationId);
  await membershipChanged(deps.jobs, tx, organizationId);
}

const ownerStays = () =>
  new AppError({
    status: 409,
    code: ErrorCode.OWNER_CANNOT_LEAVE,
    message: 'The owner cannot leave or be removed: transfer the ownership to another member first.',
  });

/**
 * DELETE /api/organizations/:id/members/:userId (owner or admin): never the owner; an admin
 * removes members (and themself), not other admins.
 */
export async function removeMember(
  deps: OrganizationDeps,
  organizationId: string,
  actorId: string,
  targetId: string,
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const workspace = await lockMembership(tx, organizationId, actorId);
    if (workspace.personal) throw personalWorkspaceRefused('shared');
    requireManager(workspace, 'remove members');
    const target = await lockedMember(tx, organizationId, targetId);
    if (target.role === 'owner') throw ownerStays();
    if (target.role === 'admin' && workspace.role !== 'owner' && targetId !== actorId) {
      throw forbidden('Only the owner can remove an admin.');
    }
    await dropMember(deps, tx, organizationId, targetId);
  });
}

/** POST /api/organizations/:id/leave: any member but the owner. */
export async function leaveOrganization(
  deps: OrganizationDeps,
  organizationId: string,
  userId: string,
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const workspace = await lockMembership(tx, organizationId, userId);
    if (workspace.personal) throw personalWorkspaceRefused('left');
    if (workspace.role === 'owner') throw ownerStays();
    await dropMember(deps, tx, organizationId, userId);
  });
}

/**
 * POST /api/organizations/:id/transfer (owner only): another member becomes the owner and the old
 * owner an admin, in one transaction (demoted first: the index allows one owner at a time).
 */
export async function transferOwnership(
  db: Database,
  organizationId: string,
  ownerId: string,
  targetId: string,
): Promise<OrganizationDetailResponse> {
  await db.transaction(async (tx) => {
    const workspace = await lockMembership(tx, organizationId, ownerId);
    if (workspace.personal) throw personalWorkspaceRefused('transferred');
    requireOwner(workspace, 'transfer the ownership');
    if (targetId === ownerId)
      throw new AppError({
        status: 409,
        code: ErrorCode.CONFLICT,
        message: 'You already own this organization.',
      });
    await lockedMember(tx, organizationId, targetId);
    const member = (id: string) =>
      and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.userId, id));
    await tx.update(organizationMembers).set({ role: 'admin' }).where(member(ownerId));
    await tx.update(organizationMembers).set({ role: 'owner' }).where(member(targetId));
  });
  return organizationDetail(db, organizationId, ownerId);
}
