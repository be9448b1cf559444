import underPressure from '@fastify/under-pressure';
import { ErrorCode } from '@tierbase/contracts';
import type { FastifyInstance } from 'fastify';
import { sendError } from './envelope.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * false: answered however busy the process is. Liveness (a restart would not help) and metrics
     * scrapes (the overload is what they should show). Default: shed under pressure.
     */
    loadShedding?: boolean;
  }
}

/**
 * Load shedding (@fastify/under-pressure): while the sampled event-loop delay, heap or RSS is over
 * its limit (MAX_EVENT_LOOP_DELAY_MS, MAX_HEAP_USED_BYTES, MAX_RSS_BYTES; 0 turns one off), new
 * requests are answered at once with 503 SERVICE_UNAVAILABLE and Retry-After, before any session
 * lookup or database query, so an overloaded instance recovers instead of queueing more work.
 *
 * Readiness is shed too, on purpose: an overloaded instance is taken out of the load balancer until
 * it recovers. The Stripe webhook is shed like any route: Stripe retries a 503 delivery for days.
 */
export async function registerLoadShedding(app: FastifyInstance): Promise<void> {
  const { maxEventLoopDelayMs, maxHeapUsedBytes, maxRssBytes } = app.config.pressure;
  if (maxEventLoopDelayMs === 0 && maxHeapUsedBytes === 0 && maxRssBytes === 0) return;
  await app.register(underPressure, {
    maxEventLoopDelay: maxEventLoopDelayMs,
    maxHeapUsedBytes,
    maxRssBytes,
    // No log line per shed request: under overload that would add to the load; the request histogram counts the 503s.
    pressureHandler: (request, reply) => {
      if (request.routeOptions.config.loadShedding === false) return undefined;
      reply.header('Retry-After', '5');
      // Sent here: under-pressure then calls next(), and Fastify runs nothing more for a sent reply.
      sendError(reply, 503, ErrorCode.SERVICE_UNAVAILABLE, 'The server is busy. Try again shortly.');
      return undefined;
    },
  });
}
