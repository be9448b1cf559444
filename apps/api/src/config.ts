import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The development-only secret: production refuses to start with it. */
export const DEV_SECRET = 'dev-only-secret-do-not-use-in-production-0000';

const csv = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean),
  );

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8000),
  HOST: z.string().min(1).default('127.0.0.1'),
  SHUTDOWN_DELAY_SECONDS: z.coerce.number().min(0).max(60).default(0),
  // What this process runs: requests and jobs (all), requests only (api) or jobs only (worker).
  PROCESS_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  APP_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATA_DIR: z.string().min(1).default('.data'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  DATABASE_POOL_MAX: positiveInt(10),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .optional(),
  REDIS_KEY_PREFIX: z.string().min(1).default('tierbase:'),
  SECRET_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
    .optional(),
  MAIL_FROM: z.string().min(3).default('Tierbase <no-reply@tierbase.local>'),
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_/, 'must be a Stripe secret key (sk_test_…, sk_live_…)')
    .optional(),
  STRIPE_WEBHOOK_SECRET: z.string().startsWith('whsec_', 'must start with whsec_').optional(),
  STRIPE_EMULATOR: z.stringbool().optional(),
  STRIPE_EMULATOR_PORT: z.coerce.number().int().min(0).max(65535).default(12111),
  STRIPE_API_BASE: z.url({ protocol: /^https?$/ }).optional(),
  // One Stripe attempt, and the attempts after it; together bounded by STRIPE_CALL_DEADLINE_MS.
  STRIPE_TIMEOUT_MS: positiveInt(4_000),
  STRIPE_MAX_NETWORK_RETRIES: z.coerce.number().int().min(0).max(10).default(1),
  PAST_DUE_GRACE_DAYS: z.coerce.number().int().min(0).max(60).default(7),
  // When the database is reconciled with Stripe (cron, UTC, or `off`), and how old an unprocessed
  // event must be to be replayed.
  RECONCILE_CRON: z
    .string()
    .trim()
    .regex(/^(off|\S+( \S+){4})$/, 'must be a cron expression of five fields, or off')
    .default('41 * * * *'),
  RECONCILE_EVENT_AGE_MINUTES: positiveInt(15),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  AI_MODEL: z.string().min(1).default('gpt-4o-mini'),
  // OAuth sign-in: a provider is offered only when both its client id and secret are set. The
  // endpoint variables point a provider at another server (the tests' local one); unset, the real one.
  OAUTH_GITHUB_CLIENT_ID: z.string().min(1).optional(),
  OAUTH_GITHUB_CLIENT_SECRET: z.string().min(1).optional(),
  OAUTH_GITHUB_URL: z.url({ protocol: /^https?$/ }).optional(),
  OAUTH_GITHUB_API_URL: z.url({ protocol: /^https?$/ }).optional(),
  OAUTH_GOOGLE_CLIENT_ID: z.string().min(1).optional(),
  OAUTH_GOOGLE_CLIENT_SECRET: z.string().min(1).optional(),
  OAUTH_GOOGLE_ISSUER_URL: z.url({ protocol: /^https?$/ }).optional(),
  // One provider attempt: until the response starts, and then between two streamed chunks.
  AI_TIMEOUT_MS: positiveInt(60_000),
  // Attempts after the first on a timeout, a connection error, 408/409/429 or 5xx.
  AI_MAX_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
  // First backoff delay, doubled per retry; a provider's Retry-After is honoured up to 8 times this.
  AI_RETRY_BASE_DELAY_MS: positiveInt(500),
  CORS_ORIGINS: csv,
  TRUSTED_PROXIES: csv,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: positiveInt(1024 * 1024),
  RATE_LIMIT_GLOBAL_PER_MINUTE: positiveInt(1000),
  RATE_LIMIT_USER_PER_MINUTE: positiveInt(100),
  // Login attempts per email from one IP, and per IP across all emails.
  RATE_LIMIT_LOGIN_PER_15_MINUTES: positiveInt(5),
  RATE_LIMIT_LOGIN_PER_IP_PER_15_MINUTES: positiveInt(50),
  RATE_LIMIT_WEBHOOK_PER_MINUTE: positiveInt(100),
  // How often an idle worker looks for new jobs (pg-boss's minimum is 0.5 s).
  JOB_POLL_INTERVAL_SECONDS: z.coerce.number().min(0.5).default(2),
  // The job queue's own PostgreSQL connections, apart from the request pool.
  JOB_POOL_MAX: positiveInt(3),
  // How long shutdown waits for jobs in flight before handing them back to be retried.
  JOB_STOP_TIMEOUT_SECONDS: positiveInt(15),
  // Mail delivery retries with exponential backoff: 30 s, 1 min, 2 min, … capped at 1 h (about 6 h in all).
  MAIL_RETRY_LIMIT: z.coerce.number().int().min(0).default(12),
  MAIL_RETRY_DELAY_SECONDS: positiveInt(30),
  MAIL_RETRY_DELAY_MAX_SECONDS: positiveInt(3600),
  // Bearer token for GET /metrics; without it /metrics is 404 in production (open in development).
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('tierbase-api'),
  SENTRY_DSN: z.url({ protocol: /^https?$/ }).optional(),
  // Load shedding (@fastify/under-pressure): 503 while a sampled value is over its limit; 0 turns a check off.
  MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().min(0).default(1000),
  MAX_HEAP_USED_BYTES: z.coerce.number().int().min(0).default(0),
  MAX_RSS_BYTES: z.coerce.number().int().min(0).default(0),
});

export type Env = z.input<typeof envSchema>;

/**
 * The longest one Stripe call may take, retries included: well under the server's 25 s shutdown
 * drain, so a hung Stripe never holds a request past it (and a user is not kept waiting longer).
 */
export const STRIPE_CALL_DEADLINE_MS = 10_000;

/**
 * The worst case of one call through the `stripe` SDK: every attempt runs to its timeout, with
 * the SDK's backoff between them (0.5 s doubling, at most 5 s). The SDK retries a closed
 * connection once even with retries off, so there are always at least two attempts.
 */
export function stripeCallWorstCaseMs(timeoutMs: number, maxNetworkRetries: number): number {
  const attempts = Math.max(maxNetworkRetries, 1) + 1;
  let backoffMs = 0;
  for (let retry = 1; retry < attempts; retry++) backoffMs += Math.min(500 * 2 ** (retry - 1), 5_000);
  return attempts * timeoutMs + backoffMs;
}

/**
 * The repository root (the npm workspace root), found from this module's own location, so
 * `npm start` (run from the root), `npm run cli` (run from apps/api) and a command started from any
 * other folder resolve DATA_DIR to the same place. Without one (a copied bundle), the current folder.
 */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      try {
        if ('workspaces' in JSON.parse(fs.readFileSync(manifest, 'utf8'))) return dir;
      } catch {
        // An unreadable package.json is not the root; keep looking.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * What only holds across variables (production needs, roles, Stripe's time budget), checked once
 * each variable is valid on its own. Each problem names its variables first, `NAME: why`.
 */
function combinationProblems(e: z.output<typeof envSchema>): string[] {
  const isProduction = e.NODE_ENV === 'production';
  const problems: string[] = [];
  if (isProduction) {
    if (!e.SECRET_KEY) problems.push('SECRET_KEY: required in production');
    else if (e.SECRET_KEY === DEV_SECRET)
      problems.push('SECRET_KEY: the development default is refused in production');
    if (!e.APP_URL) problems.push('APP_URL: required in production (the public https URL of the app)');
    if (e.STRIPE_SECRET_KEY && !e.STRIPE_WEBHOOK_SECRET) {
      problems.push('STRIPE_WEBHOOK_SECRET: required in production when STRIPE_SECRET_KEY is set');
    }
    if (!e.STRIPE_SECRET_KEY && e.STRIPE_EMULATOR !== true) {
      problems.push(
        'STRIPE_SECRET_KEY: required in production (or set STRIPE_EMULATOR=true to run billing against the local emulator, for a demo)',
      );
    }
  }
  if (e.PROCESS_ROLE !== 'all' && !e.DATABASE_URL) {
    // The embedded database serves one process, which must then run both requests and jobs.
    problems.push(
      `PROCESS_ROLE: ${e.PROCESS_ROLE} needs DATABASE_URL (the embedded database serves one process)`,
    );
  }
  const stripeWorstCase = stripeCallWorstCaseMs(e.STRIPE_TIMEOUT_MS, e.STRIPE_MAX_NETWORK_RETRIES);
  if (stripeWorstCase > STRIPE_CALL_DEADLINE_MS) {
    problems.push(
      `STRIPE_TIMEOUT_MS, STRIPE_MAX_NETWORK_RETRIES: one Stripe call could take ${stripeWorstCase} ms with its retries; keep it within ${STRIPE_CALL_DEADLINE_MS} ms`,
    );
  }
  for (const [name, id, secret] of [
    ['GITHUB', e.OAUTH_GITHUB_CLIENT_ID, e.OAUTH_GITHUB_CLIENT_SECRET],
    ['GOOGLE', e.OAUTH_GOOGLE_CLIENT_ID, e.OAUTH_GOOGLE_CLIENT_SECRET],
  ] as const) {
    if (Boolean(id) !== Boolean(secret)) {
      problems.push(`OAUTH_${name}_CLIENT_ID, OAUTH_${name}_CLIENT_SECRET: set both or neither`);
    }
  }
  return problems;
}

/**
 * The environment in, the server's settings out: `Config` is this schema's output type, so the
 * settings and their parsing cannot drift apart.
 */
const configSchema = envSchema.transform((e, context) => {
  // Here rather than in a refinement: a transform runs only once every variable is valid on its own.
  const problems = combinationProblems(e);
  if (problems.length > 0) {
    // Without a path: each message already starts with the variables it is about.
    for (const message of problems) context.addIssue({ code: 'custom', message, path: [] });
    return z.NEVER;
  }
  const isProduction = e.NODE_ENV === 'production';
  return {
    env: e.NODE_ENV,
    isProduction,
    port: e.PORT,
    host: e.HOST,
    /** On SIGTERM: serve this long with readiness at 503 before closing (load balancers catch up). */
    shutdownDelaySeconds: e.SHUTDOWN_DELAY_SECONDS,
    /**
     * `all`: serve requests and run the job workers. `api`: no job workers. `worker`: the workers,
     * with the HTTP port kept for health probes (no load balancer routes to it).
     */
    processRole: e.PROCESS_ROLE,
    appUrl: (e.APP_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ''),
    dataDir: path.resolve(projectRoot(), e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    databasePoolMax: e.DATABASE_POOL_MAX,
    redisUrl: e.REDIS_URL,
    /** Prefix of every key the app writes to Redis, so several deployments can share one server. */
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    secretKey: e.SECRET_KEY ?? DEV_SECRET,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM,
    stripe: {
      secretKey: e.STRIPE_SECRET_KEY,
      webhookSecret: e.STRIPE_WEBHOOK_SECRET,
      /** Without a secret key: run billing against the in-process emulator (never by default in production). */
      emulator: !e.STRIPE_SECRET_KEY && (e.STRIPE_EMULATOR ?? !isProduction),
      /** The emulator's port when it runs in process (any free one if taken). */
      emulatorPort: e.STRIPE_EMULATOR_PORT,
      /** Another Stripe-compatible API (the local emulator); unset means api.stripe.com. */
      apiBase: e.STRIPE_API_BASE,
      timeoutMs: e.STRIPE_TIMEOUT_MS,
      maxNetworkRetries: e.STRIPE_MAX_NETWORK_RETRIES,
    },
    billing: { pastDueGraceDays: e.PAST_DUE_GRACE_DAYS },
    /** billing/reconcile.ts: the schedule (cron, UTC; null: none) and the age past which an unprocessed event is replayed. */
    reconcile: {
      cron: e.RECONCILE_CRON === 'off' ? null : e.RECONCILE_CRON,
      eventAgeMinutes: e.RECONCILE_EVENT_AGE_MINUTES,
    },
    ai: {
      apiKey: e.OPENAI_API_KEY,
      baseUrl: e.OPENAI_BASE_URL,
      model: e.AI_MODEL,
      timeoutMs: e.AI_TIMEOUT_MS,
      maxRetries: e.AI_MAX_RETRIES,
      retryBaseDelayMs: e.AI_RETRY_BASE_DELAY_MS,
    },
    /** Sign-in providers that are configured (both id and secret set); absent ones are not offered. */
    oauth: {
      github:
        e.OAUTH_GITHUB_CLIENT_ID && e.OAUTH_GITHUB_CLIENT_SECRET
          ? {
              clientId: e.OAUTH_GITHUB_CLIENT_ID,
              clientSecret: e.OAUTH_GITHUB_CLIENT_SECRET,
              url: (e.OAUTH_GITHUB_URL ?? 'https://github.com').replace(/\/$/, ''),
              apiUrl: (e.OAUTH_GITHUB_API_URL ?? 'https://api.github.com').replace(/\/$/, ''),
            }
          : undefined,
      google:
        e.OAUTH_GOOGLE_CLIENT_ID && e.OAUTH_GOOGLE_CLIENT_SECRET
          ? {
              clientId: e.OAUTH_GOOGLE_CLIENT_ID,
              clientSecret: e.OAUTH_GOOGLE_CLIENT_SECRET,
              issuerUrl: (e.OAUTH_GOOGLE_ISSUER_URL ?? 'https://accounts.google.com').replace(/\/$/, ''),
            }
          : undefined,
    },
    corsOrigins: e.CORS_ORIGINS,
    trustedProxies: e.TRUSTED_PROXIES,
    logLevel: e.LOG_LEVEL,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    rateLimits: {
      globalPerMinute: e.RATE_LIMIT_GLOBAL_PER_MINUTE,
      userPerMinute: e.RATE_LIMIT_USER_PER_MINUTE,
      loginPer15Minutes: e.RATE_LIMIT_LOGIN_PER_15_MINUTES,
      loginPerIpPer15Minutes: e.RATE_LIMIT_LOGIN_PER_IP_PER_15_MINUTES,
      webhookPerMinute: e.RATE_LIMIT_WEBHOOK_PER_MINUTE,
    },
    jobs: {
      pollIntervalSeconds: e.JOB_POLL_INTERVAL_SECONDS,
      poolMax: e.JOB_POOL_MAX,
      stopTimeoutSeconds: e.JOB_STOP_TIMEOUT_SECONDS,
    },
    mailRetry: {
      limit: e.MAIL_RETRY_LIMIT,
      delaySeconds: e.MAIL_RETRY_DELAY_SECONDS,
      delayMaxSeconds: e.MAIL_RETRY_DELAY_MAX_SECONDS,
    },
    observability: {
      /** Bearer token that /metrics requires; unset: /metrics is open outside production, absent in it. */
      metricsToken: e.METRICS_TOKEN,
      /** OTLP/HTTP base URL; traces are exported only when set. */
      otlpEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT,
      serviceName: e.OTEL_SERVICE_NAME,
      /** Sentry-compatible DSN; unexpected 500s and fatal errors are reported only when set. */
      sentryDsn: e.SENTRY_DSN,
    },
    /** Load-shedding limits; 0 disables a check. */
    pressure: {
      maxEventLoopDelayMs: e.MAX_EVENT_LOOP_DELAY_MS,
      maxHeapUsedBytes: e.MAX_HEAP_USED_BYTES,
      maxRssBytes: e.MAX_RSS_BYTES,
    },
  };
});

export type Config = z.output<typeof configSchema>;

/**
 * Parses and validates every environment variable the server reads, once, at start. Problems are
 * reported by variable name only: values may be secrets and never appear in the message.
 */
export function loadConfig(source: Record<string, string | undefined> = process.env): Config {
  // An empty variable means "not set", as in most .env tooling.
  const env = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) =>
        issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
      ),
    );
  }
  return parsed.data;
}
