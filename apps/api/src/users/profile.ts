import type { Profile } from '@tierbase/contracts';
import { and, eq, isNull } from 'drizzle-orm';
import { isPro } from '../billing/access.ts';
import { subscriptionView } from '../billing/status.ts';
import { type SubscriptionRow, subscriptionForOrganization } from '../billing/subscriptions.ts';
import type { Database } from '../db/client.ts';
import { profiles, users } from '../db/schema/index.ts';
import { unauthenticated } from '../errors.ts';
import {
  ensurePersonalWorkspace,
  membershipOf,
  personalWorkspaceName,
  personalWorkspaceOf,
  renamePersonalWorkspace,
  type Workspace,
} from '../organizations/workspaces.ts';
import type { AuthUser } from './auth-context.ts';
import { authUserColumns } from './sessions.ts';

/** What the profile is made of: the user, their profile row and the active workspace's subscription. */
export interface ProfileSource {
  user: AuthUser;
  workspace: Workspace;
  trialEnd: Date | null;
  subscription: SubscriptionRow | null;
}

/**
 * The one place that shapes GET /api/profile/ (and the register/login answers): the user, the
 * active workspace, whether it is Pro (derived from its subscription, as billing defines it) and
 * the subscription, in the shape GET /api/billing/status/ uses too.
 */
export function toProfile(
  { user, workspace, trialEnd, subscription }: ProfileSource,
  graceDays: number,
): Profile {
  return {
    user: {
      id: user.id,
      email: user.email,
      name: user.name,
      emailVerified: user.emailVerified,
      isStaff: user.isStaff,
      createdAt: user.createdAt.toISOString(),
      twoFactorEnabled: user.twoFactorEnabled,
    },
    workspace,
    isPro: isPro(
      { status: subscription?.status ?? null, pastDueSince: subscription?.pastDueSince ?? null },
      graceDays,
    ),
    subscription: subscriptionView(subscription ?? undefined, graceDays),
    trialEnd: trialEnd ? trialEnd.toISOString() : null,
  };
}

/**
 * Reads the personal workspace (from its owner, organizations), then the user and their profile in
 * one query on the primary key, then the workspace's subscription from its owner (billing); with
 * `workspaceId` (a session's active team), that workspace instead while the user is a member of it.
 */
export async function loadProfile(
  db: Database,
  userId: string,
  graceDays: number,
  workspaceId?: string,
): Promise<Profile> {
  const personal = await personalWorkspaceOf(db, userId);
  const [row] = await db
    .select({ user: authUserColumns, trialEnd: profiles.trialEnd })
    .from(users)
    .leftJoin(profiles, eq(profiles.userId, users.id))
    .where(eq(users.id, userId))
    .limit(1);
  // The user was deleted between authentication and this read.
  if (!row) throw unauthenticated();
  const team =
    workspaceId && workspaceId !== personal?.id ? await membershipOf(db, workspaceId, userId) : undefined;
  if (team) {
    const subscription = await subscriptionForOrganization(db, team.id);
    return toProfile({ ...row, workspace: team, subscription: subscription ?? null }, graceDays);
  }
  // A personal workspace made just now has no subscription yet.
  const subscription = personal ? await subscriptionForOrganization(db, personal.id) : undefined;
  const personalId = personal?.id ?? (await ensurePersonalWorkspace(db, row.user));
  const workspace: Workspace = {
    id: personalId,
    name: personal?.name ?? personalWorkspaceName(row.user.name),
    personal: true,
    role: 'owner',
  };
  return toProfile({ ...row, workspace, subscription: subscription ?? null }, graceDays);
}

/** Renames the user, and their personal workspace with them (it carries the user's name). */
export async function updateName(db: Database, userId: string, name: string): Promise<void> {
  const now = new Date();
  await db.transaction(async (tx) => {
    await tx.update(users).set({ name, updatedAt: now }).where(eq(users.id, userId));
    await renamePersonalWorkspace(tx, userId, name, now);
  });
}

/** The user's profile row (the account export); undefined for an unknown user. */
export async function profileOf(
  db: Database,
  userId: string,
): Promise<typeof profiles.$inferSelect | undefined> {
  const [profile] = await db.select().from(profiles).where(eq(profiles.userId, userId));
  return profile;
}

/**
 * Remembers the user's first trial for good: one trial per person, ever, whichever of their
 * workspaces had it (billing/checkout.ts#hadTrial). A later trial does not move the date.
 */
export async function rememberTrial(db: Database, userId: string, trialEnd: Date): Promise<void> {
  await db
    .update(profiles)
    .set({ trialEnd })
    .where(and(eq(profiles.userId, userId), isNull(profiles.trialEnd)));
}

/** Deletes the user's profile (account erasure, in its transaction). */
export async function deleteProfile(db: Database, userId: string): Promise<void> {
  await db.delete(profiles).where(eq(profiles.userId, userId));
}
