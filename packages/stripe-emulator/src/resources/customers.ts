import type Stripe from 'stripe';
import { type ApiRoutes, type Deps, matchesCreated, mustGet, newestFirst, paginate } from '../api.ts';
import { wallNow } from '../clock.ts';
import { invalidRequest } from '../errors.ts';
import { int, mergeMetadata, nullableStr, obj, type Params, str } from '../form.ts';
import { buildCustomer } from '../objects/customers.ts';
import { buildTestClock } from '../objects/test-clocks.ts';
import { searchResult } from '../search.ts';
import { attachPaymentMethod, resolvePaymentMethod } from './payment-methods.ts';

export function registerCustomers(routes: ApiRoutes, deps: Deps): void {
  const { core } = deps;

  routes.post('/v1/customers', ({ params }) => createCustomer(deps, params));

  routes.get('/v1/customers/search', ({ params }) =>
    searchResult(
      newestFirst(core.state.customers),
      { query: str(params, 'query') ?? '', limit: int(params, 'limit') ?? 10, page: str(params, 'page') },
      '/v1/customers/search',
    ),
  );

  routes.get('/v1/customers/:id', ({ path }) => {
    if (path.id && core.state.internal.deletedCustomers[path.id]) {
      return { id: path.id, object: 'customer', deleted: true } satisfies Stripe.DeletedCustomer;
    }
    return mustGet(core.state.customers, path.id, 'customer');
  });

  routes.post('/v1/customers/:id', ({ path, params }) => {
    const before = mustGet(core.state.customers, path.id, 'customer');
    // Changes are made on a copy that replaces the customer only if the whole update is valid.
    const customer = structuredClone(before);
    applyCustomerFields(customer, params);
    const settings = obj(params, 'invoice_settings');
    if (settings && 'default_payment_method' in settings) {
      const pmId = nullableStr(settings, 'default_payment_method');
      const param = 'invoice_settings[default_payment_method]';
      if (pmId && mustGet(core.state.paymentMethods, pmId, 'PaymentMethod', param).customer !== customer.id) {
        throw invalidRequest(
          `The customer does not have a payment method with the ID ${pmId}. The payment method must be attached to the customer.`,
          param,
        );
      }
      customer.invoice_settings.default_payment_method = pmId ?? null;
    }
    core.state.customers[customer.id] = customer;
    const previous = diffTop(before, customer);
    if (Object.keys(previous).length > 0)
      core.emit('customer.updated', customer, core.now(customer.id), previous);
    core.store.changed();
    return customer;
  });

  routes.del('/v1/customers/:id', ({ path }) => {
    const customer = mustGet(core.state.customers, path.id, 'customer');
    const at = core.now(customer.id);
    for (const sub of Object.values(core.state.subscriptions)) {
      if (sub.customer === customer.id) deps.engine.cancelSubscription(sub, at, 'cancellation_requested');
    }
    delete core.state.customers[customer.id];
    core.state.internal.deletedCustomers[customer.id] = true;
    core.emit('customer.deleted', customer, at);
    return { id: customer.id, object: 'customer', deleted: true } satisfies Stripe.DeletedCustomer;
  });

  routes.get('/v1/customers', ({ params }) => {
    const email = str(params, 'email');
    const testClock = str(params, 'test_clock');
    const all = newestFirst(core.state.customers).filter(
      (c) =>
        (email === undefined || c.email === email) &&
        (testClock === undefined || c.test_clock === testClock) &&
        matchesCreated(c.created, params),
    );
    return paginate(all, params, '/v1/customers');
  });

  routes.get('/v1/customers/:id/payment_methods', ({ path, params }) => {
    const customer = mustGet(core.state.customers, path.id, 'customer');
    const all = newestFirst(core.state.paymentMethods).filter((pm) => pm.customer === customer.id);
    return paginate(all, params, `/v1/customers/${customer.id}/payment_methods`);
  });
}

function diffTop(before: Stripe.Customer, after: Stripe.Customer): Record<string, unknown> {
  const previous: Record<string, unknown> = {};
  for (const key of Object.keys(after) as (keyof Stripe.Customer)[]) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) previous[key] = before[key] ?? null;
  }
  return previous;
}

function applyCustomerFields(customer: Stripe.Customer, params: Params): void {
  const email = nullableStr(params, 'email');
  if (email !== undefined) customer.email = email;
  const name = nullableStr(params, 'name');
  if (name !== undefined) customer.name = name;
  const description = nullableStr(params, 'description');
  if (description !== undefined) customer.description = description;
  const phone = nullableStr(params, 'phone');
  if (phone !== undefined) customer.phone = phone;
  customer.metadata = mergeMetadata(customer.metadata, params);
}

/**
 * Creates a customer. With `autoTestClock` (the default) a customer created without a test clock
 * gets one of its own, so time can be advanced for any customer (a documented divergence).
 */
export function createCustomer(
  deps: Deps,
  params: Params,
  opts: { defaultPaymentMethod?: string } = {},
): Stripe.Customer {
  const { core } = deps;
  let clockId = str(params, 'test_clock') ?? null;
  if (clockId) mustGet(core.state.testClocks, clockId, 'test_clock', 'test_clock');
  if (!clockId && core.options.autoTestClock) {
    const clock = buildTestClock(wallNow(), null, wallNow());
    core.state.testClocks[clock.id] = clock;
    clockId = clock.id;
  }
  const created = clockId ? core.state.testClocks[clockId]!.frozen_time : wallNow();
  const customer = buildCustomer({ created, test_clock: clockId });
  if (clockId && core.options.autoTestClock && !str(params, 'test_clock')) {
    core.state.testClocks[clockId]!.name = `Auto clock for ${customer.id}`;
  }
  applyCustomerFields(customer, params);
  core.state.customers[customer.id] = customer;
  const pmParam = str(params, 'payment_method');
  const pm = pmParam ? resolvePaymentMethod(deps, pmParam, created) : null;
  const settings = obj(params, 'invoice_settings');
  const defaultPm = settings ? nullableStr(settings, 'default_payment_method') : undefined;
  if (pm && defaultPm === pmParam) customer.invoice_settings.default_payment_method = pm.id;
  if (opts.defaultPaymentMethod) customer.invoice_settings.default_payment_method = opts.defaultPaymentMethod;
  core.emit('customer.created', customer, created);
  if (pm) attachPaymentMethod(deps, pm, customer);
  core.store.changed();
  return customer;
}
