import { z } from 'zod';
import { emailSchema, nameSchema, organizationRoleSchema } from './users.ts';

// Organizations (workspaces), their members and invitations. Every user has one personal
// workspace (`personal: true`: they are its only member and owner; it cannot be invited to, left,
// deleted or transferred); team organizations (`personal: false`) have one owner, admins and
// members. The session's active workspace decides which subscription, Pro gate and AI quota apply.

const date = z.iso.datetime();

/** An id in a path (`/api/organizations/:id`), bounded like every other id the API hands out. */
export const organizationIdSchema = z.string().min(1).max(64);

/** The roles an invitation or a role change can give: ownership moves only by a transfer. */
export const assignableRoleSchema = z.enum(['admin', 'member']);
export type AssignableRole = z.infer<typeof assignableRoleSchema>;

export const organizationNameSchema = nameSchema;

/** One organization the caller belongs to, as the workspace switcher lists it. */
export const organizationSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  personal: z.boolean(),
  /** The caller's role in it. */
  role: organizationRoleSchema,
  memberCount: z.number().int(),
  /** It is this session's active workspace. */
  active: z.boolean(),
});
export type OrganizationSummary = z.infer<typeof organizationSummarySchema>;

/** GET /api/organizations */
export const organizationListResponse = z.object({ organizations: z.array(organizationSummarySchema) });
export type OrganizationListResponse = z.infer<typeof organizationListResponse>;

/** POST /api/organizations (201; the caller becomes the owner and it becomes active). */
export const organizationCreateRequest = z.strictObject({ name: organizationNameSchema });
export type OrganizationCreateRequest = z.infer<typeof organizationCreateRequest>;

/** PATCH /api/organizations/:id (owner or admin). */
export const organizationUpdateRequest = z.strictObject({ name: organizationNameSchema });
export type OrganizationUpdateRequest = z.infer<typeof organizationUpdateRequest>;

/**
 * The answer of create, rename, activate and accept: the organization as the caller's list shows
 * it (so `active` says whether it is now the session's workspace).
 */
export const organizationResponse = z.object({ organization: organizationSummarySchema });
export type OrganizationResponse = z.infer<typeof organizationResponse>;

export const organizationMemberSchema = z.object({
  userId: z.string(),
  name: z.string(),
  email: z.string(),
  role: organizationRoleSchema,
  joinedAt: date,
});
export type OrganizationMember = z.infer<typeof organizationMemberSchema>;

/** A pending invitation (never its token, which only the email carries). */
export const organizationInvitationSchema = z.object({
  id: z.string(),
  email: z.string(),
  role: assignableRoleSchema,
  invitedAt: date,
  expiresAt: date,
});
export type OrganizationInvitation = z.infer<typeof organizationInvitationSchema>;

/** GET /api/organizations/:id (and the answer of a transfer). */
export const organizationDetailResponse = z.object({
  organization: z.object({
    id: z.string(),
    name: z.string(),
    personal: z.boolean(),
    role: organizationRoleSchema,
    memberCount: z.number().int(),
    /** The seats the subscription is billed for (its quantity); null without a subscription. */
    seats: z.number().int().nullable(),
    createdAt: date,
  }),
  members: z.array(organizationMemberSchema),
  /** Pending invitations; always empty for a plain member. */
  invitations: z.array(organizationInvitationSchema),
});
export type OrganizationDetailResponse = z.infer<typeof organizationDetailResponse>;

/**
 * POST /api/organizations/:id/invitations (201; owner or admin; team organizations only). The
 * email carries a single-use link valid for 7 days; inviting an address that already has a pending
 * invitation replaces it (the old link stops working); a member's address answers 409 ALREADY_MEMBER.
 */
export const invitationCreateRequest = z.strictObject({
  email: emailSchema,
  role: assignableRoleSchema,
});
export type InvitationCreateRequest = z.infer<typeof invitationCreateRequest>;

export const invitationResponse = z.object({ invitation: organizationInvitationSchema });
export type InvitationResponse = z.infer<typeof invitationResponse>;

/** The token from the invitation link (`/invitations#token=…`). */
export const invitationTokenRequest = z.strictObject({ token: z.string().min(1).max(512) });
export type InvitationTokenRequest = z.infer<typeof invitationTokenRequest>;

/**
 * POST /api/invitations/preview (no session needed): what the invitation page shows before the
 * person signs in or up. 404 NOT_FOUND for a token that is unknown, used, expired or revoked.
 */
export const invitationPreviewResponse = z.object({
  organizationName: z.string(),
  inviterName: z.string(),
  email: z.string(),
  role: assignableRoleSchema,
  expiresAt: date,
});
export type InvitationPreviewResponse = z.infer<typeof invitationPreviewResponse>;

// POST /api/invitations/accept takes an invitationTokenRequest and answers an organizationResponse
// (the organization becomes the session's active workspace). The signed-in account's verified
// email must equal the invitation's (ignoring case): otherwise 403 INVITATION_EMAIL_MISMATCH.

/** PATCH /api/organizations/:id/members/:userId (owner only). */
export const memberRoleUpdateRequest = z.strictObject({ role: assignableRoleSchema });
export type MemberRoleUpdateRequest = z.infer<typeof memberRoleUpdateRequest>;

export const memberResponse = z.object({ member: organizationMemberSchema });
export type MemberResponse = z.infer<typeof memberResponse>;

/**
 * POST /api/organizations/:id/transfer (owner only): the member becomes the owner and the old
 * owner an admin. Answers an organizationDetailResponse.
 */
export const ownershipTransferRequest = z.strictObject({ userId: z.string().min(1).max(64) });
export type OwnershipTransferRequest = z.infer<typeof ownershipTransferRequest>;

// DELETE /api/organizations/:id, DELETE …/invitations/:invitationId, DELETE …/members/:userId and
// POST …/leave answer `{ message }` (messageResponse in users.ts).
