import type { ReconciliationTrigger } from '@tierbase/contracts';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { countsOf, createRunLock, reconcile } from './reconcile.ts';
import { registerBillingRoutes } from './routes.ts';
import { type BillingContext, createBillingContext } from './service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    /** Undefined while no Stripe (real or emulated) is configured. */
    billing: BillingContext | undefined;
  }
}

/** The reconciliation job: on the schedule (RECONCILE_CRON), or queued by an admin. */
export const RECONCILE_QUEUE = 'billing.reconcile';

/** The billing room: plans, checkout, portal, status, invoices and the Stripe webhook. */
export const billingPlugin = fp(
  async (app: FastifyInstance) => {
    const context = createBillingContext(app.config, app.database, app.mailer, (details, message) =>
      app.log.warn(details, message),
    );
    app.decorate('billing', context);
    await registerBillingRoutes(app, context);

    if (context) {
      // At most one job queued or running (a schedule that fires during a long run adds nothing);
      // the run lock also keeps the CLI and this job apart. A failed run is not retried: the next
      // one is due within the hour.
      const lock = createRunLock(app.database);
      await app.jobs.createQueue(RECONCILE_QUEUE, {
        policy: 'exclusive',
        retryLimit: 0,
        expireInSeconds: 3600,
      });
      await app.jobs.work<{ trigger?: ReconciliationTrigger }>(RECONCILE_QUEUE, async (data, job) => {
        const run = await reconcile(context, lock, {
          trigger: data.trigger ?? 'schedule',
          eventAgeMinutes: app.config.reconcile.eventAgeMinutes,
          signal: job.signal,
        });
        if (!run?.report) {
          app.log.info('reconciliation skipped: another run is in progress');
          return;
        }
        const counts = { runId: run.id, ...countsOf(run.report) };
        if (counts.repaired > 0 || counts.errors > 0)
          app.log.warn(counts, 'reconciliation found drift or errors');
        else app.log.info(counts, 'reconciliation finished');
      });
      const { cron } = app.config.reconcile;
      if (cron) await app.jobs.schedule(RECONCILE_QUEUE, cron, { trigger: 'schedule' });
      else await app.jobs.unschedule(RECONCILE_QUEUE);
    }
  },
  { name: 'billing', dependencies: ['email', 'users'] },
);
