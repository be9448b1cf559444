import { createHash, randomBytes } from 'node:crypto';
import {
  type AssignableRole,
  ErrorCode,
  type InvitationPreviewResponse,
  type OrganizationInvitation,
  type OrganizationSummary,
} from '@tierbase/contracts';
import { and, eq, gt } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { organizationInvitations, organizationMembers, organizations } from '../db/schema/organizations.ts';
import type { Mailer } from '../email/mailer.ts';
import { AppError, notFound } from '../errors.ts';
import { linkWithToken } from '../users/auth.ts';
import { setActiveOrganization } from '../users/sessions.ts';
import { contactsOf, findUserIdByEmail } from '../users/users.ts';
import { membershipChanged } from './seats.ts';
import {
  lockMembership,
  type OrganizationDeps,
  organizationSummary,
  personalWorkspaceRefused,
  requireManager,
} from './service.ts';
import { membershipOf } from './workspaces.ts';

/*
 * Invitations to a team (decision 24): a random token in an emailed link, stored only as its
 * SHA-256 hash, good for one acceptance within 7 days, by the account whose verified address it
 * was sent to. The row is deleted when it is accepted or revoked, and replaced when the same
 * address is invited again, so an older link stops working.
 */

export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;

export interface InvitationDeps extends OrganizationDeps {
  mailer: Mailer;
  appUrl: string;
}

export const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

const invitationGone = () =>
  notFound('This invitation is not valid: it may have been used, revoked or replaced, or it has expired.');

const day = (date: Date) =>
  date.toLocaleDateString('en-US', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' });

/**
 * POST /api/organizations/:id/invitations (owner or admin; teams only). The invitation row and its
 * email are written in one transaction: the email exists if and only if the invitation does.
 */
export async function inviteMember(
  deps: InvitationDeps,
  organizationId: string,
  inviter: { id: string; name: string },
  input: { email: string; role: AssignableRole },
  now: Date = new Date(),
): Promise<OrganizationInvitation> {
  const email = input.email.toLowerCase();
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + INVITATION_TTL_MS);
  return deps.db.transaction(async (tx) => {
    const workspace = await lockMembership(tx, organizationId, inviter.id);
    if (workspace.personal) throw personalWorkspaceRefused('shared');
    requireManager(workspace, 'invite members');
    const invitee = await findUserIdByEmail(tx, email);
    if (invitee && (await membershipOf(tx, organizationId, invitee))) {
      throw new AppError({
        status: 409,
        code: ErrorCode.ALREADY_MEMBER,
        message: 'This address belongs to a member of the organization already.',
      });
    }
    // A pending invitation to the address is replaced: its link stops working.
    await tx
      .delete(organizationInvitations)
      .where(
        and(
          eq(organizationInvitations.organizationId, organizationId),
          eq(organizationInvitations.email, email),
        ),
      );
    const [invitation] = await tx
      .insert(organizationInvitations)
      .values({
        organizationId,
        email,
        role: input.role,
        tokenHash: hashToken(token),
        invitedByUserId: inviter.id,
        createdAt: now,
        expiresAt,
      })
      .returning();
    if (!invitation) throw new Error('invitation missing after insert');
    await deps.mailer.send(
      {
        to: email,
        template: 'organization-invitation',
        data: {
          inviterName: inviter.name,
          organizationName: workspace.name,
          role: input.role,
          url: linkWithToken(deps.appUrl, '/invitations', token),
          expiresOn: day(expiresAt),
        },
      },
      { transaction: tx },
    );
    return {
      id: invitation.id,
      email: invitation.email,
      role: invitation.role,
      invitedAt: invitation.createdAt.toISOString(),
      expiresAt: invitation.expiresAt.toISOString(),
    };
  });
}

/** DELETE /api/organizations/:id/invitations/:invitationId (owner or admin): the link stops working. */
export async function revokeInvitation(
  deps: OrganizationDeps,
  organizationId: string,
  actorId: string,
  invitationId: string,
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const workspace = await lockMembership(tx, organizationId, actorId);
    requireManager(workspace, 'revoke invitations');
    const deleted = /^[0-9a-f-]{36}$/i.test(invitationId)
      ? await tx
          .delete(organizationInvitations)
          .where(
            and(
              eq(organizationInvitations.id, invitationId),
              eq(organizationInvitations.organizationId, organizationId),
            ),
          )
          .returning({ id: organizationInvitations.id })
      : [];
    if (deleted.length === 0) throw notFound('No such invitation.');
  });
}

/** POST /api/invitations/preview (no session needed): what the invitation page shows. */
export async function previewInvitation(
  deps: OrganizationDeps,
  token: string,
  now: Date = new Date(),
): Promise<InvitationPreviewResponse> {
  const [row] = await deps.db
    .select({
      organizationName: organizations.name,
      invitedByUserId: organizationInvitations.invitedByUserId,
      email: organizationInvitations.email,
      role: organizationInvitations.role,
      expiresAt: organizationInvitations.expiresAt,
    })
    .from(organizationInvitations)
    .innerJoin(organizations, eq(organizations.id, organizationInvitations.organizationId))
    .where(
      and(
        eq(organizationInvitations.tokenHash, hashToken(token)),
        gt(organizationInvitations.expiresAt, now),
      ),
    );
  if (!row) throw invitationGone();
  return {
    organizationName: row.organizationName,
    inviterName: (await inviterName(deps.db, row.invitedByUserId)) || 'A teammate',
    email: row.email,
    role: row.role,
    expiresAt: row.expiresAt.toISOString(),
  };
}

async function inviterName(db: Database, userId: string | null): Promise<string | undefined> {
  if (!userId) return undefined;
  return (await contactsOf(db, [userId])).get(userId)?.name.trim();
}

/**
 * POST /api/invitations/accept: the signed-in account joins with the invited role, if its verified
 * address is the invited one (a wrong account does not use the invitation up); the organization
 * becomes the session's active workspace. The invitation is deleted as the membership is written.
 */
export async function acceptInvitation(
  deps: OrganizationDeps,
  user: { id: string; email: string; emailVerified: boolean },
  sessionId: string,
  token: string,
  now: Date = new Date(),
): Promise<OrganizationSummary> {
  const organizationId = await deps.db.transaction(async (tx) => {
    const [invitation] = await tx
      .select()
      .from(organizationInvitations)
      .where(
        and(
          eq(organizationInvitations.tokenHash, hashToken(token)),
          gt(organizationInvitations.expiresAt, now),
        ),
      )
      .for('update');
    if (!invitation) throw invitationGone();
    if (invitation.email !== user.email.toLowerCase()) {
      throw new AppError({
        status: 403,
        code: ErrorCode.INVITATION_EMAIL_MISMATCH,
        message:
          'This invitation was sent to another email address. Sign in with the account for that address to accept it.',
      });
    }
    if (!user.emailVerified) {
      throw new AppError({
        status: 403,
        code: ErrorCode.INVITATION_EMAIL_MISMATCH,
        message: 'Confirm your email address first (with the link we sent you), then accept the invitation.',
      });
    }
    await tx.delete(organizationInvitations).where(eq(organizationInvitations.id, invitation.id));
    const [joined] = await tx
      .insert(organizationMembers)
      .values({ organizationId: invitation.organizationId, userId: user.id, role: invitation.role })
      .onConflictDoNothing()
      .returning({ organizationId: organizationMembers.organizationId });
    if (joined) await membershipChanged(deps.jobs, tx, invitation.organizationId);
    await setActiveOrganization(tx, sessionId, invitation.organizationId);
    return invitation.organizationId;
  });
  return organizationSummary(deps.db, organizationId, user.id, organizationId);
}
