import type Stripe from 'stripe';
import { type ApiRoutes, type Deps, mustGet, newestFirst, paginate } from '../api.ts';
import { invalidRequest } from '../errors.ts';
import { int, mergeMetadata, str } from '../form.ts';
import { newId } from '../ids.ts';

const REASONS: ReadonlySet<string> = new Set(['duplicate', 'fraudulent', 'requested_by_customer']);

/** What is left to refund of a PaymentIntent: what it received less what was refunded. */
function refundable(deps: Deps, intent: Stripe.PaymentIntent): number {
  const refunded = Object.values(deps.core.state.refunds)
    .filter((refund) => refund.payment_intent === intent.id && refund.status !== 'failed')
    .reduce((sum, refund) => sum + refund.amount, 0);
  return intent.amount_received - refunded;
}

/**
 * Refunds of a PaymentIntent's payment (cards only, so they succeed at once). There are no
 * Charge objects here, so `charge` is null and a refund is created with `payment_intent`.
 */
export function registerRefunds(routes: ApiRoutes, deps: Deps): void {
  const { core } = deps;

  routes.post('/v1/refunds', ({ params }) => {
    const intentId = str(params, 'payment_intent');
    if (str(params, 'charge') !== undefined) {
      throw invalidRequest('The emulator refunds by `payment_intent` only (it has no Charges).', 'charge');
    }
    if (!intentId) {
      throw invalidRequest(
        'One of the following params should be provided for this request: payment_intent or charge.',
      );
    }
    const intent = mustGet(core.state.paymentIntents, intentId, 'payment_intent', 'payment_intent');
    if (intent.status !== 'succeeded') {
      throw invalidRequest(
        `This PaymentIntent (${intent.id}) does not have a successful charge to refund.`,
        'payment_intent',
        'charge_not_refundable',
      );
    }
    const left = refundable(deps, intent);
    if (left <= 0) {
      throw invalidRequest(
        `Charge for PaymentIntent ${intent.id} has already been refunded.`,
        undefined,
        'charge_already_refunded',
      );
    }
    const amount = int(params, 'amount') ?? left;
    if (amount < 1) throw invalidRequest('Invalid positive integer', 'amount');
    if (amount > left) {
      throw invalidRequest(
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`,
        'amount',
        'amount_too_large',
      );
    }
    const reason = str(params, 'reason');
    if (reason !== undefined && !REASONS.has(reason)) {
      throw invalidRequest(
        `Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer`,
        'reason',
      );
    }
    const customerId = typeof intent.customer === 'string' ? intent.customer : (intent.customer?.id ?? null);
    const refund: Stripe.Refund = {
      id: newId('re'),
      object: 'refund',
      amount,
      balance_transaction: null,
      charge: null,
      created: core.now(customerId),
      currency: intent.currency,
      customer: customerId,
      customer_account: null,
      metadata: mergeMetadata({}, params),
      payment_intent: intent.id,
      payment_method: typeof intent.payment_method === 'string' ? intent.payment_method : null,
      reason: (reason as Stripe.Refund.Reason | undefined) ?? null,
      receipt_number: null,
      source_transfer_reversal: null,
      status: 'succeeded',
      transfer_reversal: null,
    };
    core.state.refunds[refund.id] = refund;
    core.emit('refund.created', refund, refund.created);
    core.store.changed();
    return refund;
  });

  routes.get('/v1/refunds/:id', ({ path }) => mustGet(core.state.refunds, path.id, 'refund'));

  routes.get('/v1/refunds', ({ params }) => {
    const intent = str(params, 'payment_intent');
    const all = newestFirst(core.state.refunds).filter(
      (refund) => intent === undefined || refund.payment_intent === intent,
    );
    return paginate(all, params, '/v1/refunds');
  });
}
