/**
 * Collecting an invoice: which payment method, what its card does, the PaymentIntent that records
 * the attempt, and what the outcome does to the invoice, the customer and the subscription.
 */
import type Stripe from 'stripe';
import { behaviourForLast4, type ChargeOutcome, chargeOutcome } from '../cards.ts';
import type { Core } from '../core.ts';
import { buildInvoicePayment, buildPaymentIntent } from '../objects/payments.ts';
import { nextRetryAt, retriesExhausted } from './dunning.ts';
import { subscriptionOf, updateInvoice, updateSubscription } from './shared.ts';

export function paymentMethodFor(core: Core, inv: Stripe.Invoice, explicit?: string | null): string | null {
  if (explicit) return explicit;
  if (typeof inv.default_payment_method === 'string') return inv.default_payment_method;
  const subId = inv.parent?.subscription_details?.subscription;
  const sub = typeof subId === 'string' ? core.state.subscriptions[subId] : undefined;
  if (sub && typeof sub.default_payment_method === 'string') return sub.default_payment_method;
  const customer = typeof inv.customer === 'string' ? core.state.customers[inv.customer] : undefined;
  const fallback = customer?.invoice_settings.default_payment_method;
  return typeof fallback === 'string' ? fallback : null;
}

export function outcomeFor(core: Core, paymentMethodId: string | null, onSession: boolean): ChargeOutcome {
  if (!paymentMethodId) {
    return {
      kind: 'failed',
      code: 'invoice_payment_method_missing',
      declineCode: 'no_payment_method',
      message: 'The customer has no payment method to charge.',
    };
  }
  const pm = core.state.paymentMethods[paymentMethodId];
  const behaviour = behaviourForLast4(pm?.card?.last4);
  const authenticated =
    onSession || core.state.internal.authenticatedPaymentMethods[paymentMethodId] === true;
  return chargeOutcome(behaviour, authenticated);
}

/**
 * Attempts to collect an open invoice. Emits invoice.paid + invoice.payment_succeeded, or
 * invoice.payment_failed / invoice.payment_action_required, then moves the subscription's status.
 */
export function payInvoice(
  core: Core,
  inv: Stripe.Invoice,
  at: number,
  opts: { onSession: boolean; paymentMethod?: string | null },
): ChargeOutcome {
  const pmId = paymentMethodFor(core, inv, opts.paymentMethod);
  const outcome =
    inv.amount_remaining <= 0 ? ({ kind: 'succeeded' } as const) : outcomeFor(core, pmId, opts.onSession);
  const sub = subscriptionOf(core, inv);
  const customer = typeof inv.customer === 'string' ? core.state.customers[inv.customer] : undefined;
  if (inv.amount_remaining > 0) recordPaymentAttempt(core, inv, pmId, outcome, at);
  if (outcome.kind === 'succeeded') {
    if (opts.onSession && pmId) core.state.internal.authenticatedPaymentMethods[pmId] = true;
    updateInvoice(core, inv, (i) => {
      if (i.amount_remaining > 0) {
        i.attempted = true;
        i.attempt_count += 1;
      }
      i.amount_paid = i.amount_due;
      i.amount_remaining = 0;
      i.status = 'paid';
      i.next_payment_attempt = null;
      i.status_transitions.paid_at = at;
      i.auto_advance = false;
    });
    core.emit('invoice.paid', inv, at);
    core.emit('invoice.payment_succeeded', inv, at);
    if (customer?.delinquent) customer.delinquent = false;
    if (sub && ['incomplete', 'past_due', 'unpaid'].includes(sub.status) && allCyclePaid(core, sub)) {
      updateSubscription(core, sub, at, (s) => {
        s.status = 'active';
      });
    }
    return outcome;
  }
  const isFirstInvoice = inv.billing_reason === 'subscription_create';
  updateInvoice(core, inv, (i) => {
    i.attempted = true;
    i.attempt_count += 1;
    // An attempt made with the customer present (Portal, invoice page) leaves the retry schedule as it was.
    i.next_payment_attempt = isFirstInvoice
      ? null
      : opts.onSession
        ? i.next_payment_attempt
        : nextRetryAt(core, i);
  });
  if (customer) customer.delinquent = true;
  if (outcome.kind === 'requires_action') {
    core.emit('invoice.payment_action_required', inv, at);
  } else {
    core.emit('invoice.payment_failed', inv, at);
  }
  if (sub && !isFirstInvoice && (sub.status === 'active' || sub.status === 'trialing')) {
    updateSubscription(core, sub, at, (s) => {
      s.status = 'past_due';
    });
  }
  if (sub && !isFirstInvoice && inv.next_payment_attempt === null && !opts.onSession) {
    retriesExhausted(core, sub, inv, at);
  }
  return outcome;
}

/**
 * The invoice's PaymentIntent and InvoicePayment (one per invoice, reused by retries), brought
 * in line with this attempt's outcome.
 */
function recordPaymentAttempt(
  core: Core,
  inv: Stripe.Invoice,
  pmId: string | null,
  outcome: ChargeOutcome,
  at: number,
): void {
  let payment = Object.values(core.state.invoicePayments).find((p) => p.invoice === inv.id && p.is_default);
  let intent =
    payment && typeof payment.payment.payment_intent === 'string'
      ? core.state.paymentIntents[payment.payment.payment_intent]
      : undefined;
  if (!intent) {
    intent = buildPaymentIntent({
      amount: inv.amount_remaining,
      currency: inv.currency,
      customer: inv.customer as string,
      created: at,
      description:
        inv.billing_reason === 'subscription_create' ? 'Subscription creation' : 'Subscription update',
    });
    core.state.paymentIntents[intent.id] = intent;
    payment = buildInvoicePayment(inv, intent.id, at);
    core.state.invoicePayments[payment.id] = payment;
  }
  intent.payment_method = pmId;
  intent.next_action = null;
  intent.last_payment_error = null;
  if (outcome.kind === 'succeeded') {
    intent.status = 'succeeded';
    intent.amount_received = intent.amount;
    if (payment) {
      payment.status = 'paid';
      payment.amount_paid = intent.amount;
      payment.status_transitions.paid_at = at;
    }
  } else if (outcome.kind === 'requires_action') {
    intent.status = 'requires_action';
    intent.next_action = { type: 'use_stripe_sdk' };
  } else {
    intent.status = 'requires_payment_method';
    intent.last_payment_error = {
      type: 'card_error',
      code: outcome.code,
      decline_code: outcome.declineCode,
      message: outcome.message,
    };
  }
}

function allCyclePaid(core: Core, sub: Stripe.Subscription): boolean {
  return !Object.values(core.state.invoices).some(
    (i) => i.status === 'open' && i.parent?.subscription_details?.subscription === sub.id,
  );
}
