import { type ApiRoutes, type Deps, mustGet, newestFirst, paginate } from '../api.ts';
import { obj, str } from '../form.ts';

/** Read-only views of the payments the billing engine records for invoices. */
export function registerPayments(routes: ApiRoutes, deps: Deps): void {
  const { core } = deps;

  routes.get('/v1/invoice_payments', ({ params }) => {
    const invoice = str(params, 'invoice');
    const status = str(params, 'status');
    const payment = obj(params, 'payment');
    const paymentIntent = payment ? str(payment, 'payment_intent') : undefined;
    const all = newestFirst(core.state.invoicePayments).filter(
      (p) =>
        (invoice === undefined || p.invoice === invoice) &&
        (status === undefined || p.status === status) &&
        (paymentIntent === undefined || p.payment.payment_intent === paymentIntent),
    );
    return paginate(all, params, '/v1/invoice_payments');
  });
  routes.get('/v1/invoice_payments/:id', ({ path }) =>
    mustGet(core.state.invoicePayments, path.id, 'invoice payment'),
  );

  routes.get('/v1/payment_intents', ({ params }) => {
    const customer = str(params, 'customer');
    const all = newestFirst(core.state.paymentIntents).filter(
      (p) => customer === undefined || p.customer === customer,
    );
    return paginate(all, params, '/v1/payment_intents');
  });
  routes.get('/v1/payment_intents/:id', ({ path }) =>
    mustGet(core.state.paymentIntents, path.id, 'payment_intent'),
  );
}
