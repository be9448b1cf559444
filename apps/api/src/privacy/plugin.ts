import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { registerPrivacyRoutes } from './routes.ts';
import { eraseLeftovers } from './service.ts';

/** The hourly job that finishes erasures (see `eraseLeftovers`). */
export const ERASE_LEFTOVERS_QUEUE = 'privacy.erase-leftovers';

/** The user's data rights: export and account deletion, for the signed-in user. */
export const privacyPlugin = fp(
  async (app: FastifyInstance) => {
    await registerPrivacyRoutes(app, () => ({
      db: app.database.db,
      mailer: app.mailer,
      billing: app.billing,
      jobs: app.jobs,
    }));

    await app.jobs.createQueue(ERASE_LEFTOVERS_QUEUE, { policy: 'exclusive', retryLimit: 2 });
    await app.jobs.work(ERASE_LEFTOVERS_QUEUE, async () => {
      const erased = await eraseLeftovers(app.database.db);
      if (erased.notices > 0 || erased.events > 0) app.log.info(erased, 'erasure leftovers erased');
    });
    await app.jobs.schedule(ERASE_LEFTOVERS_QUEUE, '23 * * * *');
  },
  { name: 'privacy', dependencies: ['users', 'organizations', 'billing', 'email'] },
);
