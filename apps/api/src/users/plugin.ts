import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

// TODO(helper): Better Auth, the session hook that fills request.auth, and the /api/* user routes.
export const usersPlugin = fp(async (_app: FastifyInstance) => {}, { name: 'users' });
