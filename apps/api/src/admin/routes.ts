import {
  adminAiUsageQuery,
  adminAiUsageResponse,
  adminAuditQuery,
  adminAuditResponse,
  adminEmailRetryResponse,
  adminEmailsQuery,
  adminEmailsResponse,
  adminReconciliationQuery,
  adminReconciliationResponse,
  adminReconciliationRunResponse,
  adminReplayResponse,
  adminUserActionResponse,
  adminUserDetailSchema,
  adminUsersQuery,
  adminUsersResponse,
  adminWebhookEventDetailSchema,
  adminWebhookEventsQuery,
  adminWebhookEventsResponse,
  ErrorCode,
  errorEnvelopeSchema,
  successEnvelope,
} from '@tierbase/contracts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listRuns } from '../billing/reconcile.ts';
import { billingNotConfigured } from '../billing/service.ts';
import { AppError, notFound } from '../errors.ts';
import { errorResponses, ok } from '../http/envelope.ts';
import { routePolicy } from '../http/route-policy.ts';
import { requireStaff } from '../users/guards.ts';
import {
  type Actor,
  deactivateUser,
  queueReconciliation,
  reactivateUser,
  replayWebhookEvent,
  retryEmail,
  setStaff,
  syncUserSubscription,
} from './actions.ts';
import {
  aiUsage,
  getUserDetail,
  getWebhookEvent,
  listAudit,
  listEmails,
  listUsers,
  listWebhookEvents,
} from './queries.ts';

const tags = ['admin'];
const errors = errorResponses(400, 401, 403, 404);
const userParams = z.object({ id: z.string().min(1).max(100) });

/**
 * Staff-only: users (search, detail, deactivate, staff access, subscription sync), Stripe events
 * (filter, payload, replay), outbox emails (retry), AI usage and the audit log. Every change
 * writes one audit row (admin/actions.ts).
 */
export async function adminRoutes(app: FastifyInstance): Promise<void> {
  // Staff actions change other users (deactivate, staff access, sync): everyone's cached sessions go.
  routePolicy(app, { sessionEffect: 'everyone' });
  const routes = app.withTypeProvider<ZodTypeProvider>();
  const { db } = app.database;
  // Every route here is staff-only; the guard runs before any handler.
  routes.addHook('preHandler', async (request) => {
    requireStaff(request);
  });
  const actor = (request: FastifyRequest): Actor => ({ id: requireStaff(request).user.id });
  const userDetail = async (id: string) => {
    const user = await getUserDetail(db, id);
    if (!user) throw notFound('No such user.');
    return user;
  };

  routes.get(
    '/api/admin/users',
    {
      schema: {
        tags,
        summary: 'Users with their subscription (staff)',
        querystring: adminUsersQuery,
        response: { 200: successEnvelope(adminUsersResponse), ...errors },
      },
    },
    async (request) => ok(await listUsers(db, request.query)),
  );

  routes.get(
    '/api/admin/users/:id',
    {
      schema: {
        tags,
        summary: 'One user with their subscription and live sessions (staff)',
        params: userParams,
        response: { 200: successEnvelope(adminUserDetailSchema), ...errors },
      },
    },
    async (request) => ok(await userDetail(request.params.id)),
  );

  const userAction = (path: string, summary: string, run: (actor: Actor, userId: string) => Promise<void>) =>
    routes.post(
      `/api/admin/users/:id/${path}`,
      {
        schema: {
          tags,
          summary,
          params: userParams,
          response: {
            200: successEnvelope(adminUserActionResponse),
            409: errorEnvelopeSchema,
            502: errorEnvelopeSchema,
            503: errorEnvelopeSchema,
            ...errors,
          },
        },
      },
      async (request) => {
        await run(actor(request), request.params.id);
        return ok(await userDetail(request.params.id));
      },
    );

  userAction(
    'deactivate',
    'Deactivate a user: their sessions end now and they cannot sign in (staff; not yourself)',
    (who, id) => deactivateUser(db, who, id),
  );
  userAction('reactivate', 'Let a deactivated user sign in again (staff)', (who, id) =>
    reactivateUser(db, who, id),
  );
  userAction('make-staff', 'Give a user staff access (staff)', (who, id) => setStaff(db, who, id, true));
  userAction('revoke-staff', 'Take staff access away (staff; not yourself)', (who, id) =>
    setStaff(db, who, id, false),
  );
  userAction(
    'sync-subscription',
    "Re-read the user's subscription from Stripe now (staff; 409 without a Stripe customer)",
    async (who, id) => {
      if (!app.billing) throw billingNotConfigured();
      await syncUserSubscription(app.billing, who, id);
    },
  );

  routes.get(
    '/api/admin/webhook-events',
    {
      schema: {
        tags,
        summary: 'Recorded Stripe events, newest first, by type and status (staff)',
        querystring: adminWebhookEventsQuery,
        response: { 200: successEnvelope(adminWebhookEventsResponse), ...errors },
      },
    },
    async (request) => ok(await listWebhookEvents(db, request.query)),
  );

  routes.get(
    '/api/admin/webhook-events/:eventId',
    {
      schema: {
        tags,
        summary: 'One recorded Stripe event with its payload (staff)',
        params: z.object({ eventId: z.string().min(1).max(255) }),
        response: { 200: successEnvelope(adminWebhookEventDetailSchema), ...errors },
      },
    },
    async (request) => {
      const event = await getWebhookEvent(db, request.params.eventId);
      if (!event) throw notFound(`No recorded event ${request.params.eventId}.`);
      return ok(event);
    },
  );

  routes.post(
    '/api/admin/webhook-events/:eventId/replay',
    {
      schema: {
        tags,
        summary: 'Process a recorded Stripe event again (staff)',
        params: z.object({ eventId: z.string().min(1).max(255) }),
        response: { 200: successEnvelope(adminReplayResponse), 503: errorEnvelopeSchema, ...errors },
      },
    },
    async (request) => {
      if (!app.billing) throw billingNotConfigured();
      return ok(await replayWebhookEvent(app.billing, actor(request), request.params.eventId));
    },
  );

  routes.get(
    '/api/admin/emails',
    {
      schema: {
        tags,
        summary: 'Outbox emails, newest first (staff)',
        querystring: adminEmailsQuery,
        response: { 200: successEnvelope(adminEmailsResponse), ...errors },
      },
    },
    async (request) => ok({ emails: await listEmails(db, request.query) }),
  );

  routes.post(
    '/api/admin/emails/:id/retry',
    {
      schema: {
        tags,
        summary: 'Queue a failed email for delivery again (staff)',
        params: z.object({ id: z.string().min(1).max(100) }),
        response: { 200: successEnvelope(adminEmailRetryResponse), 409: errorEnvelopeSchema, ...errors },
      },
    },
    async (request) => {
      if (!app.config.smtpUrl) {
        throw new AppError({
          status: 409,
          code: ErrorCode.CONFLICT,
          message: 'SMTP_URL is not set: emails are kept in the outbox, not sent.',
        });
      }
      if (!(await retryEmail(db, app.jobs, actor(request), request.params.id))) {
        throw notFound('No failed email with that id.');
      }
      return ok({ id: request.params.id, status: 'queued' as const });
    },
  );

  routes.get(
    '/api/admin/ai-usage',
    {
      schema: {
        tags,
        summary: 'AI calls and tokens per user in a calendar month, and totals (staff)',
        querystring: adminAiUsageQuery,
        response: { 200: successEnvelope(adminAiUsageResponse), ...errors },
      },
    },
    async (request) => ok(await aiUsage(db, request.query.month)),
  );

  routes.get(
    '/api/admin/audit-log',
    {
      schema: {
        tags,
        summary: 'Every staff action, newest first (staff)',
        querystring: adminAuditQuery,
        response: { 200: successEnvelope(adminAuditResponse), ...errors },
      },
    },
    async (request) => ok(await listAudit(db, request.query)),
  );

  // --- Reconciliation with Stripe (billing/reconcile.ts) ---

  routes.get(
    '/api/admin/reconciliation',
    {
      schema: {
        tags,
        summary: 'The latest reconciliations with Stripe and their reports, newest first (staff)',
        querystring: adminReconciliationQuery,
        response: { 200: successEnvelope(adminReconciliationResponse), ...errors },
      },
    },
    async (request) => ok({ runs: await listRuns(app.database.db, request.query.limit) }),
  );

  routes.post(
    '/api/admin/reconciliation/run',
    {
      schema: {
        tags,
        summary: 'Queue a reconciliation with Stripe now (staff); its report appears when it finishes',
        response: {
          202: successEnvelope(adminReconciliationRunResponse),
          409: errorEnvelopeSchema,
          503: errorEnvelopeSchema,
          ...errors,
        },
      },
    },
    async (request, reply) => {
      if (!app.billing) throw billingNotConfigured();
      // The queue holds one reconciliation at most, queued or running.
      const jobId = await queueReconciliation(db, app.jobs, actor(request));
      if (!jobId)
        throw new AppError({
          status: 409,
          code: ErrorCode.CONFLICT,
          message: 'A reconciliation is already queued or running.',
        });
      reply.code(202);
      return ok({ queued: true as const, jobId });
    },
  );
}
