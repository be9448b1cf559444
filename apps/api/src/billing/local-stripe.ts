import path from 'node:path';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { syncPlans } from './catalog.ts';
import { stripeFromConfig } from './service.ts';

/** The key the app uses against the local emulator; it accepts any sk_test_ key. */
const EMULATOR_KEY = 'sk_test_tierbase_local';

const EMULATOR_PACKAGE = '@tierbase/stripe-emulator';

export type EmulatorModule = typeof import('@tierbase/stripe-emulator');

/**
 * Local billing was asked for (no STRIPE_SECRET_KEY, or STRIPE_EMULATOR=true) but the emulator
 * package cannot be loaded: it is a development dependency, absent from a production install.
 */
export class EmulatorMissingError extends Error {
  constructor(reason: string) {
    super(
      `Billing is set to run against the local Stripe emulator (no STRIPE_SECRET_KEY set, or STRIPE_EMULATOR=true), ` +
        `but ${EMULATOR_PACKAGE} cannot be loaded (${reason}). It is a development dependency: a production ` +
        `install (npm ci --omit=dev, the Docker image) does not include it. Set STRIPE_SECRET_KEY and ` +
        `STRIPE_WEBHOOK_SECRET to bill through Stripe, or install the development dependencies and run npm run build.`,
    );
    this.name = 'EmulatorMissingError';
  }
}

export interface LocalStripe {
  url: string;
  /** The config with billing pointed at the emulator. */
  config: Config;
  stop(): Promise<void>;
}

/**
 * With no STRIPE_SECRET_KEY, `npm start` runs billing against the local Stripe emulator: started
 * in this process, its state kept in DATA_DIR so subscriptions survive restarts, and its webhooks
 * signed and sent to this server as Stripe's would be. The app's code path is the same as against
 * Stripe; only the SDK's host differs.
 */
export async function startLocalStripe(config: Config, emulatorModule: EmulatorModule): Promise<LocalStripe> {
  const { startEmulator } = emulatorModule;
  // The app's own listening address over plain HTTP, never APP_URL: delivery stays on this machine.
  const appOrigin = `http://${internalHost(config.host)}:${config.port}`;
  const options = {
    host: '127.0.0.1',
    stateFile: path.join(config.dataDir, 'stripe-emulator.json'),
    webhookUrl: `${appOrigin}/api/stripe/webhook/`,
    ...(config.stripe.webhookSecret ? { webhookSecret: config.stripe.webhookSecret } : {}),
  };
  const port = config.stripe.emulatorPort;
  // The usual port, or any free one when something else holds it.
  const emulator = await startEmulator({ ...options, port }).catch(() =>
    startEmulator({ ...options, port: 0 }),
  );
  return {
    url: emulator.url,
    config: {
      ...config,
      stripe: {
        ...config.stripe,
        secretKey: EMULATOR_KEY,
        webhookSecret: emulator.webhookSecret,
        apiBase: emulator.url,
      },
    },
    stop: () => emulator.stop(),
  };
}

/**
 * Imports the emulator package. Only local billing calls this, so a server with a real key never
 * loads it, and the production bundle leaves it out (apps/api/build.mjs marks it external).
 */
export async function loadEmulator(): Promise<EmulatorModule> {
  try {
    return await import('@tierbase/stripe-emulator');
  } catch (error) {
    // The package itself is missing, or its build output (a checkout that was never built); any
    // other failure, a missing dependency of the emulator included, is passed on as it is.
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : '';
    if (code === 'ERR_MODULE_NOT_FOUND') {
      if (message.startsWith(`Cannot find package '${EMULATOR_PACKAGE}'`)) {
        throw new EmulatorMissingError('not installed');
      }
      if (/^Cannot find module '[^']*stripe-emulator[/\\]dist[/\\]/.test(message)) {
        throw new EmulatorMissingError('not built');
      }
    }
    throw error;
  }
}

/** An address that reaches a server listening on `host` from this machine. */
function internalHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === 'localhost') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** Makes the emulator's catalogue match billing/plans.ts, as `stripe:sync-plans` does for Stripe. */
export async function syncLocalPlans(config: Config, db: Database): Promise<void> {
  const stripe = stripeFromConfig(config);
  if (stripe) await syncPlans(stripe, db);
}
