import type Stripe from 'stripe';
import { type ApiRoutes, type Deps, matchesCreated, mustGet, newestFirst, paginate } from '../api.ts';
import { cardError, invalidRequest } from '../errors.ts';
import { mergeMetadata, str } from '../form.ts';
import { resolvePaymentMethod } from './payment-methods.ts';

export function invoiceSubscriptionId(inv: Stripe.Invoice): string | null {
  const sub = inv.parent?.subscription_details?.subscription;
  return typeof sub === 'string' ? sub : (sub?.id ?? null);
}

export function registerInvoices(routes: ApiRoutes, deps: Deps): void {
  const { core, engine } = deps;

  routes.get('/v1/invoices', ({ params }) => {
    const customer = str(params, 'customer');
    const subscription = str(params, 'subscription');
    const status = str(params, 'status');
    const all = newestFirst(core.state.invoices).filter(
      (inv) =>
        (customer === undefined || inv.customer === customer) &&
        (subscription === undefined || invoiceSubscriptionId(inv) === subscription) &&
        (status === undefined || inv.status === status) &&
        matchesCreated(inv.created, params),
    );
    return paginate(all, params, '/v1/invoices');
  });

  routes.get('/v1/invoices/:id', ({ path }) => mustGet(core.state.invoices, path.id, 'invoice'));

  routes.get('/v1/invoices/:id/lines', ({ path, params }) => {
    const inv = mustGet(core.state.invoices, path.id, 'invoice');
    return paginate([...inv.lines.data], params, `/v1/invoices/${inv.id}/lines`);
  });

  routes.post('/v1/invoices/:id', ({ path, params }) => {
    const inv = mustGet(core.state.invoices, path.id, 'invoice');
    const before = structuredClone(inv.metadata);
    inv.metadata = mergeMetadata(inv.metadata ?? {}, params);
    const description = str(params, 'description');
    if (description !== undefined) inv.description = description || null;
    core.emit('invoice.updated', inv, core.now(inv.customer as string), { metadata: before });
    return inv;
  });

  routes.post('/v1/invoices/:id/finalize', ({ path }) => {
    const inv = mustGet(core.state.invoices, path.id, 'invoice');
    if (inv.status !== 'draft')
      throw invalidRequest('This invoice is already finalized.', undefined, 'invoice_not_editable');
    engine.finalizeInvoice(inv, core.now(inv.customer as string));
    return inv;
  });

  routes.post('/v1/invoices/:id/pay', ({ path, params }) => {
    const inv = mustGet(core.state.invoices, path.id, 'invoice');
    const at = core.now(inv.customer as string);
    if (inv.status === 'paid')
      throw invalidRequest('Invoice is already paid', undefined, 'invoice_already_paid');
    if (inv.status === 'void' || inv.status === 'uncollectible') {
      throw invalidRequest(
        `This invoice can no longer be paid (status ${inv.status}).`,
        undefined,
        'invoice_not_payable',
      );
    }
    if (inv.status === 'draft') engine.finalizeInvoice(inv, at);
    const pmParam = str(params, 'payment_method');
    const pm = pmParam ? resolvePaymentMethod(deps, pmParam, at).id : undefined;
    const outcome = engine.payInvoice(inv, at, { onSession: false, paymentMethod: pm });
    if (outcome.kind === 'failed') throw cardError(outcome.message, outcome.declineCode, outcome.code);
    if (outcome.kind === 'requires_action') {
      throw cardError(
        'This payment requires additional user action before it can be completed successfully.',
        'authentication_required',
        'invoice_payment_intent_requires_action',
      );
    }
    return inv;
  });

  routes.post('/v1/invoices/:id/void', ({ path }) => {
    const inv = mustGet(core.state.invoices, path.id, 'invoice');
    if (inv.status !== 'open')
      throw invalidRequest('You can only void an open invoice.', undefined, 'invoice_not_editable');
    engine.voidInvoice(inv, core.now(inv.customer as string));
    return inv;
  });
}
