import {
  adminEmailRetryResponse,
  adminEmailsQuery,
  adminEmailsResponse,
  adminReconciliationQuery,
  adminReconciliationResponse,
  adminReconciliationRunResponse,
  adminReplayResponse,
  adminUsersQuery,
  adminUsersResponse,
  adminWebhookEventsQuery,
  adminWebhookEventsResponse,
  ErrorCode,
  errorEnvelopeSchema,
  successEnvelope,
} from '@tierbase/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { RECONCILE_QUEUE } from '../billing/plugin.ts';
import { listRuns } from '../billing/reconcile.ts';
import { billingNotConfigured } from '../billing/service.ts';
import { replayEvents } from '../billing/webhooks.ts';
import { retryFailedEmail } from '../email/outbox.ts';
import { AppError, notFound } from '../errors.ts';
import { ok } from '../http/envelope.ts';
import { requireStaff } from '../users/guards.ts';
import { listEmails, listUsers, listWebhookEvents } from './queries.ts';

const tags = ['admin'];
const errors = { 401: errorEnvelopeSchema, 403: errorEnvelopeSchema, 404: errorEnvelopeSchema };

/** Staff-only: look up users and their subscriptions, see and replay Stripe events, retry failed mail. */
export async function adminRoutes(app: FastifyInstance): Promise<void> {
  const routes = app.withTypeProvider<ZodTypeProvider>();
  // Every route here is staff-only; the guard runs before any handler.
  routes.addHook('preHandler', async (request) => {
    requireStaff(request);
  });

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
    async (request) => ok(await listUsers(app.database.db, request.query)),
  );

  routes.get(
    '/api/admin/webhook-events',
    {
      schema: {
        tags,
        summary: 'Recorded Stripe events (staff)',
        querystring: adminWebhookEventsQuery,
        response: { 200: successEnvelope(adminWebhookEventsResponse), ...errors },
      },
    },
    async (request) => ok({ events: await listWebhookEvents(app.database.db, request.query) }),
  );

  routes.post(
    '/api/admin/webhook-events/:eventId/replay',
    {
      schema: {
        tags,
        summary: 'Process a recorded Stripe event again (staff)',
        params: z.object({ eventId: z.string().min(1).max(255) }),
        response: { 200: successEnvelope(adminReplayResponse), ...errors },
      },
    },
    async (request) => {
      if (!app.billing) throw billingNotConfigured();
      const [result] = await replayEvents(app.billing, { eventId: request.params.eventId });
      return ok(result!);
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
    async (request) => ok({ emails: await listEmails(app.database.db, request.query) }),
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
        throw new AppError(
          409,
          ErrorCode.CONFLICT,
          'SMTP_URL is not set: emails are kept in the outbox, not sent.',
        );
      }
      if (!(await retryFailedEmail(app.database.db, app.jobs, request.params.id))) {
        throw notFound('No failed email with that id.');
      }
      return ok({ id: request.params.id, status: 'queued' as const });
    },
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
    async (_request, reply) => {
      if (!app.billing) throw billingNotConfigured();
      // The queue holds one reconciliation at most, queued or running.
      const jobId = await app.jobs.send(RECONCILE_QUEUE, { trigger: 'admin' });
      if (!jobId)
        throw new AppError(409, ErrorCode.CONFLICT, 'A reconciliation is already queued or running.');
      reply.code(202);
      return ok({ queued: true as const, jobId });
    },
  );
}
