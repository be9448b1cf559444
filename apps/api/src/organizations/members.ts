import type { OrganizationRole } from '@tierbase/contracts';
import { and, asc, count, eq, inArray, lt, or } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { organizationInvitations, organizationMembers, organizations } from '../db/schema/organizations.ts';

/*
 * What other modules (billing, admin, privacy, the session cleanup) read and change of
 * organizations, their members and invitations. Each function takes the database handle it is
 * given, so a caller's transaction stays one.
 */

/** The organization's owner (every organization has exactly one); undefined for an unknown one. */
export async function ownerOf(db: Database, organizationId: string): Promise<string | undefined> {
  const [row] = await db
    .select({ userId: organizationMembers.userId })
    .from(organizationMembers)
    .where(
      and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.role, 'owner')),
    );
  return row?.userId;
}

/** Members of the organization: the seats a team's subscription is billed for. */
export async function memberCount(db: Database, organizationId: string): Promise<number> {
  const [row] = await db
    .select({ members: count() })
    .from(organizationMembers)
    .where(eq(organizationMembers.organizationId, organizationId));
  return row?.members ?? 0;
}

/** Who the members are and since when, by user id. */
export async function membersSince(
  db: Database,
  organizationId: string,
): Promise<{ userId: string; createdAt: Date }[]> {
  return db
    .select({ userId: organizationMembers.userId, createdAt: organizationMembers.createdAt })
    .from(organizationMembers)
    .where(eq(organizationMembers.organizationId, organizationId))
    .orderBy(asc(organizationMembers.userId));
}

export async function organizationExists(db: Database, organizationId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: organizations.id })
    .from(organizations)
    .where(eq(organizations.id, organizationId));
  return row !== undefined;
}

/** The organizations among these ids, and the personal workspaces of these users. */
export async function findOrganizations(
  db: Database,
  named: { ids: string[]; personalUserIds: string[] },
): Promise<{ id: string; personalUserId: string | null }[]> {
  if (named.ids.length === 0 && named.personalUserIds.length === 0) return [];
  return db
    .select({ id: organizations.id, personalUserId: organizations.personalUserId })
    .from(organizations)
    .where(
      or(
        named.ids.length > 0 ? inArray(organizations.id, named.ids) : undefined,
        named.personalUserIds.length > 0
          ? inArray(organizations.personalUserId, named.personalUserIds)
          : undefined,
      ),
    );
}

/** The personal workspace of each of these users: user id → organization id. */
export async function personalWorkspacesOf(db: Database, userIds: string[]): Promise<Map<string, string>> {
  if (userIds.length === 0) return new Map();
  const rows = await db
    .select({ id: organizations.id, userId: organizations.personalUserId })
    .from(organizations)
    .where(inArray(organizations.personalUserId, userIds));
  return new Map(rows.flatMap((row) => (row.userId ? [[row.userId, row.id] as const] : [])));
}

/** The user's memberships with each organization's member count (what an account deletion weighs). */
export async function membershipSizes(
  db: Database,
  userId: string,
): Promise<{ id: string; role: OrganizationRole; members: number }[]> {
  const mine = await db
    .select({ id: organizationMembers.organizationId, role: organizationMembers.role })
    .from(organizationMembers)
    .where(eq(organizationMembers.userId, userId));
  if (mine.length === 0) return [];
  const sizes = await db
    .select({ id: organizationMembers.organizationId, members: count() })
    .from(organizationMembers)
    .where(
      inArray(
        organizationMembers.organizationId,
        mine.map((row) => row.id),
      ),
    )
    .groupBy(organizationMembers.organizationId);
  const membersOf = new Map(sizes.map((row) => [row.id, row.members]));
  return mine.map((row) => ({ ...row, members: membersOf.get(row.id) ?? 1 }));
}

/** The user's memberships, oldest first, for their data export. */
export async function exportMembershipsFor(db: Database, userId: string) {
  return db
    .select({
      name: organizations.name,
      personalUserId: organizations.personalUserId,
      role: organizationMembers.role,
      joinedAt: organizationMembers.createdAt,
    })
    .from(organizationMembers)
    .innerJoin(organizations, eq(organizations.id, organizationMembers.organizationId))
    .where(eq(organizationMembers.userId, userId))
    .orderBy(asc(organizationMembers.createdAt));
}

/** Deletes the invitations to the address (stored in lower case), for an erasure. */
export async function eraseInvitationsTo(db: Database, email: string): Promise<void> {
  await db.delete(organizationInvitations).where(eq(organizationInvitations.email, email.toLowerCase()));
}

/** Deletes these organizations (their members and invitations go with them). */
export async function deleteOrganizations(db: Database, organizationIds: string[]): Promise<void> {
  if (organizationIds.length === 0) return;
  await db.delete(organizations).where(inArray(organizations.id, organizationIds));
}

/** Deletes the invitations that expired before `now`; returns how many. */
export async function deleteExpiredInvitations(db: Database, now: Date): Promise<number> {
  const deleted = await db
    .delete(organizationInvitations)
    .where(lt(organizationInvitations.expiresAt, now))
    .returning({ id: organizationInvitations.id });
  return deleted.length;
}
