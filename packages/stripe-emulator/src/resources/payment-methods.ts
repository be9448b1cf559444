import type Stripe from 'stripe';
import { type ApiRoutes, type Deps, mustGet, newestFirst, paginate } from '../api.ts';
import { cardForNumber, luhnValid, normaliseCardNumber, TEST_PAYMENT_METHOD_TOKENS } from '../cards.ts';
import { wallNow } from '../clock.ts';
import { cardError, invalidRequest, missingParam, noSuch } from '../errors.ts';
import { int, mergeMetadata, obj, type Params, str } from '../form.ts';
import { buildCardPaymentMethod } from '../objects/payment-methods.ts';

/** Test tokens Stripe accepts as `card[token]`. */
const CARD_TOKENS: Record<string, string> = {
  tok_visa: '4242424242424242',
  tok_mastercard: '5555555555554444',
  tok_chargeCustomerFail: '4000000000000341',
  tok_visa_chargeDeclinedInsufficientFunds: '4000000000009995',
  tok_authenticationRequired: '4000002500003155',
};

export function paymentMethodFromCard(
  deps: Deps,
  input: { number: string; expMonth?: number; expYear?: number },
  created: number,
  billing: { email?: string | null; name?: string | null } = {},
): Stripe.PaymentMethod {
  const number = normaliseCardNumber(input.number);
  if (!luhnValid(number))
    throw cardError('Your card number is incorrect.', 'incorrect_number', 'incorrect_number');
  const card = cardForNumber(number);
  const pm = buildCardPaymentMethod(
    { number, brand: card.brand, expMonth: input.expMonth, expYear: input.expYear },
    created,
    billing,
  );
  deps.core.state.paymentMethods[pm.id] = pm;
  deps.core.store.changed();
  return pm;
}

/** An existing payment method, or a new one for a `pm_card_*` test token. */
export function resolvePaymentMethod(
  deps: Deps,
  idOrToken: string,
  created: number,
  param = 'payment_method',
): Stripe.PaymentMethod {
  const existing = deps.core.state.paymentMethods[idOrToken];
  if (existing) return existing;
  const number = TEST_PAYMENT_METHOD_TOKENS[idOrToken];
  if (number) return paymentMethodFromCard(deps, { number }, created);
  throw noSuch('PaymentMethod', idOrToken, param);
}

export function attachPaymentMethod(deps: Deps, pm: Stripe.PaymentMethod, customer: Stripe.Customer): void {
  if (pm.customer === customer.id) return;
  if (pm.customer) {
    throw invalidRequest(
      'The payment method you provided has already been attached to a customer.',
      'payment_method',
      'payment_method_unexpected_state',
    );
  }
  pm.customer = customer.id;
  deps.core.emit('payment_method.attached', pm, deps.core.now(customer.id));
  deps.core.store.changed();
}

export function registerPaymentMethods(routes: ApiRoutes, deps: Deps): void {
  const { core } = deps;

  routes.post('/v1/payment_methods', ({ params }) => {
    const type = str(params, 'type');
    if (type !== 'card')
      throw invalidRequest('Only card payment methods are supported by the emulator.', 'type');
    const card = obj(params, 'card');
    if (!card) throw missingParam('card');
    const token = str(card, 'token');
    const number = token ? CARD_TOKENS[token] : str(card, 'number');
    if (!number) throw token ? noSuch('token', token, 'card[token]') : missingParam('card[number]');
    const billing = obj(params, 'billing_details') ?? {};
    const pm = paymentMethodFromCard(
      deps,
      { number, expMonth: int(card, 'exp_month'), expYear: int(card, 'exp_year') },
      wallNow(),
      { email: str(billing, 'email') ?? null, name: str(billing, 'name') ?? null },
    );
    pm.metadata = mergeMetadata({}, params);
    return pm;
  });

  routes.get('/v1/payment_methods/:id', ({ path }) =>
    mustGet(core.state.paymentMethods, path.id, 'PaymentMethod'),
  );

  routes.post('/v1/payment_methods/:id', ({ path, params }) => {
    const pm = mustGet(core.state.paymentMethods, path.id, 'PaymentMethod');
    const before = structuredClone(pm);
    pm.metadata = mergeMetadata(pm.metadata ?? {}, params);
    const billing = obj(params, 'billing_details');
    if (billing) {
      pm.billing_details.email = str(billing, 'email') ?? pm.billing_details.email;
      pm.billing_details.name = str(billing, 'name') ?? pm.billing_details.name;
    }
    core.emit('payment_method.updated', pm, core.now(pm.customer as string | null), {
      metadata: before.metadata,
      billing_details: before.billing_details,
    });
    return pm;
  });

  routes.post('/v1/payment_methods/:id/attach', ({ path, params }) => {
    const customerId = str(params, 'customer');
    if (!customerId) throw missingParam('customer');
    const customer = mustGet(core.state.customers, customerId, 'customer', 'customer');
    const pm = resolvePaymentMethod(deps, path.id!, core.now(customer.id), 'payment_method');
    attachPaymentMethod(deps, pm, customer);
    return pm;
  });

  routes.post('/v1/payment_methods/:id/detach', ({ path }) => {
    const pm = mustGet(core.state.paymentMethods, path.id, 'PaymentMethod');
    const customerId = pm.customer as string | null;
    if (!customerId) {
      throw invalidRequest(
        'The payment method you provided is not attached to a customer so detachment is impossible.',
      );
    }
    pm.customer = null;
    const customer = core.state.customers[customerId];
    if (customer?.invoice_settings.default_payment_method === pm.id)
      customer.invoice_settings.default_payment_method = null;
    core.emit('payment_method.detached', pm, core.now(customerId));
    core.store.changed();
    return pm;
  });

  routes.get('/v1/payment_methods', ({ params }: { params: Params }) => {
    const customer = str(params, 'customer');
    const type = str(params, 'type');
    const all = newestFirst(core.state.paymentMethods).filter(
      (pm) =>
        (customer === undefined || pm.customer === customer) && (type === undefined || pm.type === type),
    );
    return paginate(all, params, '/v1/payment_methods');
  });
}
