import type Stripe from 'stripe';
import { type ApiRoutes, type Deps, matchesCreated, mustGet, newestFirst, paginate } from '../api.ts';
import type { ItemChange, ProrationBehavior } from '../billing/prorations.ts';
import type { PaymentBehavior } from '../billing/subscriptions.ts';
import { SECONDS } from '../clock.ts';
import { invalidRequest, missingParam, noSuch } from '../errors.ts';
import { arr, bool, int, mergeMetadata, nullableStr, obj, type Params, str } from '../form.ts';
import { searchResult } from '../search.ts';

const PAYMENT_BEHAVIORS = ['allow_incomplete', 'error_if_incomplete', 'default_incomplete'];
const PRORATION_BEHAVIORS = ['create_prorations', 'always_invoice', 'none'];
const PAUSE_BEHAVIORS = ['void', 'keep_as_draft', 'mark_uncollectible'];

function recurringPrice(deps: Deps, id: string | undefined, param: string): Stripe.Price {
  if (!id) throw missingParam(param);
  const price = mustGet(deps.core.state.prices, id, 'price', param);
  if (!price.recurring) {
    throw invalidRequest(
      `The price specified is set to \`type=one_time\` but this field only accepts prices with \`type=recurring\`.`,
      param,
    );
  }
  if (!price.active)
    throw invalidRequest(`The price specified is inactive. This field only accepts active prices.`, param);
  return price;
}

/**
 * A subscription item's quantity, validated as Stripe validates it: an integer ≥ 0 (a licensed
 * item may have quantity 0), reported with the full parameter path.
 */
function quantityParam(item: Params, param: string): number | undefined {
  const value = item.quantity;
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^-?\d+$/.test(value)) {
    throw invalidRequest(`Invalid integer: ${String(value)}`, param, 'parameter_invalid_integer');
  }
  const quantity = Number.parseInt(value, 10);
  if (quantity < 0) {
    throw invalidRequest(
      'This value must be greater than or equal to 0.',
      param,
      'parameter_invalid_integer',
    );
  }
  return quantity;
}

/** `items[…]` of a subscription update (or `subscription_details[items][…]` of a preview). */
export function parseItemChanges(
  deps: Deps,
  sub: Stripe.Subscription,
  itemParams: unknown[],
  prefix: string,
): ItemChange[] {
  const changes = itemParams.map((raw, index): ItemChange => {
    if (typeof raw !== 'object' || raw === null)
      throw invalidRequest('Invalid object', `${prefix}[${index}]`);
    const item = raw as Params;
    const priceId = str(item, 'price') ?? str(item, 'plan');
    return {
      id: str(item, 'id'),
      price: priceId ? recurringPrice(deps, priceId, `${prefix}[${index}][price]`) : undefined,
      quantity: quantityParam(item, `${prefix}[${index}][quantity]`),
      deleted: bool(item, 'deleted'),
    };
  });
  changes.forEach((change, index) => {
    if (change.id && !sub.items.data.some((i) => i.id === change.id)) {
      throw invalidRequest(`No such subscription item: '${change.id}'`, prefix, 'resource_missing');
    }
    // Without an id an entry adds an item, which needs a price (a quantity alone changes nothing).
    if (!change.id && !change.price) throw missingParam(`${prefix}[${index}][price]`);
    if (!change.id && change.price && sub.items.data.some((i) => i.price.id === change.price?.id)) {
      throw invalidRequest(
        'Cannot add multiple subscription items with the same price. Pass the existing item’s id to change its quantity.',
        `${prefix}[${index}][price]`,
      );
    }
  });
  return changes;
}

/** `proration_behavior` (default create_prorations) and `proration_date` (default now), validated. */
export function prorationParams(
  sub: Stripe.Subscription,
  params: Params,
  at: number,
  prefix = '',
): { proration: ProrationBehavior; prorationDate: number } {
  const name = (key: string) => (prefix ? `${prefix}[${key}]` : key);
  const proration = (str(params, 'proration_behavior') ?? 'create_prorations') as ProrationBehavior;
  if (!PRORATION_BEHAVIORS.includes(proration))
    throw invalidRequest(`Invalid ${name('proration_behavior')}`, name('proration_behavior'));
  const given = int(params, 'proration_date');
  const prorationDate = given ?? at;
  const start = sub.items.data[0]?.current_period_start ?? at;
  const end = sub.items.data[0]?.current_period_end ?? at;
  if (given !== undefined && (given < start || given > end)) {
    throw invalidRequest(
      'The proration_date must be within the current billing period of the subscription.',
      name('proration_date'),
    );
  }
  return { proration, prorationDate };
}

function ownedPaymentMethod(deps: Deps, customerId: string, pmId: string, param: string): string {
  const pm = mustGet(deps.core.state.paymentMethods, pmId, 'PaymentMethod', param);
  if (pm.customer !== customerId) {
    throw invalidRequest(
      `The customer does not have a payment method with the ID ${pmId}. The payment method must be attached to the customer.`,
      param,
      'resource_missing',
    );
  }
  return pm.id;
}

export function registerSubscriptions(routes: ApiRoutes, deps: Deps): void {
  const { core, engine } = deps;

  routes.post('/v1/subscriptions', ({ params }) => {
    const customerId = str(params, 'customer');
    if (!customerId) throw missingParam('customer');
    const customer = mustGet(core.state.customers, customerId, 'customer', 'customer');
    const itemParams = arr(params, 'items');
    if (!itemParams || itemParams.length === 0) throw missingParam('items');
    const items = itemParams.map((raw, index) => {
      const item = raw as Params;
      return {
        price: recurringPrice(deps, str(item, 'price') ?? str(item, 'plan'), `items[${index}][price]`),
        quantity: quantityParam(item, `items[${index}][quantity]`) ?? 1,
      };
    });
    const currencies = new Set(items.map((i) => i.price.currency));
    if (currencies.size > 1)
      throw invalidRequest('All prices on a subscription must have the same currency.', 'items');
    const now = core.now(customerId);
    const trialDays = int(params, 'trial_period_days');
    const trialEndParam = str(params, 'trial_end');
    let trialEnd: number | null = null;
    if (trialEndParam && trialEndParam !== 'now') trialEnd = Number(trialEndParam);
    else if (trialDays !== undefined && trialDays > 0) trialEnd = now + trialDays * SECONDS.day;
    if (trialEnd !== null && trialEnd <= now)
      throw invalidRequest('Invalid timestamp: must be in the future.', 'trial_end');
    const pmParam = str(params, 'default_payment_method');
    const defaultPm = pmParam
      ? ownedPaymentMethod(deps, customerId, pmParam, 'default_payment_method')
      : null;
    const paymentBehavior = (str(params, 'payment_behavior') ?? 'allow_incomplete') as PaymentBehavior;
    if (!PAYMENT_BEHAVIORS.includes(paymentBehavior))
      throw invalidRequest('Invalid payment_behavior', 'payment_behavior');
    const trialSettings = obj(params, 'trial_settings');
    const endBehavior = trialSettings ? obj(trialSettings, 'end_behavior') : undefined;
    const missing =
      (endBehavior ? str(endBehavior, 'missing_payment_method') : undefined) ?? 'create_invoice';
    if (!['cancel', 'create_invoice', 'pause'].includes(missing)) {
      throw invalidRequest(
        'Invalid missing_payment_method',
        'trial_settings[end_behavior][missing_payment_method]',
      );
    }
    return engine.createSubscription({
      customer: customer.id,
      items,
      trialEnd,
      defaultPaymentMethod: defaultPm,
      metadata: mergeMetadata({}, params),
      paymentBehavior,
      cancelAtPeriodEnd: bool(params, 'cancel_at_period_end') ?? false,
      missingPaymentMethod: missing as 'cancel' | 'create_invoice' | 'pause',
      onSession: false,
    });
  });

  routes.get('/v1/subscriptions/search', ({ params }) =>
    searchResult(
      newestFirst(core.state.subscriptions),
      { query: str(params, 'query') ?? '', limit: int(params, 'limit') ?? 10, page: str(params, 'page') },
      '/v1/subscriptions/search',
    ),
  );

  routes.get('/v1/subscriptions/:id', ({ path }) =>
    mustGet(core.state.subscriptions, path.id, 'subscription'),
  );

  routes.post('/v1/subscriptions/:id', ({ path, params }) =>
    updateSubscription(deps, path.id!, params, false),
  );

  routes.del('/v1/subscriptions/:id', ({ path }) => {
    const sub = mustGet(core.state.subscriptions, path.id, 'subscription');
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired') {
      throw invalidRequest(`A canceled subscription can only update its cancellation_details and metadata.`);
    }
    engine.cancelSubscription(sub, core.now(sub.customer as string), 'cancellation_requested');
    return sub;
  });

  routes.post('/v1/subscriptions/:id/resume', ({ path }) => {
    const sub = mustGet(core.state.subscriptions, path.id, 'subscription');
    if (sub.status !== 'paused') {
      throw invalidRequest(
        'Subscription is not paused. Only paused subscriptions can be resumed.',
        undefined,
        'subscription_not_paused',
      );
    }
    engine.resumeSubscription(sub, core.now(sub.customer as string), false);
    return sub;
  });

  // Subscription items: the per-seat quantity can be changed on the item itself, with the same
  // proration parameters as a subscription update.
  const itemById = (id: string | undefined) => {
    for (const sub of Object.values(core.state.subscriptions)) {
      const item = sub.items.data.find((i) => i.id === id);
      if (item) return { sub, item };
    }
    throw noSuch('subscription_item', id ?? '');
  };

  routes.get('/v1/subscription_items', ({ params }) => {
    const subId = str(params, 'subscription');
    if (!subId) throw missingParam('subscription');
    const sub = mustGet(core.state.subscriptions, subId, 'subscription', 'subscription');
    return paginate([...sub.items.data].reverse(), params, '/v1/subscription_items');
  });

  routes.get('/v1/subscription_items/:id', ({ path }) => itemById(path.id).item);

  routes.post('/v1/subscription_items/:id', ({ path, params }) => {
    const { sub } = itemById(path.id);
    const allowed = [
      'price',
      'plan',
      'quantity',
      'proration_behavior',
      'proration_date',
      'payment_behavior',
      'expand',
    ];
    const unknown = Object.keys(params).find((key) => !allowed.includes(key));
    if (unknown) {
      throw invalidRequest(`Received unknown parameter: ${unknown}`, unknown, 'parameter_unknown');
    }
    quantityParam(params, 'quantity'); // reported as `quantity`, as Stripe reports it here
    const { quantity, price, plan, proration_behavior, proration_date, payment_behavior } = params;
    const update: Params = {
      items: [{ id: path.id, quantity, price, plan }],
      proration_behavior,
      proration_date,
      payment_behavior,
    };
    // Keys left undefined are absent, as they would be on the wire.
    updateSubscription(deps, sub.id, JSON.parse(JSON.stringify(update)) as Params, false);
    return itemById(path.id).item;
  });

  routes.get('/v1/subscriptions', ({ params }) => {
    const customer = str(params, 'customer');
    const status = str(params, 'status');
    const price = str(params, 'price');
    const testClock = str(params, 'test_clock');
    const all = newestFirst(core.state.subscriptions).filter((sub) => {
      if (customer !== undefined && sub.customer !== customer) return false;
      if (testClock !== undefined && sub.test_clock !== testClock) return false;
      if (price !== undefined && !sub.items.data.some((i) => i.price.id === price)) return false;
      if (!matchesCreated(sub.created, params)) return false;
      if (status === 'all') return true;
      if (status === 'ended') return sub.status === 'canceled' || sub.status === 'incomplete_expired';
      if (status === undefined) return sub.status !== 'canceled' && sub.status !== 'incomplete_expired';
      return sub.status === status;
    });
    return paginate(all, params, '/v1/subscriptions');
  });
}

/** Subscription update, shared by the API and the hosted Portal (which is on-session). */
export function updateSubscription(
  deps: Deps,
  id: string,
  params: Params,
  onSession: boolean,
): Stripe.Subscription {
  const { core, engine } = deps;
  const sub = mustGet(core.state.subscriptions, id, 'subscription');
  const customerId = sub.customer as string;
  const at = core.now(customerId);
  if (sub.status === 'canceled' || sub.status === 'incomplete_expired') {
    const allowed = Object.keys(params).every((k) =>
      ['metadata', 'cancellation_details', 'expand'].includes(k),
    );
    if (!allowed)
      throw invalidRequest('A canceled subscription can only update its cancellation_details and metadata.');
  }
  const { proration, prorationDate } = prorationParams(sub, params, at);
  const paymentBehavior = str(params, 'payment_behavior') ?? 'allow_incomplete';
  if (![...PAYMENT_BEHAVIORS, 'pending_if_incomplete'].includes(paymentBehavior))
    throw invalidRequest('Invalid payment_behavior', 'payment_behavior');
  if (paymentBehavior === 'pending_if_incomplete') {
    // Refused rather than treated as allow_incomplete: the change would be applied when Stripe would not.
    throw invalidRequest(
      'The Stripe emulator does not support pending updates (payment_behavior=pending_if_incomplete).',
      'payment_behavior',
    );
  }

  // Everything is read and validated before anything changes, so a rejected update changes nothing.
  const metadata = mergeMetadata(sub.metadata, params);
  const pmParam = nullableStr(params, 'default_payment_method');
  const defaultPm =
    pmParam === undefined
      ? undefined
      : pmParam
        ? ownedPaymentMethod(deps, customerId, pmParam, 'default_payment_method')
        : null;
  let pauseCollection: Stripe.Subscription.PauseCollection | null | undefined;
  if ('pause_collection' in params) {
    const pause = obj(params, 'pause_collection');
    const behavior = pause ? str(pause, 'behavior') : undefined;
    if (pause && (!behavior || !PAUSE_BEHAVIORS.includes(behavior))) {
      throw invalidRequest('Invalid pause_collection[behavior]', 'pause_collection[behavior]');
    }
    pauseCollection = pause
      ? {
          behavior: behavior as Stripe.Subscription.PauseCollection.Behavior,
          resumes_at: int(pause, 'resumes_at') ?? null,
        }
      : null;
  }
  const cancelAtPeriodEnd = bool(params, 'cancel_at_period_end');
  const cancelAt = 'cancel_at' in params ? (int(params, 'cancel_at') ?? null) : undefined;
  const trialEndParam = str(params, 'trial_end');
  const trialEnd =
    trialEndParam === undefined ? undefined : trialEndParam === 'now' ? at : Number(trialEndParam);
  if (trialEnd !== undefined && (!Number.isFinite(trialEnd) || trialEnd < at)) {
    throw invalidRequest('Invalid timestamp: must be now or in the future.', 'trial_end');
  }

  // All field changes are one customer.subscription.updated event, as in Stripe.
  const mutate = (s: Stripe.Subscription) => {
    s.metadata = metadata;
    if (defaultPm !== undefined) s.default_payment_method = defaultPm;
    if (pauseCollection !== undefined) s.pause_collection = pauseCollection;
    if (cancelAtPeriodEnd !== undefined) {
      s.cancel_at_period_end = cancelAtPeriodEnd;
      s.cancel_at = cancelAtPeriodEnd ? (s.items.data[0]?.current_period_end ?? null) : null;
      s.canceled_at = cancelAtPeriodEnd ? at : null;
      s.cancellation_details = {
        comment: null,
        feedback: null,
        feedback_option: null,
        reason: cancelAtPeriodEnd ? 'cancellation_requested' : null,
      };
    } else if (cancelAt !== undefined) {
      s.cancel_at = cancelAt;
      s.canceled_at = cancelAt ? at : null;
      s.cancel_at_period_end = false;
    }
    if (trialEnd !== undefined && s.status === 'trialing') {
      s.trial_end = trialEnd;
      for (const item of s.items.data) item.current_period_end = trialEnd;
    }
  };

  const itemParams = arr(params, 'items');
  if (itemParams && itemParams.length > 0) {
    const changes = parseItemChanges(deps, sub, itemParams, 'items');
    engine.changeItems(
      sub,
      changes,
      proration,
      at,
      onSession,
      mutate,
      prorationDate,
      paymentBehavior === 'error_if_incomplete',
    );
  } else {
    engine.updateSubscription(sub, at, mutate);
  }
  // trial_end=now ends the trial at once: run the renewal that is now due.
  engine.catchUp();
  return sub;
}
