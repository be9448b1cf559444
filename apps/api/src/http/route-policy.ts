import type { FastifyContextConfig, FastifyInstance } from 'fastify';

/**
 * Gives every route registered in this encapsulated context (and in the plugins it registers) the
 * same route `config`, so a plugin that serves no browser API (health, the dev outbox, the SPA's
 * files) states its policy once instead of on each route. A route's own `config` wins, field by
 * field at the top level. Call it before the routes are added: `onRoute` sees only later routes.
 *
 * The fields are declared, and read, by the hooks that enforce them: `csrf` and `httpsRedirect`
 * in http/security.ts, `limits` in http/rate-limit.ts, `loadShedding` in http/load-shedding.ts.
 */
export function routePolicy(app: FastifyInstance, policy: FastifyContextConfig): void {
  app.addHook('onRoute', (route) => {
    route.config = { ...policy, ...route.config };
  });
}
