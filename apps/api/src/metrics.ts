import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics (prom-client). Domain modules import the counters they feed
 * from here, so none of them needs Fastify; GET /metrics (http/metrics.ts) serializes the registry.
 *
 * Labels are bounded sets only: a route's pattern (never the raw URL, which carries ids and
 * tokens), an operation or queue name from the code, an outcome. Never a user, email or id.
 * One process holds one registry, so several apps in one process (tests) add to the same series.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });

export const httpRequestDuration = new Histogram({
  name: 'http_request_duration_seconds',
  help: 'Time to answer a request, by method, route pattern and status code.',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  registers: [registry],
});

export const webhookEvents = new Counter({
  name: 'stripe_webhook_events_total',
  help: 'Verified Stripe webhook deliveries by outcome (processed, duplicate, in_progress, ignored, failed).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const webhookLag = new Histogram({
  name: 'stripe_webhook_lag_seconds',
  help: "Delay between a Stripe event's creation and its receipt here (first and repeated deliveries).",
  buckets: [1, 5, 15, 60, 300, 900, 3600, 6 * 3600, 24 * 3600, 3 * 24 * 3600],
  registers: [registry],
});

export const stripeCallFailures = new Counter({
  name: 'stripe_call_failures_total',
  help: 'Stripe API calls that failed, by operation and Stripe error type.',
  labelNames: ['operation', 'type'] as const,
  registers: [registry],
});

export const outboxEmails = new Gauge({
  name: 'email_outbox_emails',
  help: 'Emails in the outbox still to send (queued) or given up on (failed), read at scrape time.',
  labelNames: ['status'] as const,
  registers: [registry],
});

export const jobFailures = new Counter({
  name: 'job_failures_total',
  help: 'Job attempts that threw, by queue; final="true" when no retry is left and the job failed for good.',
  labelNames: ['queue', 'final'] as const,
  registers: [registry],
});

export const aiTokens = new Counter({
  name: 'ai_tokens_total',
  help: 'AI tokens counted against users, by model and kind (prompt, completion).',
  labelNames: ['model', 'kind'] as const,
  registers: [registry],
});
