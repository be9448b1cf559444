/**
 * The public embedding API: `startEmulator()` starts a Stripe-compatible server that the official
 * `stripe` package talks to unchanged (only `host`, `port`, `protocol` differ).
 */
import type { AddressInfo } from 'node:net';
import { DEFAULT_RETRY_SCHEDULE } from './billing/dunning.ts';
import { BillingEngine } from './billing/engine.ts';
import { wallNow } from './clock.ts';
import { API_VERSION, Core } from './core.ts';
import { FaultInjector } from './faults.ts';
import { randomToken } from './ids.ts';
import { buildWebhookEndpoint } from './objects/webhook-endpoints.ts';
import { buildServer } from './server.ts';
import { Store } from './store.ts';
import { DEFAULT_WEBHOOK_RETRY_DELAYS_MS, WebhookDispatcher } from './webhooks.ts';

export { API_VERSION } from './core.ts';
export { signPayload } from './webhooks.ts';

export interface EmulatorOptions {
  port?: number; // 0 = free port (default 0 when embedded)
  host?: string; // default 127.0.0.1
  webhookUrl?: string; // an endpoint created at start, like STRIPE_WEBHOOK_URL
  webhookSecret?: string; // whsec_...; generated when absent
  stateFile?: string; // JSON persistence; loaded at start, saved on change (debounced) and at stop
  apiKey?: string; // if set, Bearer must equal it; otherwise any sk_test_… is accepted
  retrySchedule?: number[]; // smart-retry offsets in seconds for failed renewals (default: Stripe-like 8 tries within 2 weeks)
  finalAction?: 'cancel' | 'unpaid' | 'past_due'; // after retries are exhausted (default 'cancel')
  webhookRetryDelaysMs?: number[]; // backoff for failed webhook deliveries (defaults like Stripe's, tests pass short ones)
  autoTestClock?: boolean; // default true: a customer created without test_clock gets its own test clock
  log?: (line: string) => void;
  /** How long a webhook endpoint has to answer before the attempt counts as failed (default 10 s). */
  webhookTimeoutMs?: number;
  /** Base URL put in hosted page links (`url`, `hosted_invoice_url`), when it differs from http://host:port. */
  publicUrl?: string;
}

export interface RunningEmulator {
  url: string; // http://127.0.0.1:PORT
  port: number;
  host: string;
  protocol: 'http'; // for new Stripe(key, { host, port, protocol })
  webhookSecret: string;
  reset(): Promise<void>; // drop all state
  stop(): Promise<void>;
  faults: {
    failNext(
      n: number,
      kind: '500' | '429' | 'drop' | 'slow',
      opts?: { delayMs?: number; pathPrefix?: string },
    ): void;
    clear(): void;
  };
  webhooks: {
    setDuplicates(n: number): void;
    setShuffleWindow(ms: number): void;
    setDelay(ms: number): void;
    flush(): Promise<void>; // resolves when every pending delivery attempt has finished
  };
}

/** Loaded state may name an earlier port: point hosted-page links at this server. */
function rebaseHostedUrls(store: Store, baseUrl: string): void {
  const rebase = (link: string | null | undefined) => link?.replace(/^https?:\/\/[^/]+/, baseUrl) ?? null;
  for (const inv of Object.values(store.state.invoices)) {
    if (inv.hosted_invoice_url) inv.hosted_invoice_url = rebase(inv.hosted_invoice_url);
    if (inv.invoice_pdf) inv.invoice_pdf = rebase(inv.invoice_pdf);
  }
  for (const session of Object.values(store.state.checkoutSessions))
    if (session.url) session.url = rebase(session.url);
  for (const session of Object.values(store.state.portalSessions))
    session.url = rebase(session.url) ?? session.url;
}

/** How often customers on the wall clock (no test clock) are checked for due renewals and retries. */
const WALL_CLOCK_TICK_MS = 1000;

export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const log = opts.log ?? (() => {});
  const store = new Store(opts.stateFile);
  const webhookSecret =
    opts.webhookSecret ?? store.state.internal.webhookSecret ?? `whsec_${randomToken(32)}`;
  store.state.internal.webhookSecret = webhookSecret;
  const core = new Core(store, {
    retrySchedule: opts.retrySchedule ?? DEFAULT_RETRY_SCHEDULE,
    finalAction: opts.finalAction ?? 'cancel',
    autoTestClock: opts.autoTestClock ?? true,
    apiKey: opts.apiKey,
    webhookSecret,
    log,
  });
  const engine = new BillingEngine(core);
  const webhooks = new WebhookDispatcher(
    core,
    opts.webhookRetryDelaysMs ?? DEFAULT_WEBHOOK_RETRY_DELAYS_MS,
    opts.webhookTimeoutMs,
  );
  const faults = new FaultInjector();

  /** The endpoint from STRIPE_WEBHOOK_URL / `webhookUrl`: created at start and again after a reset. */
  const ensureConfiguredEndpoint = () => {
    if (!opts.webhookUrl) return;
    const existing = Object.values(store.state.webhookEndpoints).find((e) => e.url === opts.webhookUrl);
    if (existing) {
      existing.secret = webhookSecret;
      existing.status = 'enabled';
      return;
    }
    const endpoint = buildWebhookEndpoint(opts.webhookUrl, webhookSecret, ['*'], wallNow(), API_VERSION);
    endpoint.description = 'Configured at start (STRIPE_WEBHOOK_URL)';
    store.state.webhookEndpoints[endpoint.id] = endpoint;
    store.changed();
  };
  ensureConfiguredEndpoint();

  const reset = async () => {
    webhooks.cancelAll();
    faults.clear();
    store.reset();
    store.state.internal.webhookSecret = webhookSecret;
    ensureConfiguredEndpoint();
    await store.save();
  };

  const app = buildServer({ core, engine, webhooks, faults, reset });
  const host = opts.host ?? '127.0.0.1';
  await app.listen({ port: opts.port ?? 0, host });
  const port = (app.server.address() as AddressInfo).port;
  const linkHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `http://${linkHost}:${port}`;
  core.baseUrl = (opts.publicUrl ?? url).replace(/\/$/, '');
  rebaseHostedUrls(store, core.baseUrl);
  webhooks.resumePending();

  const tick = setInterval(() => {
    try {
      engine.catchUp();
    } catch (err) {
      log(`billing tick failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }, WALL_CLOCK_TICK_MS);
  tick.unref();

  let stopped: Promise<void> | null = null;
  const stop = () => {
    stopped ??= (async () => {
      clearInterval(tick);
      await webhooks.stop();
      await app.close();
      await store.save();
    })();
    return stopped;
  };

  return {
    url,
    port,
    host: linkHost,
    protocol: 'http',
    webhookSecret,
    reset,
    stop,
    faults: {
      failNext: (n, kind, faultOpts) => faults.failNext(n, kind, faultOpts),
      clear: () => faults.clear(),
    },
    webhooks: {
      setDuplicates: (n) => webhooks.setDuplicates(n),
      setShuffleWindow: (ms) => webhooks.setShuffleWindow(ms),
      setDelay: (ms) => webhooks.setDelay(ms),
      flush: () => webhooks.flush(),
    },
  };
}
