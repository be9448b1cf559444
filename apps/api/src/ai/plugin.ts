import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { registerAiRoutes } from './routes.ts';
import { createAiContext } from './service.ts';

/** The Pro AI assistant: generate (plain or streamed), history and status, within the plan's quota. */
export const aiPlugin = fp(
  async (app: FastifyInstance) => {
    const context = createAiContext(app.config.ai, app.database.db, (level, details, message) =>
      app.log[level](details, message),
    );
    await registerAiRoutes(app, context);
  },
  { name: 'ai', dependencies: ['users', 'billing'] },
);
