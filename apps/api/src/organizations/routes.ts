import {
  invitationCreateRequest,
  invitationPreviewResponse,
  invitationResponse,
  invitationTokenRequest,
  memberResponse,
  memberRoleUpdateRequest,
  messageResponse,
  organizationCreateRequest,
  organizationDetailResponse,
  organizationIdSchema,
  organizationListResponse,
  organizationResponse,
  organizationUpdateRequest,
  ownershipTransferRequest,
  successEnvelope,
} from '@tierbase/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, ok } from '../http/envelope.ts';
import { makeLimiter } from '../http/rate-limit.ts';
import { requireUser } from '../users/guards.ts';
import {
  acceptInvitation,
  type InvitationDeps,
  inviteMember,
  previewInvitation,
  revokeInvitation,
} from './invitations.ts';
import {
  activateOrganization,
  changeRole,
  createOrganization,
  deleteOrganization,
  leaveOrganization,
  listOrganizations,
  organizationDetail,
  organizationSummary,
  removeMember,
  renameOrganization,
  transferOwnership,
} from './service.ts';

const FIFTEEN_MINUTES = 15 * 60_000;
const tags = ['organizations'];
const errors = errorResponses(400, 401, 403, 404, 409, 429);
const orgParams = z.object({ id: organizationIdSchema });
const memberParams = z.object({ id: organizationIdSchema, userId: z.string().min(1).max(64) });
const invitationParams = z.object({ id: organizationIdSchema, invitationId: z.string().min(1).max(64) });
const messageEnvelope = successEnvelope(messageResponse);

/** The organizations API (decision 24): thin routes over service.ts and invitations.ts. */
export async function registerOrganizationRoutes(app: FastifyInstance, deps: InvitationDeps): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { db } = deps;
  const { config } = app;

  // Each invitation sends an email to an address of the caller's choosing: a team grows by a few
  // at a time, so four times the login budget per quarter hour is plenty, and bounds the spam.
  const inviteLimit = makeLimiter(app, {
    name: 'organization-invite',
    max: config.rateLimits.loginPer15Minutes * 4,
    windowMs: FIFTEEN_MINUTES,
    key: (request) => request.auth?.user.id ?? null,
    failOpen: false,
  });

  routes.get(
    '/api/organizations',
    {
      schema: {
        tags,
        summary: "The caller's organizations (personal workspace first) and which one is active",
        response: { 200: successEnvelope(organizationListResponse), ...errors },
      },
    },
    async (request) => {
      const { user, workspace } = requireUser(request);
      return ok({ organizations: await listOrganizations(db, user.id, workspace.id) });
    },
  );

  routes.post(
    '/api/organizations',
    {
      schema: {
        tags,
        summary: 'Create a team organization: the caller is its owner, and it becomes the active workspace',
        body: organizationCreateRequest,
        response: { 201: successEnvelope(organizationResponse), ...errors },
      },
    },
    async (request, reply) => {
      const { user, sessionId } = requireUser(request);
      const organization = await createOrganization(db, user, sessionId, request.body.name);
      return reply.code(201).send(ok({ organization }));
    },
  );

  routes.get(
    '/api/organizations/:id',
    {
      schema: {
        tags,
        summary: 'The organization, its members and (for the owner and admins) its pending invitations',
        params: orgParams,
        response: { 200: successEnvelope(organizationDetailResponse), ...errors },
      },
    },
    async (request) => {
      const { user } = requireUser(request);
      return ok(await organizationDetail(db, request.params.id, user.id));
    },
  );

  routes.patch(
    '/api/organizations/:id',
    {
      schema: {
        tags,
        summary: 'Rename a team (owner or admin)',
        params: orgParams,
        body: organizationUpdateRequest,
        response: { 200: successEnvelope(organizationResponse), ...errors },
      },
    },
    async (request) => {
      const { user, workspace } = requireUser(request);
      await renameOrganization(db, request.params.id, user.id, request.body.name);
      return ok({ organization: await organizationSummary(db, request.params.id, user.id, workspace.id) });
    },
  );

  routes.delete(
    '/api/organizations/:id',
    {
      schema: {
        tags,
        summary: 'Delete a team (owner; 409 ORGANIZATION_HAS_SUBSCRIPTION while its subscription can bill)',
        params: orgParams,
        response: { 200: messageEnvelope, ...errors },
      },
    },
    async (request) => {
      const { user } = requireUser(request);
      await deleteOrganization(db, request.params.id, user.id);
      return ok({ message: 'The organization has been deleted.' });
    },
  );

  routes.post(
    '/api/organizations/:id/activate',
    {
      schema: {
        tags,
        summary: "Make the organization this session's active workspace (billing, Pro features and AI quota)",
        params: orgParams,
        response: { 200: successEnvelope(organizationResponse), ...errors },
      },
    },
    async (request) => {
      const { user, sessionId } = requireUser(request);
      return ok({ organization: await activateOrganization(db, request.params.id, user.id, sessionId) });
    },
  );

  routes.post(
    '/api/organizations/:id/invitations',
    {
      schema: {
        tags,
        summary:
          'Invite an address (owner or admin; teams only): emails a single-use link valid 7 days; a new invitation to the same address replaces the old',
        params: orgParams,
        body: invitationCreateRequest,
        response: { 201: successEnvelope(invitationResponse), ...errors },
      },
      preHandler: inviteLimit,
    },
    async (request, reply) => {
      const { user } = requireUser(request);
      const invitation = await inviteMember(deps, request.params.id, user, request.body);
      return reply.code(201).send(ok({ invitation }));
    },
  );

  routes.delete(
    '/api/organizations/:id/invitations/:invitationId',
    {
      schema: {
        tags,
        summary: 'Revoke a pending invitation (owner or admin)',
        params: invitationParams,
        response: { 200: messageEnvelope, ...errors },
      },
    },
    async (request) => {
      const { user } = requireUser(request);
      await revokeInvitation(deps, request.params.id, user.id, request.params.invitationId);
      return ok({ message: 'The invitation has been revoked.' });
    },
  );

  routes.post(
    '/api/invitations/preview',
    {
      schema: {
        tags,
        summary:
          'What an invitation link is for (no session needed; 404 when used, revoked, replaced or expired)',
        body: invitationTokenRequest,
        response: { 200: successEnvelope(invitationPreviewResponse), ...errors },
      },
    },
    async (request) => ok(await previewInvitation(deps, request.body.token)),
  );

  routes.post(
    '/api/invitations/accept',
    {
      schema: {
        tags,
        summary:
          'Join the organization of an invitation link (the verified address must be the invited one: else 403 INVITATION_EMAIL_MISMATCH); it becomes the active workspace',
        body: invitationTokenRequest,
        response: { 200: successEnvelope(organizationResponse), ...errors },
      },
    },
    async (request) => {
      const { user, sessionId } = requireUser(request);
      return ok({ organization: await acceptInvitation(deps, user, sessionId, request.body.token) });
    },
  );

  routes.patch(
    '/api/organizations/:id/members/:userId',
    {
      schema: {
        tags,
        summary: "Change a member's role to admin or member (owner only)",
        params: memberParams,
        body: memberRoleUpdateRequest,
        response: { 200: successEnvelope(memberResponse), ...errors },
      },
    },
    async (request) => {
      const { user } = requireUser(request);
      const { id, userId } = request.params;
      return ok({ member: await changeRole(db, id, user.id, userId, request.body.role) });
    },
  );

  routes.delete(
    '/api/organizations/:id/members/:userId',
    {
      schema: {
        tags,
        summary: 'Remove a member (owner or admin; never the owner; only the owner removes an admin)',
        params: memberParams,
        response: { 200: messageEnvelope, ...errors },
      },
    },
    async (request) => {
      const { user } = requireUser(request);
      await removeMember(deps, request.params.id, user.id, request.params.userId);
      return ok({ message: 'The member has been removed.' });
    },
  );

  routes.post(
    '/api/organizations/:id/leave',
    {
      schema: {
        tags,
        summary: 'Leave a team (any member but the owner: 409 OWNER_CANNOT_LEAVE)',
        params: orgParams,
        response: { 200: messageEnvelope, ...errors },
      },
    },
    async (request) => {
      const { user } = requireUser(request);
      await leaveOrganization(deps, request.params.id, user.id);
      return ok({ message: 'You have left the organization.' });
    },
  );

  routes.post(
    '/api/organizations/:id/transfer',
    {
      schema: {
        tags,
        summary: 'Make another member the owner (owner only); the old owner becomes an admin',
        params: orgParams,
        body: ownershipTransferRequest,
        response: { 200: successEnvelope(organizationDetailResponse), ...errors },
      },
    },
    async (request) => {
      const { user } = requireUser(request);
      return ok(await transferOwnership(db, request.params.id, user.id, request.body.userId));
    },
  );
}
