import type { FastifyInstance } from 'fastify';
import type Stripe from 'stripe';
import type { Deps } from '../api.ts';
import { type Params, parseForm } from '../form.ts';
import {
  type CheckoutCardInput,
  checkoutLineItems,
  checkSessionExpiry,
  completeCheckout,
} from '../resources/checkout.ts';
import { cardFields, formatMoney, html, page, type SafeHtml } from './html.ts';

function field(params: Params, key: string): string {
  const value = params[key];
  return typeof value === 'string' ? value : '';
}

function summary(deps: Deps, session: Stripe.Checkout.Session): SafeHtml {
  const internal = deps.core.state.internal.checkoutSessions[session.id];
  const trialDays = internal?.subscriptionData.trialPeriodDays ?? 0;
  const items = checkoutLineItems(deps, session);
  return html`${items.map((item) => {
    const interval = item.price?.recurring?.interval ?? 'month';
    const amount = formatMoney(item.amount_total, item.currency);
    return html`<div>
      <h1 id="plan-name">Subscribe to ${item.description}</h1>
      ${trialDays > 0 ? html`<p class="price">${trialDays} days free</p><p>Then ${amount} per ${interval}</p>` : html`<p class="price">${amount} <span class="muted">per ${interval}</span></p>`}
      ${(item.quantity ?? 1) > 1 ? html`<p class="muted">Quantity: ${item.quantity}</p>` : ''}
    </div>`;
  })}`;
}

function checkoutForm(
  deps: Deps,
  session: Stripe.Checkout.Session,
  error?: { message: string; field?: string },
  values: Partial<CheckoutCardInput> = {},
): string {
  const customer =
    typeof session.customer === 'string' ? deps.core.state.customers[session.customer] : undefined;
  const knownEmail = customer?.email ?? session.customer_email;
  const invalidEmail =
    error?.field === 'email' ? html` aria-invalid="true" aria-describedby="form-error" autofocus` : '';
  const trialDays =
    deps.core.state.internal.checkoutSessions[session.id]?.subscriptionData.trialPeriodDays ?? 0;
  const body = html`
<section class="card" aria-labelledby="plan-name">${summary(deps, session)}</section>
<section class="card">
  <h2>Pay with card</h2>
  ${error ? html`<p id="form-error" class="error" role="alert">${error.message}</p>` : ''}
  <form method="post" action="/checkout/${session.id}" novalidate>
    ${
      knownEmail
        ? html`<p>Email: <strong>${knownEmail}</strong></p>`
        : html`<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="email" required value="${values.email ?? ''}"${invalidEmail}>`
    }
    ${cardFields({ name: values.name }, error?.field)}
    ${session.allow_promotion_codes ? html`<label for="promotionCode">Promotion code (optional)</label><input id="promotionCode" name="promotionCode">` : ''}
    <p><button type="submit">${trialDays > 0 ? 'Start trial' : 'Subscribe'}</button></p>
  </form>
  ${session.cancel_url ? html`<p><a href="${session.cancel_url}">← Back</a></p>` : ''}
  <p class="muted">Test cards: 4242 4242 4242 4242 (pays), 4000 0000 0000 0341 (attaches, later charges fail),
  4000 0000 0000 9995 (declined), 4000 0025 0000 3155 (needs authentication).</p>
</section>`;
  return page('Checkout', body, { narrow: true });
}

function closedPage(session: Stripe.Checkout.Session): string {
  const message =
    session.status === 'complete'
      ? 'This Checkout Session is already complete.'
      : 'This Checkout Session has expired.';
  return page(
    'Checkout',
    html`<section class="card"><h1>Checkout</h1><p role="status">${message}</p>${session.cancel_url ? html`<p><a href="${session.cancel_url}">Return</a></p>` : ''}</section>`,
    { narrow: true },
  );
}

function notFound(): string {
  return page(
    'Not found',
    html`<section class="card"><h1>Not found</h1><p>No such Checkout Session.</p></section>`,
    { narrow: true },
  );
}

export function registerCheckoutPages(app: FastifyInstance, deps: Deps): void {
  // Card details waiting for the simulated 3-D Secure step; kept in memory only, never persisted.
  const awaitingAuthentication = new Map<string, CheckoutCardInput>();

  app.get<{ Params: { id: string } }>('/checkout/:id', (req, reply) => {
    const session = deps.core.state.checkoutSessions[req.params.id];
    reply.type('text/html; charset=utf-8');
    if (!session) return reply.code(404).send(notFound());
    checkSessionExpiry(deps, session);
    if (session.status !== 'open') return reply.send(closedPage(session));
    return reply.send(checkoutForm(deps, session));
  });

  app.post<{ Params: { id: string } }>('/checkout/:id', (req, reply) => {
    const session = deps.core.state.checkoutSessions[req.params.id];
    reply.type('text/html; charset=utf-8');
    if (!session) return reply.code(404).send(notFound());
    checkSessionExpiry(deps, session);
    if (session.status !== 'open') return reply.send(closedPage(session));
    const params = parseForm(typeof req.body === 'string' ? req.body : '');
    const input: CheckoutCardInput = {
      cardNumber: field(params, 'cardNumber'),
      expiry: field(params, 'expiry'),
      cvc: field(params, 'cvc'),
      name: field(params, 'name'),
      email: field(params, 'email'),
    };
    if (field(params, 'promotionCode').trim()) {
      return reply.code(400).send(checkoutForm(deps, session, { message: 'This code is invalid.' }, input));
    }
    const result = completeCheckout(deps, session, input, false);
    if (result.kind === 'completed') return reply.redirect(result.redirect, 303);
    if (result.kind === 'error') return reply.code(402).send(checkoutForm(deps, session, result, input));
    awaitingAuthentication.set(session.id, input);
    return reply.send(
      page(
        'Authenticate payment',
        html`<section class="card" aria-labelledby="auth-title">
  <h1 id="auth-title">Authenticate your payment</h1>
  <p>Your bank asks you to confirm this payment (3-D Secure test page).</p>
  <form method="post" action="/checkout/${session.id}/authenticate">
    <button type="submit" name="decision" value="complete">Complete authentication</button>
    <button type="submit" name="decision" value="fail" class="secondary">Fail authentication</button>
  </form>
</section>`,
        { narrow: true },
      ),
    );
  });

  app.post<{ Params: { id: string } }>('/checkout/:id/authenticate', (req, reply) => {
    const session = deps.core.state.checkoutSessions[req.params.id];
    reply.type('text/html; charset=utf-8');
    if (!session) return reply.code(404).send(notFound());
    const input = awaitingAuthentication.get(session.id);
    awaitingAuthentication.delete(session.id);
    const params = parseForm(typeof req.body === 'string' ? req.body : '');
    if (!input || session.status !== 'open') return reply.send(checkoutForm(deps, session));
    if (field(params, 'decision') !== 'complete') {
      return reply.code(402).send(
        checkoutForm(
          deps,
          session,
          {
            message:
              'We are unable to authenticate your payment method. Please choose a different payment method and try again.',
            field: 'cardNumber',
          },
          input,
        ),
      );
    }
    const result = completeCheckout(deps, session, input, true);
    if (result.kind === 'completed') return reply.redirect(result.redirect, 303);
    if (result.kind === 'error') return reply.code(402).send(checkoutForm(deps, session, result, input));
    return reply.send(checkoutForm(deps, session));
  });
}
