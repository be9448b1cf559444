import type { FastifyInstance } from 'fastify';
import type Stripe from 'stripe';
import type { Deps } from '../api.ts';
import { ApiError } from '../errors.ts';
import { type Params, parseForm } from '../form.ts';
import { attachPaymentMethod, paymentMethodFromCard } from '../resources/payment-methods.ts';
import { updateSubscription } from '../resources/subscriptions.ts';
import { cardFields, formatDate, formatMoney, html, page, type SafeHtml, statusBadge } from './html.ts';

const NOTICES: Record<string, string> = {
  canceling: 'Your subscription will be canceled at the end of the billing period.',
  renewed: 'Your subscription will continue.',
  canceled: 'Your subscription has been canceled.',
  resumed: 'Your subscription has been resumed.',
  switched: 'Your plan has been changed.',
  card: 'Your payment method has been updated.',
  card_failed: 'Your card was saved, but the outstanding invoice could not be paid with it.',
};

function field(params: Params, key: string): string {
  const value = params[key];
  return typeof value === 'string' ? value : '';
}

function productName(deps: Deps, price: Stripe.Price): string {
  const id = typeof price.product === 'string' ? price.product : price.product.id;
  return deps.core.state.products[id]?.name ?? id;
}

/** The other active recurring prices of the same product (monthly ↔ yearly). */
function alternativePrices(deps: Deps, current: Stripe.Price): Stripe.Price[] {
  return Object.values(deps.core.state.prices).filter(
    (p) =>
      p.active &&
      p.recurring &&
      p.product === current.product &&
      p.id !== current.id &&
      p.currency === current.currency,
  );
}

function subscriptionSection(deps: Deps, sessionId: string, sub: Stripe.Subscription): SafeHtml {
  const item = sub.items.data[0];
  if (!item) return html``;
  const price = item.price;
  const interval = price.recurring?.interval ?? 'month';
  const ended = sub.status === 'canceled' || sub.status === 'incomplete_expired';
  const canCancel = !ended && !sub.cancel_at_period_end && sub.status !== 'paused';
  // The next invoice: every item's price, plus proration lines waiting for it.
  const pending = deps.core.state.internal.subscriptions[sub.id]?.pendingLines ?? [];
  const nextAmount =
    sub.items.data.reduce((sum, i) => sum + (i.price.unit_amount ?? 0) * (i.quantity ?? 1), 0) +
    pending.reduce((sum, line) => sum + line.amount, 0);
  const action = (name: string, label: string, cls = '', extra: SafeHtml = html``) => html`
    <form method="post" action="/portal/${sessionId}/action" class="inline">
      <input type="hidden" name="subscription" value="${sub.id}">${extra}
      <button type="submit" name="action" value="${name}" class="${cls}">${label}</button>
    </form>`;
  return html`
<section class="card" aria-labelledby="plan-${sub.id}">
  <h2 id="plan-${sub.id}">Current plan</h2>
  <p><strong data-testid="plan-name">${productName(deps, price)}</strong> — ${formatMoney(price.unit_amount, price.currency)} per ${interval}
    ${statusBadge(sub.status)}</p>
  ${sub.status === 'trialing' ? html`<p>Trial ends ${formatDate(sub.trial_end)}.</p>` : ''}
  ${
    ended
      ? html`<p>Canceled on ${formatDate(sub.ended_at)}.</p>`
      : sub.cancel_at
        ? html`<p data-testid="cancel-notice">Your plan will be canceled on ${formatDate(sub.cancel_at)}.</p>`
        : sub.status === 'paused'
          ? html`<p>Your subscription is paused.</p>`
          : html`<p data-testid="next-invoice">Next invoice: ${formatMoney(nextAmount, price.currency)} on ${formatDate(item.current_period_end)}.</p>`
  }
  <div>
    ${canCancel ? action('cancel_at_period_end', 'Cancel plan at period end', 'secondary') : ''}
    ${!ended && sub.cancel_at_period_end ? action('renew', 'Resume plan') : ''}
    ${sub.status === 'paused' ? action('resume', 'Resume subscription') : ''}
    ${!ended ? action('cancel_now', 'Cancel now', 'danger') : ''}
  </div>
  ${
    !ended && sub.status !== 'paused'
      ? alternativePrices(deps, price).map((alt) =>
          action(
            'switch',
            `Switch to ${alt.recurring?.interval === 'year' ? 'yearly' : alt.recurring?.interval === 'month' ? 'monthly' : (alt.recurring?.interval ?? '')} (${formatMoney(alt.unit_amount, alt.currency)} per ${alt.recurring?.interval ?? ''})`,
            'secondary',
            html`<input type="hidden" name="price" value="${alt.id}">`,
          ),
        )
      : ''
  }
</section>`;
}

function portalPage(
  deps: Deps,
  session: Stripe.BillingPortal.Session,
  notice?: string,
  error?: string,
): string {
  const { state } = deps.core;
  const customer = state.customers[session.customer];
  if (!customer)
    return page(
      'Billing',
      html`<section class="card"><h1>Billing</h1><p>This customer no longer exists.</p></section>`,
    );
  const subs = Object.values(state.subscriptions)
    .filter((s) => s.customer === customer.id)
    .reverse();
  const current = subs.filter((s) => s.status !== 'canceled' && s.status !== 'incomplete_expired');
  const shown = current.length > 0 ? current : subs.slice(0, 1);
  // The card that will be charged: the customer's default, else the current subscription's.
  const pmId = customer.invoice_settings.default_payment_method ?? current[0]?.default_payment_method;
  const pm = typeof pmId === 'string' ? state.paymentMethods[pmId] : undefined;
  const invoices = Object.values(state.invoices)
    .filter((i) => i.customer === customer.id && i.status !== 'draft')
    .reverse();
  const body = html`
<h1>Billing</h1>
<p class="muted">${customer.name ?? ''} ${customer.email ?? ''}</p>
${notice ? html`<p class="notice" role="status">${notice}</p>` : ''}
${error ? html`<p class="error" role="alert" id="form-error">${error}</p>` : ''}
${shown.length === 0 ? html`<section class="card"><p>No subscriptions.</p></section>` : shown.map((s) => subscriptionSection(deps, session.id, s))}
<section class="card" aria-labelledby="pm-title">
  <h2 id="pm-title">Payment method</h2>
  <p data-testid="payment-method">${pm?.card ? `${pm.card.brand.toUpperCase()} •••• ${pm.card.last4}, expires ${pm.card.exp_month}/${pm.card.exp_year}` : 'No payment method on file.'}</p>
  <details${error ? html` open` : ''}>
    <summary>Update payment method</summary>
    <form method="post" action="/portal/${session.id}/action" novalidate>
      ${cardFields({ name: customer.name ?? '' }, error ? 'cardNumber' : undefined)}
      <p><button type="submit" name="action" value="update_card">Save card</button></p>
    </form>
  </details>
</section>
<section class="card" aria-labelledby="invoices-title">
  <h2 id="invoices-title">Invoice history</h2>
  ${
    invoices.length === 0
      ? html`<p>No invoices yet.</p>`
      : html`<table><thead><tr><th scope="col">Date</th><th scope="col">Number</th><th scope="col">Amount</th><th scope="col">Status</th><th scope="col">Links</th></tr></thead><tbody>
      ${invoices.map(
        (
          inv,
        ) => html`<tr><td>${formatDate(inv.created)}</td><td>${inv.number ?? ''}</td><td>${formatMoney(inv.total, inv.currency)}</td><td>${statusBadge(inv.status)}</td>
        <td>${inv.hosted_invoice_url ? html`<a href="${inv.hosted_invoice_url}">View invoice ${inv.number ?? ''}</a> · <a href="${inv.invoice_pdf ?? ''}">PDF</a>` : ''}</td></tr>`,
      )}
      </tbody></table>`
  }
</section>
${session.return_url ? html`<p><a class="button secondary" href="${session.return_url}">← Return</a></p>` : ''}`;
  return page('Billing', body);
}

export function registerPortalPages(app: FastifyInstance, deps: Deps): void {
  const { core, engine } = deps;

  app.get<{ Params: { id: string }; Querystring: { notice?: string } }>('/portal/:id', (req, reply) => {
    const session = core.state.portalSessions[req.params.id];
    reply.type('text/html; charset=utf-8');
    if (!session)
      return reply
        .code(404)
        .send(
          page(
            'Not found',
            html`<section class="card"><h1>Not found</h1><p>No such portal session.</p></section>`,
          ),
        );
    return reply.send(portalPage(deps, session, NOTICES[req.query.notice ?? '']));
  });

  app.post<{ Params: { id: string } }>('/portal/:id/action', (req, reply) => {
    const session = core.state.portalSessions[req.params.id];
    reply.type('text/html; charset=utf-8');
    if (!session)
      return reply
        .code(404)
        .send(page('Not found', html`<section class="card"><h1>Not found</h1></section>`));
    const params = parseForm(typeof req.body === 'string' ? req.body : '');
    const action = field(params, 'action');
    const customer = core.state.customers[session.customer];
    const sub = core.state.subscriptions[field(params, 'subscription')];
    if (sub && sub.customer !== session.customer)
      return reply.code(403).send(portalPage(deps, session, undefined, 'Not allowed.'));
    const back = (notice: string) => reply.redirect(`/portal/${session.id}?notice=${notice}`, 303);
    try {
      if (action === 'update_card' && customer) {
        const at = core.now(customer.id);
        const pm = paymentMethodFromCard(
          deps,
          { number: field(params, 'cardNumber'), ...expiry(field(params, 'expiry')) },
          at,
          { email: customer.email, name: field(params, 'name') || null },
        );
        core.state.internal.authenticatedPaymentMethods[pm.id] = true; // entered on-session, with the customer present
        attachPaymentMethod(deps, pm, customer);
        const before = structuredClone(customer.invoice_settings);
        customer.invoice_settings.default_payment_method = pm.id;
        core.emit('customer.updated', customer, at, { invoice_settings: before });
        for (const s of Object.values(core.state.subscriptions)) {
          if (s.customer === customer.id && !['canceled', 'incomplete_expired'].includes(s.status)) {
            engine.updateSubscription(s, at, (x) => {
              x.default_payment_method = pm.id;
            });
          }
        }
        // Like Stripe's portal, a new card pays what is outstanding.
        let failed = false;
        for (const inv of Object.values(core.state.invoices)) {
          if (inv.customer !== customer.id || inv.status !== 'open') continue;
          const s = engine.subscriptionOf(inv);
          if (s && ['canceled', 'incomplete_expired'].includes(s.status)) continue;
          if (engine.payInvoice(inv, at, { onSession: true, paymentMethod: pm.id }).kind !== 'succeeded')
            failed = true;
        }
        return back(failed ? 'card_failed' : 'card');
      }
      if (!sub) return reply.code(400).send(portalPage(deps, session, undefined, 'Choose a subscription.'));
      const at = core.now(sub.customer as string);
      switch (action) {
        case 'cancel_at_period_end':
          engine.setCancelAtPeriodEnd(sub, at, true);
          return back('canceling');
        case 'renew':
          engine.setCancelAtPeriodEnd(sub, at, false);
          return back('renewed');
        case 'resume':
          engine.resumeSubscription(sub, at, true);
          return back('resumed');
        case 'cancel_now':
          engine.cancelSubscription(sub, at, 'cancellation_requested');
          return back('canceled');
        case 'switch': {
          const item = sub.items.data[0];
          if (!item) return back('switched');
          updateSubscription(
            deps,
            sub.id,
            { items: [{ id: item.id, price: field(params, 'price') }], proration_behavior: 'always_invoice' },
            true,
          );
          return back('switched');
        }
        default:
          return reply.code(400).send(portalPage(deps, session, undefined, 'Unknown action.'));
      }
    } catch (err) {
      if (err instanceof ApiError)
        return reply.code(400).send(portalPage(deps, session, undefined, err.message));
      throw err;
    }
  });
}

function expiry(value: string): { expMonth?: number; expYear?: number } {
  const match = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(value);
  if (!match) return {};
  const year = match[2]!.length === 2 ? 2000 + Number(match[2]) : Number(match[2]);
  return { expMonth: Number(match[1]), expYear: year };
}
