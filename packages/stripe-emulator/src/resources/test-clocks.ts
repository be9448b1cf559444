import type Stripe from 'stripe';
import { type ApiRoutes, type Deps, mustGet, newestFirst, paginate } from '../api.ts';
import { wallNow } from '../clock.ts';
import { invalidRequest, missingParam } from '../errors.ts';
import { int, str } from '../form.ts';
import { buildTestClock } from '../objects/test-clocks.ts';

export function registerTestClocks(routes: ApiRoutes, deps: Deps): void {
  const { core, engine } = deps;
  const base = '/v1/test_helpers/test_clocks';

  routes.post(base, ({ params }) => {
    const frozenTime = int(params, 'frozen_time');
    if (frozenTime === undefined) throw missingParam('frozen_time');
    const clock = buildTestClock(frozenTime, str(params, 'name') ?? null, wallNow());
    core.state.testClocks[clock.id] = clock;
    core.emit('test_helpers.test_clock.created', clock, frozenTime);
    return clock;
  });
  routes.get(`${base}/:id`, ({ path }) => mustGet(core.state.testClocks, path.id, 'test_clock'));
  routes.get(base, ({ params }) => paginate(newestFirst(core.state.testClocks), params, base));
  routes.post(`${base}/:id/advance`, ({ path, params }) => {
    const clock = mustGet(core.state.testClocks, path.id, 'test_clock');
    const frozenTime = int(params, 'frozen_time');
    if (frozenTime === undefined) throw missingParam('frozen_time');
    if (frozenTime <= clock.frozen_time) {
      throw invalidRequest(
        'The frozen_time must be after the current frozen_time of the test clock.',
        'frozen_time',
      );
    }
    // Stripe advances asynchronously (status `advancing`, then `ready`); the emulator finishes
    // before answering, so the returned clock is already `ready` (a documented divergence).
    engine.advanceClock(clock, frozenTime);
    return clock;
  });
  routes.del(`${base}/:id`, ({ path }) => {
    const clock = mustGet(core.state.testClocks, path.id, 'test_clock');
    // Deleting a clock deletes the customers (and their objects) attached to it, as in Stripe.
    const state = core.state;
    const customers = new Set(
      Object.values(state.customers)
        .filter((customer) => customer.test_clock === clock.id)
        .map((customer) => customer.id),
    );
    const invoices = new Set(
      Object.values(state.invoices)
        .filter((inv) => customers.has(inv.customer as string))
        .map((inv) => inv.id),
    );
    const dropWhere = <T>(collection: Record<string, T>, doomed: (item: T) => boolean) => {
      for (const [id, item] of Object.entries(collection)) if (doomed(item)) delete collection[id];
    };
    dropWhere(state.subscriptions, (sub) => customers.has(sub.customer as string));
    dropWhere(state.invoicePayments, (payment) => invoices.has(payment.invoice as string));
    dropWhere(state.invoices, (inv) => invoices.has(inv.id));
    dropWhere(state.invoiceItems, (item) => customers.has(item.customer as string));
    dropWhere(state.paymentIntents, (pi) => customers.has(pi.customer as string));
    dropWhere(state.paymentMethods, (pm) => customers.has(pm.customer as string));
    dropWhere(state.customers, (customer) => customers.has(customer.id));
    for (const id of customers) state.internal.deletedCustomers[id] = true;
    delete state.testClocks[clock.id];
    core.emit('test_helpers.test_clock.deleted', clock, clock.frozen_time);
    return {
      id: clock.id,
      object: 'test_helpers.test_clock',
      deleted: true,
    } satisfies Stripe.TestHelpers.DeletedTestClock;
  });
}
