import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Mailer } from './mailer.ts';

// TODO(helper): outbox, templates, SMTP transport through the job queue, /dev/mail.
export const emailPlugin = fp(
  async (app: FastifyInstance, _options: { workers: boolean }) => {
    const mailer: Mailer = { async send() {} };
    app.decorate('mailer', mailer);
  },
  { name: 'email' },
);
