import {
  adminReplayResponse,
  adminUsersQuery,
  adminUsersResponse,
  adminWebhookEventsQuery,
  adminWebhookEventsResponse,
  errorEnvelopeSchema,
  successEnvelope,
} from '@tierbase/contracts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { billingNotConfigured } from '../billing/service.ts';
import { replayEvents } from '../billing/webhooks.ts';
import { ok } from '../http/envelope.ts';
import { requireStaff } from '../users/guards.ts';
import { listUsers, listWebhookEvents } from './queries.ts';

const tags = ['admin'];
const errors = { 401: errorEnvelopeSchema, 403: errorEnvelopeSchema, 404: errorEnvelopeSchema };

/** Staff-only: look up users and their subscriptions, see and replay Stripe events. */
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
}
