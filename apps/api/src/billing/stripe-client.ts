import { ErrorCode } from '@tierbase/contracts';
import Stripe from 'stripe';
import { AppError } from '../errors.ts';
import { stripeCallFailures } from '../metrics.ts';

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

const PROVIDER_UNREACHABLE =
  'The payment provider could not be reached. Nothing was changed; please try again.';
const PROVIDER_REFUSED = 'The payment provider refused the request. Nothing was changed.';

export type StripeLog = (details: Record<string, unknown>, message: string) => void;

export interface CallOptions {
  /**
   * Stripe parameters that carry the client's own input, by our field name: Stripe refusing one
   * of them (an unknown `starting_after`, say) is bad input, answered 400, not a provider failure.
   */
  input?: Record<string, string>;
  /**
   * The id of the object the call is about. Stripe answering `resource_missing` for it raises
   * {@link StripeObjectMissing}, so a caller can tell "Stripe no longer has this" from an outage.
   */
  object?: string;
}

/**
 * Stripe no longer knows the object (deleted, or from another account or mode). Still a 502 to a
 * user; the webhook handler acknowledges the event instead of having Stripe retry it for days.
 */
export class StripeObjectMissing extends AppError {
  constructor(
    readonly operation: string,
    readonly objectId: string,
  ) {
    super({ status: 502, code: ErrorCode.BILLING_PROVIDER_ERROR, message: PROVIDER_REFUSED });
    this.name = 'StripeObjectMissing';
  }
}

/**
 * Runs one Stripe call and turns its failure into an AppError: bad client input (see
 * {@link CallOptions.input}) is 400 VALIDATION_ERROR; anything else is 502 BILLING_PROVIDER_ERROR.
 * The message stays generic: Stripe's own text can name customers or amounts, and goes to the log.
 * How long a call may take is bounded by the client's timeout and retries (see config.ts).
 */
export async function callStripe<T>(
  operation: string,
  run: () => Promise<T>,
  log?: StripeLog,
  options: CallOptions = {},
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (!(error instanceof Stripe.errors.StripeError)) throw error;
    stripeCallFailures.inc({ operation, type: error.type });
    log?.(
      {
        operation,
        type: error.type,
        code: error.code,
        param: error.param,
        statusCode: error.statusCode,
        requestId: error.requestId,
      },
      'stripe call failed',
    );
    if (error instanceof Stripe.errors.StripeInvalidRequestError) {
      const field = error.param ? options.input?.[error.param] : undefined;
      if (field) {
        throw new AppError({
          status: 400,
          code: ErrorCode.VALIDATION_ERROR,
          message: 'Some fields are invalid.',
          details: {
            [field]: [error.code === 'resource_missing' ? 'No such item.' : 'This value is not accepted.'],
          },
        });
      }
      if (error.code === 'resource_missing' && options.object) {
        throw new StripeObjectMissing(operation, options.object);
      }
      throw new AppError({ status: 502, code: ErrorCode.BILLING_PROVIDER_ERROR, message: PROVIDER_REFUSED });
    }
    throw new AppError({
      status: 502,
      code: ErrorCode.BILLING_PROVIDER_ERROR,
      message: PROVIDER_UNREACHABLE,
    });
  }
}

export { Stripe };
