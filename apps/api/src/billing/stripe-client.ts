import { ErrorCode } from '@tierbase/contracts';
import Stripe from 'stripe';
import { AppError } from '../errors.ts';

/** The API version this code is written against; the SDK's types describe exactly this one. */
export const STRIPE_API_VERSION: Stripe.LatestApiVersion = '2026-10-28.endive';

export interface StripeEndpoint {
  secretKey: string;
  timeoutMs: number;
  maxNetworkRetries: number;
  /** Set for the local emulator; unset means api.stripe.com. */
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
}

/**
 * The one Stripe client. Against the emulator only host, port and protocol differ; every call
 * path is the same as against Stripe. Timeouts are short because a user is waiting; the SDK
 * retries network failures and 409/5xx answers with the idempotency key it sends on every POST.
 */
export function createStripeClient(endpoint: StripeEndpoint): Stripe {
  return new Stripe(endpoint.secretKey, {
    apiVersion: STRIPE_API_VERSION,
    timeout: endpoint.timeoutMs,
    maxNetworkRetries: endpoint.maxNetworkRetries,
    telemetry: false,
    appInfo: { name: 'Tierbase' },
    ...(endpoint.host ? { host: endpoint.host } : {}),
    ...(endpoint.port ? { port: endpoint.port } : {}),
    ...(endpoint.protocol ? { protocol: endpoint.protocol } : {}),
  });
}

/**
 * Runs one Stripe call, turning any failure into 502 BILLING_PROVIDER_ERROR. The message stays
 * generic: Stripe's own text can name customers or amounts, and goes to the log instead.
 */
export async function callStripe<T>(
  operation: string,
  run: () => Promise<T>,
  log?: (details: Record<string, unknown>, message: string) => void,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Stripe.errors.StripeError) {
      log?.(
        {
          operation,
          type: error.type,
          code: error.code,
          statusCode: error.statusCode,
          requestId: error.requestId,
        },
        'stripe call failed',
      );
      throw new AppError(
        502,
        ErrorCode.BILLING_PROVIDER_ERROR,
        'The payment provider could not be reached. Nothing was changed; please try again.',
      );
    }
    throw error;
  }
}

export { Stripe };
