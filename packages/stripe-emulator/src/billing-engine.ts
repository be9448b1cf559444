import { formatMoney } from '@tierbase/contracts/money';
/**
 * Invoicing, payments, renewals, retries and time: everything that makes money move.
 * Mutates the store and emits events in the order Stripe emits them; knows nothing of HTTP.
 */
import type Stripe from 'stripe';
import { behaviourForLast4, type ChargeOutcome, chargeOutcome } from './cards.ts';
import { addInterval, SECONDS, wallNow } from './clock.ts';
import { type Core, previousAttributes } from './core.ts';
import { cardError } from './errors.ts';
import { newId } from './ids.ts';
import {
  buildInvoice,
  buildInvoiceLine,
  buildInvoicePayment,
  buildPaymentIntent,
  buildProrationInvoiceItem,
  buildSubscription,
  buildSubscriptionItem,
  emptyList,
  type InvoiceLineSpec,
  planFromPrice,
} from './objects.ts';
import type { PendingLine, SubscriptionInternal } from './store.ts';

/** Stripe's default smart-retry policy: 8 tries within 2 weeks (the first attempt plus 7 retries). */
export const DEFAULT_RETRY_SCHEDULE = [1, 3, 5, 7, 9, 11, 14].map((days) => days * SECONDS.day);

/** A renewal invoice stays a draft this long before it is finalized and charged. */
export const DRAFT_PERIOD = SECONDS.hour;
/** An incomplete subscription whose first invoice is unpaid expires after this long. */
export const INCOMPLETE_EXPIRY = 23 * SECONDS.hour;
export const TRIAL_WILL_END_LEAD = 3 * SECONDS.day;

export type PaymentBehavior = 'allow_incomplete' | 'error_if_incomplete' | 'default_incomplete';
export type ProrationBehavior = 'create_prorations' | 'always_invoice' | 'none';

export interface NewSubscription {
  customer: string;
  items: { price: Stripe.Price; quantity: number }[];
  trialEnd: number | null;
  defaultPaymentMethod: string | null;
  metadata: Record<string, string>;
  paymentBehavior: PaymentBehavior;
  cancelAtPeriodEnd: boolean;
  missingPaymentMethod: 'cancel' | 'create_invoice' | 'pause';
  /** Payments made while the customer is present (Checkout, hosted pages) are on-session. */
  onSession: boolean;
}

export interface ItemChange {
  id?: string;
  price?: Stripe.Price;
  quantity?: number;
  deleted?: boolean;
}

export interface ChangePlan {
  nextItems: Stripe.SubscriptionItem[];
  /** Proration lines (empty with `none`, while trialing, or when nothing changed). */
  lines: PendingLine[];
  /** An interval change (not while trialing): the billing cycle restarts now. */
  intervalChanged: boolean;
  newPeriodEnd: number;
  /** Whether the change is invoiced now rather than on the next renewal. */
  invoiceNow: boolean;
}

interface DueAction {
  at: number;
  order: number; // tie-break between actions due at the same second
  run: () => void;
}

function money(amount: number, currency: string): string {
  return formatMoney(amount, currency, { locale: 'en-US' });
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Stripe's date in proration descriptions: "09 Apr 2022" (UTC; not the locale's "Sept"). */
function shortDate(at: number): string {
  const date = new Date(at * 1000);
  const day = String(date.getUTCDate()).padStart(2, '0');
  return `${day} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

export class BillingEngine {
  constructor(private readonly core: Core) {}

  private get state() {
    return this.core.state;
  }

  private internalOf(subscriptionId: string): SubscriptionInternal {
    const internal = this.state.internal.subscriptions;
    internal[subscriptionId] ??= { trialWillEndSent: false, pendingLines: [] };
    return internal[subscriptionId];
  }

  productName(price: Stripe.Price): string {
    const productId = typeof price.product === 'string' ? price.product : price.product.id;
    return this.state.products[productId]?.name ?? productId;
  }

  /** Applies `mutate` to a subscription and emits `customer.subscription.updated` if anything changed. */
  updateSubscription(
    sub: Stripe.Subscription,
    at: number,
    mutate: (sub: Stripe.Subscription) => void,
    eventType: Stripe.Event.Type = 'customer.subscription.updated',
  ): void {
    const before = structuredClone(sub);
    mutate(sub);
    const previous = previousAttributes(before, sub);
    // Only `.updated` events carry previous_attributes; deleted/paused/resumed carry the object alone.
    if (eventType !== 'customer.subscription.updated') this.core.emit(eventType, sub, at);
    else if (Object.keys(previous).length > 0) this.core.emit(eventType, sub, at, previous);
    this.core.store.changed();
  }

  private updateInvoice(inv: Stripe.Invoice, mutate: (inv: Stripe.Invoice) => void): void {
    mutate(inv);
    this.core.store.changed();
  }

  // ---------------------------------------------------------------- payments

  paymentMethodFor(inv: Stripe.Invoice, explicit?: string | null): string | null {
    if (explicit) return explicit;
    if (typeof inv.default_payment_method === 'string') return inv.default_payment_method;
    const subId = inv.parent?.subscription_details?.subscription;
    const sub = typeof subId === 'string' ? this.state.subscriptions[subId] : undefined;
    if (sub && typeof sub.default_payment_method === 'string') return sub.default_payment_method;
    const customer = typeof inv.customer === 'string' ? this.state.customers[inv.customer] : undefined;
    const fallback = customer?.invoice_settings.default_payment_method;
    return typeof fallback === 'string' ? fallback : null;
  }

  outcomeFor(paymentMethodId: string | null, onSession: boolean): ChargeOutcome {
    if (!paymentMethodId) {
      return {
        kind: 'failed',
        code: 'invoice_payment_method_missing',
        declineCode: 'no_payment_method',
        message: 'The customer has no payment method to charge.',
      };
    }
    const pm = this.state.paymentMethods[paymentMethodId];
    const behaviour = behaviourForLast4(pm?.card?.last4);
    const authenticated =
      onSession || this.state.internal.authenticatedPaymentMethods[paymentMethodId] === true;
    return chargeOutcome(behaviour, authenticated);
  }

  /**
   * Attempts to collect an open invoice. Emits invoice.paid + invoice.payment_succeeded, or
   * invoice.payment_failed / invoice.payment_action_required, then moves the subscription's status.
   */
  payInvoice(
    inv: Stripe.Invoice,
    at: number,
    opts: { onSession: boolean; paymentMethod?: string | null },
  ): ChargeOutcome {
    const pmId = this.paymentMethodFor(inv, opts.paymentMethod);
    const outcome =
      inv.amount_remaining <= 0 ? ({ kind: 'succeeded' } as const) : this.outcomeFor(pmId, opts.onSession);
    const sub = this.subscriptionOf(inv);
    const customer = typeof inv.customer === 'string' ? this.state.customers[inv.customer] : undefined;
    if (inv.amount_remaining > 0) this.recordPaymentAttempt(inv, pmId, outcome, at);
    if (outcome.kind === 'succeeded') {
      if (opts.onSession && pmId) this.state.internal.authenticatedPaymentMethods[pmId] = true;
      this.updateInvoice(inv, (i) => {
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
      this.core.emit('invoice.paid', inv, at);
      this.core.emit('invoice.payment_succeeded', inv, at);
      if (customer?.delinquent) customer.delinquent = false;
      if (sub && ['incomplete', 'past_due', 'unpaid'].includes(sub.status) && this.allCyclePaid(sub)) {
        this.updateSubscription(sub, at, (s) => {
          s.status = 'active';
        });
      }
      return outcome;
    }
    const isFirstInvoice = inv.billing_reason === 'subscription_create';
    this.updateInvoice(inv, (i) => {
      i.attempted = true;
      i.attempt_count += 1;
      // An attempt made with the customer present (Portal, invoice page) leaves the retry schedule as it was.
      i.next_payment_attempt = isFirstInvoice
        ? null
        : opts.onSession
          ? i.next_payment_attempt
          : this.nextRetryAt(i);
    });
    if (customer) customer.delinquent = true;
    if (outcome.kind === 'requires_action') {
      this.core.emit('invoice.payment_action_required', inv, at);
    } else {
      this.core.emit('invoice.payment_failed', inv, at);
    }
    if (sub && !isFirstInvoice && (sub.status === 'active' || sub.status === 'trialing')) {
      this.updateSubscription(sub, at, (s) => {
        s.status = 'past_due';
      });
    }
    if (sub && !isFirstInvoice && inv.next_payment_attempt === null && !opts.onSession) {
      this.retriesExhausted(sub, inv, at);
    }
    return outcome;
  }

  /**
   * The invoice's PaymentIntent and InvoicePayment (one per invoice, reused by retries), brought
   * in line with this attempt's outcome.
   */
  private recordPaymentAttempt(
    inv: Stripe.Invoice,
    pmId: string | null,
    outcome: ChargeOutcome,
    at: number,
  ): void {
    let payment = Object.values(this.state.invoicePayments).find((p) => p.invoice === inv.id && p.is_default);
    let intent =
      payment && typeof payment.payment.payment_intent === 'string'
        ? this.state.paymentIntents[payment.payment.payment_intent]
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
      this.state.paymentIntents[intent.id] = intent;
      payment = buildInvoicePayment(inv, intent.id, at);
      this.state.invoicePayments[payment.id] = payment;
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

  /** Retry times are offsets from the invoice's finalization; none left means exhausted. */
  private nextRetryAt(inv: Stripe.Invoice): number | null {
    const base = inv.status_transitions.finalized_at ?? inv.created;
    const offset = this.core.options.retrySchedule[inv.attempt_count - 1];
    return offset === undefined ? null : base + offset;
  }

  private retriesExhausted(sub: Stripe.Subscription, _inv: Stripe.Invoice, at: number): void {
    const action = this.core.options.finalAction;
    if (action === 'cancel') {
      this.cancelSubscription(sub, at, 'payment_failed');
    } else if (action === 'unpaid' && sub.status !== 'unpaid') {
      this.updateSubscription(sub, at, (s) => {
        s.status = 'unpaid';
      });
    }
  }

  private allCyclePaid(sub: Stripe.Subscription): boolean {
    return !Object.values(this.state.invoices).some(
      (i) => i.status === 'open' && i.parent?.subscription_details?.subscription === sub.id,
    );
  }

  subscriptionOf(inv: Stripe.Invoice): Stripe.Subscription | undefined {
    const subId = inv.parent?.subscription_details?.subscription;
    return typeof subId === 'string' ? this.state.subscriptions[subId] : undefined;
  }

  // ---------------------------------------------------------------- invoices

  private createInvoice(
    sub: Stripe.Subscription,
    lines: InvoiceLineSpec[],
    reason: Stripe.Invoice.BillingReason,
    at: number,
    periodStart: number,
    periodEnd: number,
  ): Stripe.Invoice {
    const customerId = typeof sub.customer === 'string' ? sub.customer : sub.customer.id;
    const customer = this.state.customers[customerId];
    const id = newId('in');
    const lineItems = lines.map((line) => buildInvoiceLine(id, sub.id, line));
    for (const line of lines) {
      const invoiceItem = line.invoiceItem ? this.state.invoiceItems[line.invoiceItem] : undefined;
      if (invoiceItem) invoiceItem.invoice = id;
    }
    const total = lines.reduce((sum, line) => sum + line.amount, 0);
    const inv = buildInvoice({
      id,
      customer: customerId,
      created: at,
      currency: sub.currency,
      test_clock: typeof sub.test_clock === 'string' ? sub.test_clock : null,
      billing_reason: reason,
      customer_email: customer?.email ?? null,
      customer_name: customer?.name ?? null,
      lines: emptyList(`/v1/invoices/${id}/lines`, lineItems),
      parent: {
        type: 'subscription_details',
        quote_details: null,
        subscription_details: { metadata: { ...sub.metadata }, subscription: sub.id },
      },
      period_start: periodStart,
      period_end: periodEnd,
      subtotal: total,
      subtotal_excluding_tax: total,
      total,
      total_excluding_tax: total,
      amount_due: Math.max(0, total),
      amount_remaining: Math.max(0, total),
    });
    this.state.invoices[id] = inv;
    sub.latest_invoice = id;
    this.core.store.changed();
    return inv;
  }

  /** Draft → open: numbers the invoice, applies the customer's balance, sets its hosted URLs. */
  finalizeInvoice(inv: Stripe.Invoice, at: number): void {
    const customerId = typeof inv.customer === 'string' ? inv.customer : '';
    const customer = this.state.customers[customerId];
    const seq = customer?.next_invoice_sequence ?? 1;
    if (customer) customer.next_invoice_sequence = seq + 1;
    // The customer's balance (negative is a credit) is applied to what is due; an invoice that nets
    // to a credit (a downgrade's proration) adds to the credit instead.
    const balance = customer?.balance ?? 0;
    const amountDue = inv.total < 0 ? 0 : Math.max(0, inv.total + balance);
    const endingBalance = inv.total < 0 ? balance + inv.total : Math.min(0, inv.total + balance);
    if (customer) customer.balance = endingBalance;
    this.updateInvoice(inv, (i) => {
      i.status = 'open';
      i.number = `${customer?.invoice_prefix ?? 'EMU'}-${String(seq).padStart(4, '0')}`;
      i.status_transitions.finalized_at = at;
      i.effective_at = at;
      i.automatically_finalizes_at = null;
      i.starting_balance = balance;
      i.ending_balance = endingBalance;
      i.amount_due = amountDue;
      i.amount_remaining = amountDue;
      i.hosted_invoice_url = `${this.core.baseUrl}/invoices/${i.id}`;
      i.invoice_pdf = `${this.core.baseUrl}/invoices/${i.id}/pdf`;
    });
    this.core.emit('invoice.finalized', inv, at);
  }

  /** Finalizes and, with auto_advance, collects: the hour-later step of a renewal. */
  private advanceDraft(inv: Stripe.Invoice, at: number): void {
    const sub = this.subscriptionOf(inv);
    const pause = sub?.pause_collection;
    this.finalizeInvoice(inv, at);
    if (pause?.behavior === 'void') this.voidInvoice(inv, at);
    else if (pause?.behavior === 'mark_uncollectible') this.markUncollectible(inv, at);
    else this.payInvoice(inv, at, { onSession: false });
  }

  voidInvoice(inv: Stripe.Invoice, at: number): void {
    for (const payment of Object.values(this.state.invoicePayments)) {
      if (payment.invoice !== inv.id || payment.status !== 'open') continue;
      payment.status = 'canceled';
      payment.status_transitions.canceled_at = at;
      const intent = this.state.paymentIntents[payment.payment.payment_intent as string];
      if (intent) {
        intent.status = 'canceled';
        intent.canceled_at = at;
        intent.cancellation_reason = 'void_invoice';
      }
    }
    this.updateInvoice(inv, (i) => {
      i.status = 'void';
      i.amount_remaining = 0;
      i.next_payment_attempt = null;
      i.auto_advance = false;
      i.status_transitions.voided_at = at;
    });
    this.core.emit('invoice.voided', inv, at);
  }

  private markUncollectible(inv: Stripe.Invoice, at: number): void {
    this.updateInvoice(inv, (i) => {
      i.status = 'uncollectible';
      i.next_payment_attempt = null;
      i.auto_advance = false;
      i.status_transitions.marked_uncollectible_at = at;
    });
    this.core.emit('invoice.marked_uncollectible', inv, at);
  }

  private itemLines(
    items: Stripe.SubscriptionItem[],
    start: number,
    end: number,
    trial: boolean,
  ): InvoiceLineSpec[] {
    return items.map((item) => {
      const quantity = item.quantity ?? 1;
      const unit = item.price.unit_amount ?? 0;
      const name = this.productName(item.price);
      const interval = item.price.recurring?.interval ?? 'month';
      return {
        description: trial
          ? `Trial period for ${name}`
          : `${quantity} × ${name} (at ${money(unit, item.price.currency)} / ${interval})`,
        amount: trial ? 0 : unit * quantity,
        price: item.price,
        quantity,
        periodStart: start,
        periodEnd: end,
        proration: false,
        subscriptionItem: item.id,
      };
    });
  }

  private pendingToLines(pending: PendingLine[], sub: Stripe.Subscription): InvoiceLineSpec[] {
    return pending.flatMap((line) => {
      const price = this.state.prices[line.priceId];
      if (!price) return [];
      const item =
        sub.items.data.find((i) => i.id === line.subscriptionItem) ??
        sub.items.data.find((i) => i.price.id === line.priceId);
      return [
        {
          description: line.description,
          amount: line.amount,
          price,
          quantity: line.quantity ?? 1,
          periodStart: line.periodStart,
          periodEnd: line.periodEnd,
          proration: line.proration,
          subscriptionItem: line.subscriptionItem ?? item?.id ?? null,
          invoiceItem: line.invoiceItem ?? null,
          creditedItems:
            line.credits && 'invoice' in line.credits
              ? { invoice: line.credits.invoice, invoice_line_items: line.credits.lines }
              : null,
        },
      ];
    });
  }

  // ---------------------------------------------------------------- subscriptions

  /**
   * Creates a subscription and its first invoice. Emits customer.subscription.created, then the
   * invoice's created/finalized/paid/payment_succeeded (or payment_failed), then the status update.
   */
  createSubscription(input: NewSubscription): Stripe.Subscription {
    const customer = this.state.customers[input.customer]!;
    const at = this.core.now(input.customer);
    const first = input.items[0]!.price;
    const recurring = first.recurring ?? { interval: 'month', interval_count: 1 };
    const trialing = input.trialEnd !== null && input.trialEnd > at;
    const periodEnd = trialing
      ? input.trialEnd!
      : addInterval(at, recurring.interval, recurring.interval_count);
    const pmId =
      input.defaultPaymentMethod ?? (customer.invoice_settings.default_payment_method as string | null);
    const total = input.items.reduce((sum, item) => sum + (item.price.unit_amount ?? 0) * item.quantity, 0);
    if (!trialing && total > 0 && input.paymentBehavior === 'error_if_incomplete') {
      // Stripe creates nothing when the first payment fails under error_if_incomplete.
      const outcome = this.outcomeFor(pmId, input.onSession);
      if (outcome.kind === 'failed') throw cardError(outcome.message, outcome.declineCode, outcome.code);
      if (outcome.kind === 'requires_action') {
        throw cardError(
          'This payment requires authentication.',
          'authentication_required',
          'authentication_required',
        );
      }
    }
    const sub = buildSubscription({
      customer: input.customer,
      created: at,
      currency: first.currency,
      status: trialing ? 'trialing' : 'incomplete',
      test_clock: typeof customer.test_clock === 'string' ? customer.test_clock : null,
      default_payment_method: input.defaultPaymentMethod,
      metadata: input.metadata,
      trial_start: trialing ? at : null,
      trial_end: trialing ? input.trialEnd : null,
      cancel_at_period_end: input.cancelAtPeriodEnd,
      cancel_at: input.cancelAtPeriodEnd ? periodEnd : null,
      trial_settings: {
        end_behavior: { billing_cycle_anchor: null, missing_payment_method: input.missingPaymentMethod },
      },
    });
    sub.items.data = input.items.map((item) =>
      buildSubscriptionItem(sub.id, item.price, item.quantity, at, at, periodEnd),
    );
    this.state.subscriptions[sub.id] = sub;
    this.internalOf(sub.id);
    const inv = this.createInvoice(
      sub,
      this.itemLines(sub.items.data, at, periodEnd, trialing),
      'subscription_create',
      at,
      at,
      periodEnd,
    );
    this.core.emit('customer.subscription.created', sub, at);
    this.core.emit('invoice.created', inv, at);
    this.finalizeInvoice(inv, at);
    if (inv.amount_due === 0) {
      this.payInvoice(inv, at, { onSession: input.onSession });
    } else if (input.paymentBehavior !== 'default_incomplete') {
      this.payInvoice(inv, at, { onSession: input.onSession, paymentMethod: pmId });
    }
    if (trialing) this.maybeTrialWillEnd(sub, at);
    return sub;
  }

  /** customer.subscription.trial_will_end, 3 days before the trial ends (at once for shorter trials). */
  private maybeTrialWillEnd(sub: Stripe.Subscription, at: number): void {
    const internal = this.internalOf(sub.id);
    if (sub.status !== 'trialing' || internal.trialWillEndSent || sub.trial_end === null) return;
    if (at < sub.trial_end - TRIAL_WILL_END_LEAD) return;
    internal.trialWillEndSent = true;
    this.core.emit('customer.subscription.trial_will_end', sub, at);
  }

  cancelSubscription(
    sub: Stripe.Subscription,
    at: number,
    reason: 'cancellation_requested' | 'payment_failed',
  ): void {
    if (sub.status === 'canceled' || sub.status === 'incomplete_expired') return;
    this.updateSubscription(
      sub,
      at,
      (s) => {
        s.status = 'canceled';
        s.canceled_at = s.canceled_at ?? at;
        s.ended_at = at;
        s.cancel_at = s.cancel_at ?? null;
        s.cancellation_details = { comment: null, feedback: null, feedback_option: null, reason };
      },
      'customer.subscription.deleted',
    );
    // Nothing more is collected for an ended subscription: stop retries and drop its drafts' auto-advance.
    for (const inv of Object.values(this.state.invoices)) {
      if (inv.parent?.subscription_details?.subscription !== sub.id) continue;
      if (inv.status === 'open') inv.next_payment_attempt = null;
      if (inv.status === 'draft') inv.auto_advance = false;
    }
  }

  setCancelAtPeriodEnd(sub: Stripe.Subscription, at: number, value: boolean): void {
    this.updateSubscription(sub, at, (s) => {
      s.cancel_at_period_end = value;
      s.cancel_at = value ? (s.items.data[0]?.current_period_end ?? null) : null;
      s.canceled_at = value ? at : null;
      s.cancellation_details = {
        comment: null,
        feedback: null,
        feedback_option: null,
        reason: value ? 'cancellation_requested' : null,
      };
    });
  }

  /** Resumes a paused subscription: a new period starts now and is invoiced at once. */
  resumeSubscription(sub: Stripe.Subscription, at: number, onSession: boolean): void {
    const periodEnd = this.periodEndFrom(sub, at);
    this.updateSubscription(
      sub,
      at,
      (s) => {
        s.status = 'active';
        s.billing_cycle_anchor = at;
        for (const item of s.items.data) {
          item.current_period_start = at;
          item.current_period_end = periodEnd;
        }
      },
      'customer.subscription.resumed',
    );
    const inv = this.createInvoice(
      sub,
      this.itemLines(sub.items.data, at, periodEnd, false),
      'subscription_update',
      at,
      at,
      periodEnd,
    );
    this.core.emit('invoice.created', inv, at);
    this.finalizeInvoice(inv, at);
    this.payInvoice(inv, at, { onSession });
  }

  private periodEndFrom(sub: Stripe.Subscription, start: number): number {
    const recurring = sub.items.data[0]?.price.recurring;
    return addInterval(start, recurring?.interval ?? 'month', recurring?.interval_count ?? 1);
  }

  /**
   * What an item change (price switch, quantity) would do, without doing it: the items after the
   * change and the proration lines, computed as Stripe does: for each changed item, a credit for the
   * unused time on the old price × quantity and a charge for the remaining time on the new one, each
   * `unit_amount × quantity × (period_end − proration_date) / (period_end − period_start)` rounded
   * to the minor unit. Nothing is prorated while trialing (nothing was charged) or with `none`.
   * An interval change (monthly ↔ yearly) resets the billing cycle: the new price is charged in full.
   */
  planChange(
    sub: Stripe.Subscription,
    changes: ItemChange[],
    proration: ProrationBehavior,
    at: number,
    prorationDate: number = at,
  ): ChangePlan {
    const oldItems = structuredClone(sub.items.data);
    const periodStart = oldItems[0]?.current_period_start ?? at;
    const periodEnd = oldItems[0]?.current_period_end ?? at;
    const fraction =
      periodEnd > periodStart
        ? Math.max(0, Math.min(1, (periodEnd - prorationDate) / (periodEnd - periodStart)))
        : 0;
    const oldInterval = oldItems[0]?.price.recurring?.interval;
    const lines: PendingLine[] = [];
    const nextItems = structuredClone(sub.items.data);
    for (const change of changes) {
      const existing = change.id ? nextItems.find((i) => i.id === change.id) : undefined;
      if (existing && change.deleted) {
        nextItems.splice(nextItems.indexOf(existing), 1);
        continue;
      }
      if (existing) {
        if (change.price && change.price.id !== existing.price.id) {
          existing.price = change.price;
          existing.plan = planFromPrice(change.price);
        }
        if (change.quantity !== undefined) existing.quantity = change.quantity;
      } else if (change.price) {
        nextItems.push(
          buildSubscriptionItem(sub.id, change.price, change.quantity ?? 1, at, periodStart, periodEnd),
        );
      }
    }
    const newInterval = nextItems[0]?.price.recurring?.interval;
    const intervalChanged =
      oldInterval !== undefined && newInterval !== undefined && oldInterval !== newInterval;
    const prorate =
      proration !== 'none' && (sub.status === 'active' || sub.status === 'past_due') && fraction > 0;
    const after = shortDate(prorationDate);
    const line = (kind: 'Unused' | 'Remaining', item: Stripe.SubscriptionItem): PendingLine => {
      const quantity = item.quantity ?? 1;
      const amount = Math.round((item.price.unit_amount ?? 0) * quantity * fraction);
      // Stripe names the quantity only when it is more than one: "Unused time on 20 × Seats after …".
      const what =
        quantity === 1 ? this.productName(item.price) : `${quantity} × ${this.productName(item.price)}`;
      const credits = kind === 'Unused' ? this.debitOf(sub, item.id) : undefined;
      return {
        ...(credits ? { credits } : {}),
        description: `${kind} time on ${what} after ${after}`,
        amount: kind === 'Unused' ? -amount : amount,
        priceId: item.price.id,
        periodStart: prorationDate,
        periodEnd,
        proration: true,
        quantity,
        subscriptionItem: item.id,
      };
    };
    if (prorate) {
      for (const old of oldItems) {
        const now = nextItems.find((i) => i.id === old.id);
        if (now && now.price.id === old.price.id && (now.quantity ?? 1) === (old.quantity ?? 1)) continue;
        lines.push(line('Unused', old));
        if (now && !intervalChanged) lines.push(line('Remaining', now));
      }
      if (!intervalChanged) {
        for (const added of nextItems.filter((i) => !oldItems.some((o) => o.id === i.id))) {
          lines.push(line('Remaining', added));
        }
      }
    }
    const newPeriodEnd = intervalChanged
      ? this.periodEndFrom({ ...sub, items: { ...sub.items, data: nextItems } }, at)
      : periodEnd;
    const trialing = sub.status === 'trialing';
    return {
      nextItems,
      lines,
      intervalChanged: intervalChanged && !trialing,
      newPeriodEnd,
      invoiceNow: !trialing && (intervalChanged || (proration === 'always_invoice' && lines.length > 0)),
    };
  }

  /**
   * Changes items. The proration lines wait for the next invoice (create_prorations) or are
   * invoiced and charged now (always_invoice, or any interval change); `none` makes none.
   */
  changeItems(
    sub: Stripe.Subscription,
    changes: ItemChange[],
    proration: ProrationBehavior,
    at: number,
    onSession: boolean,
    extraMutation?: (s: Stripe.Subscription) => void,
    prorationDate: number = at,
    errorIfIncomplete = false,
  ): void {
    const plan = this.planChange(sub, changes, proration, at, prorationDate);
    if (errorIfIncomplete && plan.invoiceNow) this.refuseUnpayable(sub, plan, at, onSession);
    this.updateSubscription(sub, at, (s) => {
      s.items.data = plan.nextItems;
      if (plan.intervalChanged) {
        s.billing_cycle_anchor = at;
        for (const item of s.items.data) {
          item.current_period_start = at;
          item.current_period_end = plan.newPeriodEnd;
        }
        if (s.cancel_at_period_end) s.cancel_at = plan.newPeriodEnd;
      }
      extraMutation?.(s);
    });
    if (sub.status === 'trialing') return;
    this.recordProrations(sub, plan.lines, at);
    if (!plan.invoiceNow) {
      this.internalOf(sub.id).pendingLines.push(...plan.lines);
      return;
    }
    const pending = this.internalOf(sub.id).pendingLines.splice(0);
    const invoiceLines = [
      ...this.pendingToLines([...pending, ...plan.lines], sub),
      ...(plan.intervalChanged ? this.itemLines(sub.items.data, at, plan.newPeriodEnd, false) : []),
    ];
    if (invoiceLines.length === 0) return;
    const inv = this.createInvoice(sub, invoiceLines, 'subscription_update', at, at, plan.newPeriodEnd);
    this.core.emit('invoice.created', inv, at);
    this.finalizeInvoice(inv, at);
    this.payInvoice(inv, at, { onSession });
  }

  /**
   * The latest debit for a subscription item, which a credit proration reverses: a pending
   * proration charge not yet invoiced, or else its lines on the latest invoice that charged it.
   */
  private debitOf(
    sub: Stripe.Subscription,
    itemId: string,
  ): { invoice: string; lines: string[] } | { invoiceItem: string } | undefined {
    const pending = this.internalOf(sub.id).pendingLines.findLast(
      (line) => line.subscriptionItem === itemId && line.amount > 0 && line.invoiceItem,
    );
    if (pending?.invoiceItem) return { invoiceItem: pending.invoiceItem };
    const invoices = Object.values(this.state.invoices).filter(
      (inv) => inv.parent?.subscription_details?.subscription === sub.id && inv.status !== 'void',
    );
    for (const inv of invoices.reverse()) {
      const lines = inv.lines.data.filter(
        (l) => l.parent?.subscription_item_details?.subscription_item === itemId && l.amount > 0,
      );
      if (lines.length > 0) return { invoice: inv.id, lines: lines.map((l) => l.id) };
    }
    return undefined;
  }

  /** Each proration line becomes a pending InvoiceItem (`invoiceitem.created`), as in Stripe. */
  private recordProrations(sub: Stripe.Subscription, lines: PendingLine[], at: number): void {
    for (const line of lines) {
      const price = this.state.prices[line.priceId];
      if (!price) continue;
      const item = buildProrationInvoiceItem({
        customer: sub.customer as string,
        subscription: sub.id,
        subscriptionItem: line.subscriptionItem ?? null,
        price,
        amount: line.amount,
        quantity: line.quantity ?? 1,
        description: line.description,
        periodStart: line.periodStart,
        periodEnd: line.periodEnd,
        date: at,
        testClock: typeof sub.test_clock === 'string' ? sub.test_clock : null,
        creditedItems: !line.credits
          ? null
          : 'invoiceItem' in line.credits
            ? { type: 'invoice_item', invoice_item: line.credits.invoiceItem }
            : {
                type: 'invoice_line_items',
                invoice_line_item_details: {
                  invoice: line.credits.invoice,
                  invoice_line_items: line.credits.lines,
                },
              },
      });
      this.state.invoiceItems[item.id] = item;
      line.invoiceItem = item.id;
      this.core.emit('invoiceitem.created', item, at);
    }
  }

  /**
   * payment_behavior=error_if_incomplete: a change whose invoice could not be paid now is refused
   * with a 402 before anything changes, as Stripe refuses it.
   */
  private refuseUnpayable(sub: Stripe.Subscription, plan: ChangePlan, at: number, onSession: boolean): void {
    const pending = this.internalOf(sub.id).pendingLines;
    const items = plan.intervalChanged ? this.itemLines(plan.nextItems, at, plan.newPeriodEnd, false) : [];
    const total = [...pending, ...plan.lines, ...items].reduce((sum, line) => sum + line.amount, 0);
    const customer = this.state.customers[sub.customer as string];
    if (total + (customer?.balance ?? 0) <= 0) return;
    const fallback = customer?.invoice_settings.default_payment_method;
    const pmId =
      typeof sub.default_payment_method === 'string'
        ? sub.default_payment_method
        : typeof fallback === 'string'
          ? fallback
          : null;
    const outcome = this.outcomeFor(pmId, onSession);
    if (outcome.kind === 'failed') throw cardError(outcome.message, outcome.declineCode, outcome.code);
    if (outcome.kind === 'requires_action') {
      throw cardError(
        'This payment requires authentication.',
        'authentication_required',
        'authentication_required',
      );
    }
  }

  /**
   * Stripe's invoice preview (`POST /v1/invoices/create_preview`): the invoice a change would
   * create now (always_invoice, interval change), or else the subscription's next renewal invoice
   * with the pending prorations and the next period at the new quantities. Changes no state.
   * Returns null when no invoice is coming (the subscription ends at its period end, or has ended).
   */
  previewInvoice(
    sub: Stripe.Subscription,
    changes: ItemChange[],
    proration: ProrationBehavior,
    at: number,
    prorationDate: number,
  ): Stripe.Invoice | null {
    const plan = this.planChange(sub, changes, proration, at, prorationDate);
    const preview: Stripe.Subscription = { ...sub, items: { ...sub.items, data: plan.nextItems } };
    const pending = this.internalOf(sub.id).pendingLines;
    let lines: InvoiceLineSpec[];
    let created: number;
    let periodEnd: number;
    if (plan.invoiceNow) {
      created = at;
      periodEnd = plan.newPeriodEnd;
      lines = [
        ...this.pendingToLines([...pending, ...plan.lines], preview),
        ...(plan.intervalChanged ? this.itemLines(plan.nextItems, at, periodEnd, false) : []),
      ];
    } else {
      created = sub.items.data[0]?.current_period_end ?? at;
      const ends = sub.cancel_at !== null && sub.cancel_at <= created;
      if (ends || !['active', 'trialing', 'past_due', 'unpaid'].includes(sub.status)) return null;
      periodEnd = this.periodEndFrom(preview, created);
      lines = [
        ...this.pendingToLines([...pending, ...plan.lines], preview),
        ...this.itemLines(plan.nextItems, created, periodEnd, false),
      ];
    }
    const customerId = sub.customer as string;
    const customer = this.state.customers[customerId];
    const id = `upcoming_${newId('in')}`;
    const total = lines.reduce((sum, line) => sum + line.amount, 0);
    const balance = customer?.balance ?? 0;
    // The balance is applied as finalization would apply it (see finalizeInvoice).
    const amountDue = total < 0 ? 0 : Math.max(0, total + balance);
    return buildInvoice({
      id,
      customer: customerId,
      created,
      currency: sub.currency,
      test_clock: typeof sub.test_clock === 'string' ? sub.test_clock : null,
      billing_reason: 'upcoming',
      customer_email: customer?.email ?? null,
      customer_name: customer?.name ?? null,
      lines: emptyList(
        `/v1/invoices/${id}/lines`,
        lines.map((line) => buildInvoiceLine(id, sub.id, line)),
      ),
      parent: {
        type: 'subscription_details',
        quote_details: null,
        subscription_details: {
          metadata: { ...sub.metadata },
          subscription: sub.id,
          ...(plan.lines.length > 0 ? { subscription_proration_date: prorationDate } : {}),
        },
      },
      period_start: created,
      period_end: periodEnd,
      subtotal: total,
      subtotal_excluding_tax: total,
      total,
      total_excluding_tax: total,
      starting_balance: balance,
      amount_due: amountDue,
      amount_remaining: amountDue,
      next_payment_attempt: plan.invoiceNow ? null : created + DRAFT_PERIOD,
    });
  }

  /** At the end of a period: cancel (if asked), end a trial, or start the next period with a draft invoice. */
  private renew(sub: Stripe.Subscription, at: number): void {
    if (sub.cancel_at !== null && sub.cancel_at <= at) {
      this.cancelSubscription(sub, at, 'cancellation_requested');
      return;
    }
    const endingTrial = sub.status === 'trialing';
    if (endingTrial) {
      const customer = this.state.customers[sub.customer as string];
      const hasPm = Boolean(sub.default_payment_method || customer?.invoice_settings.default_payment_method);
      const behaviour = sub.trial_settings?.end_behavior.missing_payment_method;
      if (!hasPm && behaviour === 'pause') {
        this.updateSubscription(
          sub,
          at,
          (s) => {
            s.status = 'paused';
          },
          'customer.subscription.paused',
        );
        return;
      }
      if (!hasPm && behaviour === 'cancel') {
        this.cancelSubscription(sub, at, 'cancellation_requested');
        return;
      }
    }
    const periodEnd = this.periodEndFrom(sub, at);
    const pending = this.internalOf(sub.id).pendingLines.splice(0);
    const lines = [
      ...this.pendingToLines(pending, sub),
      ...this.itemLines(sub.items.data, at, periodEnd, false),
    ];
    const inv = this.createInvoice(sub, lines, 'subscription_cycle', at, at, periodEnd);
    inv.automatically_finalizes_at = at + DRAFT_PERIOD;
    // Stripe leaves an unpaid subscription's new invoices as drafts and never attempts them.
    if (sub.status === 'unpaid' || sub.pause_collection?.behavior === 'keep_as_draft') {
      inv.auto_advance = false;
      inv.automatically_finalizes_at = null;
    }
    const latest = inv.id;
    this.updateSubscription(sub, at, (s) => {
      if (endingTrial) {
        s.status = 'active';
        s.billing_cycle_anchor = at;
      }
      s.latest_invoice = latest;
      for (const item of s.items.data) {
        item.current_period_start = at;
        item.current_period_end = periodEnd;
      }
    });
    this.core.emit('invoice.created', inv, at);
  }

  private expireIncomplete(sub: Stripe.Subscription, at: number): void {
    const inv = typeof sub.latest_invoice === 'string' ? this.state.invoices[sub.latest_invoice] : undefined;
    this.updateSubscription(
      sub,
      at,
      (s) => {
        s.status = 'incomplete_expired';
        s.ended_at = at;
      },
      'customer.subscription.deleted',
    );
    if (inv && inv.status === 'open') this.voidInvoice(inv, at);
  }

  // ---------------------------------------------------------------- time

  /**
   * The earliest piece of scheduled work for the customers `owns` selects that is due by their
   * horizon (`until`: their clock's time, or the target of an advance).
   */
  private nextDue(
    owns: (customerId: string) => boolean,
    until: (customerId: string) => number,
  ): DueAction | null {
    let best: DueAction | null = null;
    let owner = '';
    const consider = (candidate: DueAction) => {
      if (candidate.at > until(owner)) return;
      if (!best || candidate.at < best.at || (candidate.at === best.at && candidate.order < best.order))
        best = candidate;
    };
    for (const sub of Object.values(this.state.subscriptions)) {
      owner = sub.customer as string;
      if (!owns(owner)) continue;
      const periodEnd = sub.items.data[0]?.current_period_end ?? Number.POSITIVE_INFINITY;
      const internal = this.internalOf(sub.id);
      if (sub.status === 'trialing' && sub.trial_end !== null && !internal.trialWillEndSent) {
        const at = Math.max(sub.trial_end - TRIAL_WILL_END_LEAD, sub.trial_start ?? 0);
        consider({ at, order: 0, run: () => this.maybeTrialWillEnd(sub, at) });
      }
      if (sub.status === 'incomplete') {
        const at = sub.created + INCOMPLETE_EXPIRY;
        consider({ at, order: 1, run: () => this.expireIncomplete(sub, at) });
      }
      if (sub.pause_collection?.resumes_at) {
        const at = sub.pause_collection.resumes_at;
        consider({
          at,
          order: 1,
          run: () =>
            this.updateSubscription(sub, at, (s) => {
              s.pause_collection = null;
            }),
        });
      }
      if (['active', 'trialing', 'past_due', 'unpaid'].includes(sub.status)) {
        const cancelAt = sub.cancel_at ?? Number.POSITIVE_INFINITY;
        const at = Math.min(periodEnd, cancelAt);
        consider({ at, order: 2, run: () => this.renew(sub, at) });
      }
    }
    for (const inv of Object.values(this.state.invoices)) {
      owner = inv.customer as string;
      if (!owns(owner)) continue;
      if (inv.status === 'draft' && inv.auto_advance && inv.automatically_finalizes_at !== null) {
        const at = inv.automatically_finalizes_at;
        consider({ at, order: 3, run: () => this.advanceDraft(inv, at) });
      }
      if (inv.status === 'open' && inv.next_payment_attempt !== null) {
        const at = inv.next_payment_attempt;
        consider({ at, order: 4, run: () => this.payInvoice(inv, at, { onSession: false }) });
      }
    }
    return best;
  }

  /**
   * Runs due work in time order; `setTime` moves the owning clock to each step's time first.
   * Outside any API request's context: like Stripe's own background work, these events carry
   * `request: { id: null }`.
   */
  private runDue(
    owns: (customerId: string) => boolean,
    until: (customerId: string) => number,
    setTime?: (at: number) => void,
  ): void {
    this.core.requestContext.exit(() => {
      for (let guard = 0; guard < 100_000; guard++) {
        const due = this.nextDue(owns, until);
        if (!due) return;
        setTime?.(due.at);
        due.run();
      }
      throw new Error('billing engine: runaway schedule');
    });
  }

  /** Processes whatever is due now: each customer up to its own time (its test clock's, or the wall clock). */
  catchUp(): void {
    const now = wallNow();
    this.runDue(
      () => true,
      (customerId) => {
        const clockId = this.state.customers[customerId]?.test_clock;
        return typeof clockId === 'string' ? (this.state.testClocks[clockId]?.frozen_time ?? now) : now;
      },
    );
  }

  /**
   * Moves a test clock to `frozenTime`, running every renewal, finalization, payment and retry due
   * on the way at its own time, between test_helpers.test_clock.advancing and .ready.
   */
  advanceClock(clock: Stripe.TestHelpers.TestClock, frozenTime: number): void {
    const target = frozenTime;
    clock.status = 'advancing';
    clock.status_details = { advancing: { target_frozen_time: target } };
    this.core.emit('test_helpers.test_clock.advancing', clock, clock.frozen_time);
    this.runDue(
      (customerId) => this.state.customers[customerId]?.test_clock === clock.id,
      () => target,
      (at) => {
        clock.frozen_time = at;
      },
    );
    clock.frozen_time = target;
    clock.status = 'ready';
    clock.status_details = {};
    this.core.emit('test_helpers.test_clock.ready', clock, target);
    this.core.store.changed();
  }
}
