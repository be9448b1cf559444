import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createDeliverHandler, createSmtpTransport } from './delivery.ts';
import { devMailRoutes } from './dev-routes.ts';
import type { Mailer } from './mailer.ts';
import { createMailer, DELIVER_QUEUE, type DeliverJob } from './outbox.ts';

declare module 'fastify' {
  interface FastifyInstance {
    mailer: Mailer;
  }
}

/** A delivery that has not finished in this long is considered lost and retried. */
const DELIVERY_EXPIRE_SECONDS = 300;

/**
 * `app.mailer`: every email is rendered and stored in the outbox; with `SMTP_URL` a durable job
 * delivers it (retried with backoff through an SMTP outage), without it the outbox is the
 * destination and `/dev/mail` shows it. `/dev/mail` is never registered in production.
 */
export const emailPlugin = fp(
  async (app: FastifyInstance, options: { workers: boolean }) => {
    const { config, database, jobs } = app;

    if (config.smtpUrl) {
      await jobs.createQueue(DELIVER_QUEUE, {
        // One pending delivery per outbox row: the row id is the job's singleton key.
        policy: 'exclusive',
        retryLimit: config.mailRetry.limit,
        retryDelaySeconds: config.mailRetry.delaySeconds,
        retryDelayMaxSeconds: config.mailRetry.delayMaxSeconds,
        expireInSeconds: DELIVERY_EXPIRE_SECONDS,
      });
      if (options.workers) {
        const handler = createDeliverHandler({
          db: database.db,
          transport: createSmtpTransport(config.smtpUrl),
          mailFrom: config.mailFrom,
          log: app.log,
        });
        await jobs.work<DeliverJob>(DELIVER_QUEUE, handler, { concurrency: 2 });
      }
    }

    if (config.isProduction && !config.smtpUrl) {
      app.log.warn('SMTP_URL is not set: emails are stored in the outbox and not sent');
    }

    app.decorate(
      'mailer',
      createMailer({
        db: database.db,
        jobs,
        brand: { productName: 'Tierbase', appUrl: config.appUrl },
        delivery: config.smtpUrl ? 'smtp' : 'outbox',
      }),
    );

    if (!config.isProduction) await app.register(devMailRoutes);
  },
  { name: 'email' },
);
