import type Stripe from 'stripe';
import { type ApiRoutes, type Deps, matchesCreated, mustGet, newestFirst, paginate } from '../api.ts';
import { ApiError, cardError, invalidRequest, missingParam } from '../errors.ts';
import { arr, bool, mergeMetadata, obj, str } from '../form.ts';
import { resolvePaymentMethod } from './payment-methods.ts';
import { parseItemChanges, prorationParams } from './subscriptions.ts';

export function invoiceSubscriptionId(inv: Stripe.Invoice): string | null {
  const sub = inv.parent?.subscription_details?.subscription;
  return typeof sub === 'string' ? sub : (sub?.id ?? null);
}

function noUpcoming(customerId: string): ApiError {
  return new ApiError(
    404,
    'invalid_request_error',
    `No upcoming invoices for customer: ${customerId}`,
    'invoice_upcoming_none',
  );
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

  // The upcoming-invoice preview: what the next invoice would be, with or without a change to the
  // subscription's items, computed by the same code that makes the real invoice. Changes nothing.
  routes.post('/v1/invoices/create_preview', ({ params }) => {
    const customerId = str(params, 'customer');
    const subscriptionId = str(params, 'subscription');
    const details = obj(params, 'subscription_details') ?? {};
    if (!subscriptionId && !customerId) throw missingParam('customer');
    if (customerId) mustGet(core.state.customers, customerId, 'customer', 'customer');
    const sub = subscriptionId
      ? mustGet(core.state.subscriptions, subscriptionId, 'subscription', 'subscription')
      : newestFirst(core.state.subscriptions).find(
          (s) => s.customer === customerId && !['canceled', 'incomplete_expired'].includes(s.status),
        );
    if (!sub) {
      if (arr(details, 'items')) {
        throw invalidRequest(
          'The emulator previews changes to an existing subscription only; pass `subscription`.',
          'subscription',
        );
      }
      throw noUpcoming(customerId ?? '');
    }
    if (customerId && sub.customer !== customerId) {
      throw invalidRequest(
        `The subscription ${sub.id} does not belong to the customer ${customerId}.`,
        'subscription',
      );
    }
    const at = core.now(sub.customer as string);
    const { proration, prorationDate } = prorationParams(sub, details, at, 'subscription_details');
    const items = arr(details, 'items');
    const changes = items ? parseItemChanges(deps, sub, items, 'subscription_details[items]') : [];
    const preview = engine.previewInvoice(sub, changes, proration, at, prorationDate);
    if (!preview) throw noUpcoming(sub.customer as string);
    return preview;
  });

  // Invoice items: the prorations a subscription change made, pending until an invoice takes them.
  routes.get('/v1/invoiceitems', ({ params }) => {
    const customer = str(params, 'customer');
    const invoice = str(params, 'invoice');
    const pending = bool(params, 'pending');
    const all = newestFirst(core.state.invoiceItems).filter(
      (item) =>
        (customer === undefined || item.customer === customer) &&
        (invoice === undefined || item.invoice === invoice) &&
        (pending === undefined || (item.invoice === null) === pending) &&
        matchesCreated(item.date, params),
    );
    return paginate(all, params, '/v1/invoiceitems');
  });

  routes.get('/v1/invoiceitems/:id', ({ path }) => mustGet(core.state.invoiceItems, path.id, 'invoiceitem'));

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
