import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEV_SECRET, loadConfig } from '../src/config.ts';

const PRODUCTION_SECRET = 'prod-secret-value-that-is-long-enough-1234567890';

/** The ConfigError thrown for `env`, or a failure when none is. */
function problemsOf(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to refuse this configuration');
}

const production = {
  NODE_ENV: 'production',
  SECRET_KEY: PRODUCTION_SECRET,
  APP_URL: 'https://app.example.com',
  STRIPE_EMULATOR: 'true',
};

describe('loadConfig', () => {
  it('starts with no variables at all, on development defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      env: 'development',
      isProduction: false,
      port: 8000,
      host: '127.0.0.1',
      appUrl: 'http://localhost:8000',
      // The repository root's .data, from any current folder (npm run cli runs in apps/api).
      dataDir: path.resolve(import.meta.dirname, '../../../.data'),
      databaseUrl: undefined,
      databasePoolMax: 10,
      redisUrl: undefined,
      redisKeyPrefix: 'tierbase:',
      secretKey: DEV_SECRET,
      smtpUrl: undefined,
      corsOrigins: [],
      trustedProxies: [],
      logLevel: 'info',
      bodyLimitBytes: 1024 * 1024,
      rateLimits: {
        globalPerMinute: 1000,
        userPerMinute: 100,
        loginPer15Minutes: 5,
        loginPerIpPer15Minutes: 50,
        webhookPerMinute: 100,
      },
      stripe: { secretKey: undefined, webhookSecret: undefined, apiBase: undefined },
      billing: { pastDueGraceDays: 7 },
      ai: { apiKey: undefined, baseUrl: undefined, model: 'gpt-4o-mini' },
      jobs: { pollIntervalSeconds: 2, poolMax: 3, stopTimeoutSeconds: 15 },
      mailRetry: { limit: 12, delaySeconds: 30, delayMaxSeconds: 3600 },
    });
  });

  it('reads each variable it knows', () => {
    const config = loadConfig({
      PORT: '9001',
      HOST: '0.0.0.0',
      APP_URL: 'https://app.example.com/',
      DATA_DIR: '/var/lib/tierbase',
      DATABASE_URL: 'postgresql://app@db:5432/app',
      DATABASE_POOL_MAX: '25',
      REDIS_URL: 'rediss://cache:6380',
      CORS_ORIGINS: 'http://localhost:3000, https://a.example.com ,',
      TRUSTED_PROXIES: '10.0.0.0/8',
      RATE_LIMIT_LOGIN_PER_15_MINUTES: '50',
    });
    expect(config.port).toBe(9001);
    expect(config.host).toBe('0.0.0.0');
    expect(config.appUrl).toBe('https://app.example.com');
    expect(config.dataDir).toBe('/var/lib/tierbase');
    expect(config.databaseUrl).toBe('postgresql://app@db:5432/app');
    expect(config.databasePoolMax).toBe(25);
    expect(config.redisUrl).toBe('rediss://cache:6380');
    expect(config.corsOrigins).toEqual(['http://localhost:3000', 'https://a.example.com']);
    expect(config.trustedProxies).toEqual(['10.0.0.0/8']);
    expect(config.rateLimits.loginPer15Minutes).toBe(50);
  });

  it('reads the observability and load-shedding variables, all off or defaulted when unset', () => {
    expect(loadConfig({})).toMatchObject({
      observability: {
        metricsToken: undefined,
        otlpEndpoint: undefined,
        serviceName: 'tierbase-api',
        sentryDsn: undefined,
      },
      pressure: { maxEventLoopDelayMs: 1000, maxHeapUsedBytes: 0, maxRssBytes: 0 },
    });
    const config = loadConfig({
      METRICS_TOKEN: 'a-metrics-token-of-some-length',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_SERVICE_NAME: 'api-eu',
      SENTRY_DSN: 'https://key@errors.example.com/7',
      MAX_EVENT_LOOP_DELAY_MS: '250',
      MAX_HEAP_USED_BYTES: '1000000000',
      MAX_RSS_BYTES: '2000000000',
    });
    expect(config.observability).toEqual({
      metricsToken: 'a-metrics-token-of-some-length',
      otlpEndpoint: 'http://collector:4318',
      serviceName: 'api-eu',
      sentryDsn: 'https://key@errors.example.com/7',
    });
    expect(config.pressure).toEqual({
      maxEventLoopDelayMs: 250,
      maxHeapUsedBytes: 1_000_000_000,
      maxRssBytes: 2_000_000_000,
    });
  });

  it('treats an empty variable as unset', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '', REDIS_URL: '', SECRET_KEY: '', LOG_LEVEL: '' });
    expect(config.port).toBe(8000);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.secretKey).toBe(DEV_SECRET);
    expect(config.logLevel).toBe('info');
    // In production an empty SECRET_KEY is a missing one, not a valid empty secret.
    expect(problemsOf({ ...production, SECRET_KEY: '' }).problems).toEqual([
      'SECRET_KEY: required in production',
    ]);
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PORT', '80.5'],
    ['NODE_ENV', 'staging'],
    ['APP_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://root:hunter2@db/app'],
    ['DATABASE_POOL_MAX', '0'],
    ['REDIS_URL', 'http://cache:6379'],
    ['SECRET_KEY', 'short-secret-hunter2'],
    ['SMTP_URL', 'mail.example.com:587'],
    ['STRIPE_SECRET_KEY', 'pk_test_publishable-not-secret-hunter2'],
    ['STRIPE_WEBHOOK_SECRET', 'hunter2-webhook-secret'],
    ['STRIPE_API_BASE', 'not a url'],
    ['STRIPE_TIMEOUT_MS', '0'],
    ['STRIPE_MAX_NETWORK_RETRIES', '11'],
    ['PAST_DUE_GRACE_DAYS', '61'],
    ['OPENAI_BASE_URL', 'not a url'],
    ['LOG_LEVEL', 'verbose'],
    ['BODY_LIMIT_BYTES', '-1'],
    ['RATE_LIMIT_GLOBAL_PER_MINUTE', 'lots'],
    ['RATE_LIMIT_USER_PER_MINUTE', '0'],
    ['RATE_LIMIT_LOGIN_PER_15_MINUTES', '2.5'],
    ['RATE_LIMIT_WEBHOOK_PER_MINUTE', 'x'],
    ['JOB_POLL_INTERVAL_SECONDS', '0.1'],
    ['JOB_POOL_MAX', '0'],
    ['JOB_STOP_TIMEOUT_SECONDS', 'soon'],
    ['MAIL_RETRY_LIMIT', '-1'],
    ['MAIL_RETRY_DELAY_SECONDS', '0'],
    ['MAIL_RETRY_DELAY_MAX_SECONDS', 'an hour'],
    ['METRICS_TOKEN', 'hunter2-short'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
    ['SENTRY_DSN', 'not a dsn hunter2'],
    ['MAX_EVENT_LOOP_DELAY_MS', '-1'],
    ['MAX_HEAP_USED_BYTES', 'a lot'],
    ['MAX_RSS_BYTES', '1.5'],
  ])('refuses %s=%s, naming the variable and never a secret value', (name, value) => {
    const error = problemsOf({ [name]: value });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(new RegExp(`^${name}: `));
    expect(error.message).toContain(name);
    expect(error.message).not.toContain('hunter2');
  });

  it('offers an OAuth provider only with both its client id and secret, on the real endpoints by default', () => {
    expect(loadConfig({}).oauth).toEqual({ github: undefined, google: undefined });
    const config = loadConfig({ OAUTH_GOOGLE_CLIENT_ID: 'id', OAUTH_GOOGLE_CLIENT_SECRET: 'hunter2' });
    expect(config.oauth.github).toBeUndefined();
    expect(config.oauth.google).toEqual({
      clientId: 'id',
      clientSecret: 'hunter2',
      issuerUrl: 'https://accounts.google.com',
    });
    const error = problemsOf({ OAUTH_GITHUB_CLIENT_SECRET: 'hunter2' });
    expect(error.problems).toEqual([
      'OAUTH_GITHUB_CLIENT_ID, OAUTH_GITHUB_CLIENT_SECRET: set both or neither',
    ]);
    expect(error.message).not.toContain('hunter2');
  });

  it('reports every bad variable at once', () => {
    const error = problemsOf({ PORT: 'abc', REDIS_URL: 'nope', LOG_LEVEL: 'loud' });
    expect(error.problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
      'LOG_LEVEL',
      'PORT',
      'REDIS_URL',
    ]);
  });

  describe('in production', () => {
    it('starts with a real secret and a public URL', () => {
      const config = loadConfig(production);
      expect(config.isProduction).toBe(true);
      expect(config.secretKey).toBe(PRODUCTION_SECRET);
      expect(config.appUrl).toBe('https://app.example.com');
    });

    it('refuses a missing SECRET_KEY', () => {
      const error = problemsOf({ ...production, SECRET_KEY: undefined });
      expect(error.problems).toEqual(['SECRET_KEY: required in production']);
    });

    it('refuses the development SECRET_KEY without printing it', () => {
      const error = problemsOf({ ...production, SECRET_KEY: DEV_SECRET });
      expect(error.problems).toEqual(['SECRET_KEY: the development default is refused in production']);
      expect(error.message).not.toContain(DEV_SECRET);
    });

    it('refuses a missing APP_URL', () => {
      const error = problemsOf({ ...production, APP_URL: undefined });
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toMatch(/^APP_URL: required in production/);
    });

    it('refuses a Stripe key without a webhook secret', () => {
      const key = 'sk_live_hunter2hunter2hunter2';
      const error = problemsOf({ ...production, STRIPE_SECRET_KEY: key });
      expect(error.problems).toEqual([
        'STRIPE_WEBHOOK_SECRET: required in production when STRIPE_SECRET_KEY is set',
      ]);
      expect(error.message).not.toContain(key);
      expect(
        loadConfig({ ...production, STRIPE_SECRET_KEY: key, STRIPE_WEBHOOK_SECRET: 'whsec_x' }).stripe,
      ).toMatchObject({ secretKey: key, webhookSecret: 'whsec_x' });
    });

    it('lists every production problem together', () => {
      const error = problemsOf({ NODE_ENV: 'production' });
      expect(error.problems.map((problem) => problem.split(':')[0]).sort()).toEqual([
        'APP_URL',
        'SECRET_KEY',
        'STRIPE_SECRET_KEY',
      ]);
    });

    it('never runs the Stripe emulator in production unless asked to', () => {
      const error = problemsOf({ ...production, STRIPE_EMULATOR: undefined });
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toMatch(/^STRIPE_SECRET_KEY: required in production/);
      expect(loadConfig(production).stripe.emulator).toBe(true);
      expect(loadConfig({}).stripe.emulator).toBe(true);
      expect(loadConfig({ STRIPE_SECRET_KEY: 'sk_test_x' }).stripe.emulator).toBe(false);
    });
  });
});

describe('.env.example', () => {
  it('documents every variable the config reads', () => {
    const source = fs.readFileSync(new URL('../src/config.ts', import.meta.url), 'utf8');
    const schema = source.slice(source.indexOf('const envSchema = z.object({'));
    const variables = [...schema.slice(0, schema.indexOf('\n});')).matchAll(/^ {2}([A-Z][A-Z0-9_]*):/gm)].map(
      (match) => match[1],
    );
    expect(variables.length).toBeGreaterThan(20);
    const example = fs.readFileSync(new URL('../../../.env.example', import.meta.url), 'utf8');
    const documented = new Set([...example.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]));
    expect(variables.filter((name) => !documented.has(name))).toEqual([]);
    // Nothing documented that the config no longer reads.
    expect([...documented].filter((name) => !variables.includes(name))).toEqual([]);
  });
});
