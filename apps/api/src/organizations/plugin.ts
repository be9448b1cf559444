import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { routePolicy } from '../http/route-policy.ts';
import { registerOrganizationRoutes } from './routes.ts';
import { SEAT_SYNC_QUEUE } from './seats.ts';

/**
 * Organizations (decision 24): the API for teams, members and invitations. The seat sync queue is
 * created here, before any membership change can enqueue to it (a send inside a transaction needs
 * the queue known); its worker belongs to billing.
 */
export const organizationsPlugin = fp(
  async (app: FastifyInstance) => {
    // Every job reads the count as it is when it runs, so none may be dropped: a standard queue.
    await app.jobs.createQueue(SEAT_SYNC_QUEUE, { retryLimit: 5, retryDelaySeconds: 30 });
    // Encapsulated, so the route policy applies to these routes only.
    await app.register(async (scoped) => {
      // Roles, removals, transfers and acceptances change other members' workspaces and access.
      routePolicy(scoped, { sessionEffect: 'everyone' });
      await registerOrganizationRoutes(scoped, {
        db: app.database.db,
        jobs: app.jobs,
        mailer: { send: (request, options) => app.mailer.send(request, options) },
        appUrl: app.config.appUrl,
      });
    });
  },
  { name: 'organizations', dependencies: ['email', 'users'] },
);
