import { randomUUID } from 'node:crypto';
import type { PGlite } from '@electric-sql/pglite';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { Redis } from 'ioredis';
import { adminRoutes } from './admin/routes.ts';
import { aiPlugin } from './ai/plugin.ts';
import { billingPlugin } from './billing/plugin.ts';
import type { Config } from './config.ts';
import { type DatabaseHandle, openDatabase } from './db/client.ts';
import { emailPlugin } from './email/plugin.ts';
import { createSentryReporter, type ErrorReporter, noErrorReporter } from './error-reporting.ts';
import { clientErrorHandler, frameworkErrors, registerErrorHandling } from './http/error-handler.ts';
import { healthRoutes } from './http/health.ts';
import { registerInputGuard } from './http/input.ts';
import { registerLoadShedding } from './http/load-shedding.ts';
import { registerMetrics } from './http/metrics.ts';
import { type LimitSpec, registerRateLimitStore, routeCounts } from './http/rate-limit.ts';
import { csrfRoutes, registerSecurity } from './http/security.ts';
import { spaPlugin, trackRouteNamespaces } from './http/spa.ts';
import { createJobQueue, type JobQueue } from './jobs/queue.ts';
import { loggerOptions, OneLinePerRequest } from './logger.ts';
import { organizationsPlugin } from './organizations/plugin.ts';
import { privacyPlugin } from './privacy/plugin.ts';
import { usersPlugin } from './users/plugin.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    database: DatabaseHandle;
    redis: Redis | undefined;
    jobs: JobQueue;
    /** Set when shutdown begins: readiness answers 503 so load balancers stop sending traffic. */
    draining: boolean;
    /** Unexpected errors go here as well as to the log (Sentry when SENTRY_DSN is set). */
    errorReporter: ErrorReporter;
  }
}

export interface BuildOptions {
  /** A migrated in-memory PGlite (tests); otherwise the config decides the database. */
  pglite?: PGlite;
  /**
   * Start the job workers in this process (the server does; some tests do not). Default: unless
   * PROCESS_ROLE=api.
   */
  workers?: boolean;
  /** Override the log destination (tests capture logs to check what they contain). */
  logStream?: NodeJS.WritableStream;
  /** Serve the SPA from this folder instead of the built apps/web/dist (tests). */
  webRoot?: string;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Composes the whole server: external plugins, then the app's own, then routes. It never listens,
 * so tests drive the same app through `inject` or a port of their choosing.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config.logLevel, options.logStream),
    trustProxy: config.trustedProxies.length > 0 ? config.trustedProxies : false,
    bodyLimit: config.bodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true },
    requestIdHeader: false,
    // Honour a caller's X-Request-ID when it is safe to log; otherwise make one.
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    forceCloseConnections: 'idle',
    // Fastify's own answers for these are not the envelope; http/error-handler.ts gives them.
    return503OnClosing: false,
    frameworkErrors,
    clientErrorHandler,
    logController: new OneLinePerRequest(),
  }).withTypeProvider<ZodTypeProvider>();

  // Before any route is added, so it sees them all.
  const routeNamespaces = trackRouteNamespaces(app);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate('config', config);
  // Optional, and loaded only when configured: without them no tracing or Sentry code is imported.
  const { otlpEndpoint, serviceName, sentryDsn } = config.observability;
  if (otlpEndpoint) {
    const { registerTracing } = await import('./http/tracing.ts');
    await registerTracing(app, { endpoint: otlpEndpoint, serviceName });
  }
  const errorReporter = sentryDsn
    ? await createSentryReporter({ dsn: sentryDsn, environment: config.env })
    : noErrorReporter;
  app.decorate('errorReporter', errorReporter);
  registerErrorHandling(app);
  registerInputGuard(app);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-ID', request.id);
    done();
  });
  await registerLoadShedding(app);
  // On the root instance (not a child plugin), so its onResponse hook times every route.
  registerMetrics(app);
  // JSON only: the default text/plain parser would let other bodies through.
  app.removeContentTypeParser('text/plain');

  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolMax: config.databasePoolMax,
    ...(options.pglite ? { pglite: options.pglite } : {}),
  });
  app.decorate('database', database);
  // Auto-pipelining: the commands of one event-loop tick (the rate limits of every request that
  // arrived together) go out in one socket write instead of one write each, which was a third of
  // the CPU of a signed-in GET (docs/benchmarks.md). The commands and their answers are the same.
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, {
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        lazyConnect: false,
        enableAutoPipelining: true,
      })
    : undefined;
  redis?.on('error', (error) => app.log.warn({ err: error }, 'redis error'));
  app.decorate('redis', redis);
  app.decorate('draining', false);

  const workers = options.workers ?? config.processRole !== 'api';
  const jobs = await createJobQueue(database, { config, log: app.log, workers });
  app.decorate('jobs', jobs);
  app.addHook('onClose', async () => {
    await jobs.stop();
    redis?.disconnect();
    await database.close();
    await errorReporter.flush(2000);
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Tierbase API',
        version: '1.0.0',
        description:
          'Every response uses the envelope {success, data} or {success:false, error, code, status}.',
      },
    },
    transform: jsonSchemaTransform,
  });
  // The docs run under the app's own Content-Security-Policy (helmet, below), not a looser one of
  // their own. BaseLayout leaves out Swagger UI's top bar, whose SVG logo carries an inline <style>
  // that policy refuses; the bar only shows that logo and the spec's URL.
  await app.register(swaggerUi, { routePrefix: '/api/docs', uiConfig: { layout: 'BaseLayout' } });

  await registerSecurity(app, config);
  registerRateLimitStore(app, redis, config.redisKeyPrefix);
  // Counted by the users plugin's session hook, in the same store call as the per-user limit.
  const perIp: LimitSpec = {
    name: 'ip',
    max: config.rateLimits.globalPerMinute,
    windowMs: 60_000,
    // A route can opt out (`config.limits.perIp`): Stripe's webhook limits its unverified
    // requests itself (billing/routes.ts), and a verified event must never be refused.
    key: (request) => (routeCounts(request, 'perIp') ? request.ip : null),
    failOpen: true,
  };

  await app.register(healthRoutes);
  await app.register(csrfRoutes);
  await app.register(emailPlugin, { workers });
  await app.register(usersPlugin, { perIp });
  await app.register(organizationsPlugin);
  await app.register(billingPlugin);
  await app.register(aiPlugin);
  await app.register(privacyPlugin);
  await app.register(adminRoutes);
  await app.register(spaPlugin, {
    namespaces: routeNamespaces,
    ...(options.webRoot ? { root: options.webRoot } : {}),
  });
  return app;
}
