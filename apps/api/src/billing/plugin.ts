import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { registerBillingRoutes } from './routes.ts';
import { createBillingContext } from './service.ts';

/** The billing room: plans, checkout, portal, status, invoices and the Stripe webhook. */
export const billingPlugin = fp(
  async (app: FastifyInstance) => {
    const context = createBillingContext(app.config, app.database, app.mailer, (details, message) =>
      app.log.warn(details, message),
    );
    app.decorate('billing', context);
    await registerBillingRoutes(app, context);
  },
  { name: 'billing', dependencies: ['email', 'users'] },
);
