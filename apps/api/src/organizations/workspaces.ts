import { randomUUID } from 'node:crypto';
import type { ActiveWorkspace, OrganizationRole } from '@tierbase/contracts';
import { and, eq } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { organizationMembers, organizations } from '../db/schema/index.ts';

/*
 * Workspaces (decision 24): every user has one personal organization, made with the account; the
 * session's active workspace is the organization whose subscription, Pro gate and AI quota apply.
 * This module is the part of organizations that identity and billing depend on.
 */

export type Workspace = ActiveWorkspace;

/** A personal workspace is named after its user; an account without a name gets this. */
export const PERSONAL_WORKSPACE_FALLBACK_NAME = 'Personal';

export function personalWorkspaceName(userName: string): string {
  return userName.trim() || PERSONAL_WORKSPACE_FALLBACK_NAME;
}

/**
 * Creates the user's personal workspace (the organization and its owner membership) unless it
 * exists: safe to call again, and concurrently (the unique personal_user_id decides). Returns its id.
 */
export async function ensurePersonalWorkspace(
  db: Database,
  user: { id: string; name: string },
): Promise<string> {
  return db.transaction(async (tx) => {
    const [created] = await tx
      .insert(organizations)
      .values({ id: randomUUID(), name: personalWorkspaceName(user.name), personalUserId: user.id })
      .onConflictDoNothing({ target: organizations.personalUserId })
      .returning({ id: organizations.id });
    if (created) {
      await tx
        .insert(organizationMembers)
        .values({ organizationId: created.id, userId: user.id, role: 'owner' })
        .onConflictDoNothing();
      return created.id;
    }
    const [existing] = await tx
      .select({ id: organizations.id })
      .from(organizations)
      .where(eq(organizations.personalUserId, user.id));
    if (!existing) throw new Error('personal workspace missing after insert');
    return existing.id;
  });
}

/** The user's personal workspace (every user has one; undefined only for an unknown user). */
export async function personalWorkspaceOf(
  db: Database,
  userId: string,
): Promise<{ id: string; name: string } | undefined> {
  const [row] = await db
    .select({ id: organizations.id, name: organizations.name })
    .from(organizations)
    .where(eq(organizations.personalUserId, userId));
  return row;
}

export async function personalWorkspaceId(db: Database, userId: string): Promise<string | undefined> {
  return (await personalWorkspaceOf(db, userId))?.id;
}

/** The personal workspace carries its user's name: it is renamed with them. */
export async function renamePersonalWorkspace(
  db: Database,
  userId: string,
  userName: string,
  now = new Date(),
): Promise<void> {
  await db
    .update(organizations)
    .set({ name: personalWorkspaceName(userName), updatedAt: now })
    .where(eq(organizations.personalUserId, userId));
}

/** The organization as the user sees it (their role in it), or undefined when they are not a member. */
export async function membershipOf(
  db: Database,
  organizationId: string,
  userId: string,
): Promise<Workspace | undefined> {
  const [row] = await db
    .select({
      id: organizations.id,
      name: organizations.name,
      personalUserId: organizations.personalUserId,
      role: organizationMembers.role,
    })
    .from(organizationMembers)
    .innerJoin(organizations, eq(organizations.id, organizationMembers.organizationId))
    .where(
      and(eq(organizationMembers.organizationId, organizationId), eq(organizationMembers.userId, userId)),
    );
  return row ? toWorkspace(row) : undefined;
}

export function toWorkspace(row: {
  id: string;
  name: string;
  personalUserId: string | null;
  role: OrganizationRole;
}): Workspace {
  return { id: row.id, name: row.name, personal: row.personalUserId !== null, role: row.role };
}

/** Roles that manage members and billing. */
export const MANAGERS: ReadonlySet<OrganizationRole> = new Set(['owner', 'admin']);
