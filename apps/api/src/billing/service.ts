import { ErrorCode } from '@tierbase/contracts';
import type Stripe from 'stripe';
import type { Config } from '../config.ts';
import type { DatabaseHandle } from '../db/client.ts';
import type { Mailer } from '../email/mailer.ts';
import { AppError } from '../errors.ts';
import { createCustomerLock } from './customer-lock.ts';
import { createStripeClient } from './stripe-client.ts';
import type { WebhookDeps } from './webhooks.ts';

/** Everything the billing room needs, built once per app from the config. */
export interface BillingContext extends WebhookDeps {
  graceDays: number;
}

type Log = (details: Record<string, unknown>, message: string) => void;

export function stripeFromConfig(config: Config): Stripe | undefined {
  const { secretKey, apiBase, timeoutMs, maxNetworkRetries } = config.stripe;
  if (!secretKey) return undefined;
  if (!apiBase) return createStripeClient({ secretKey, timeoutMs, maxNetworkRetries });
  const url = new URL(apiBase);
  return createStripeClient({
    secretKey,
    timeoutMs,
    maxNetworkRetries,
    host: url.hostname,
    port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
  });
}

export function createBillingContext(
  config: Config,
  database: DatabaseHandle,
  mailer: Mailer,
  log: Log,
): BillingContext | undefined {
  const stripe = stripeFromConfig(config);
  if (!stripe || !config.stripe.webhookSecret) return undefined;
  return {
    db: database.db,
    stripe,
    lock: createCustomerLock(database),
    mailer,
    appUrl: config.appUrl,
    webhookSecret: config.stripe.webhookSecret,
    graceDays: config.billing.pastDueGraceDays,
    log,
  };
}

/** Billing endpoints answer this while no Stripe (real or emulated) is configured. */
export function billingNotConfigured(): AppError {
  return new AppError({
    status: 503,
    code: ErrorCode.SERVICE_UNAVAILABLE,
    message:
      'Billing is not configured: set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (or start without them to use the emulator).',
  });
}
