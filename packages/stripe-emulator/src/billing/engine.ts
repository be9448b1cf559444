/**
 * The billing engine as the API resources and hosted pages see it: invoicing, payments, renewals,
 * retries and time, each in its own module beside this one. It mutates the store and emits events
 * in the order Stripe emits them, and knows nothing of HTTP.
 */
import type Stripe from 'stripe';
import type { ChargeOutcome } from '../cards.ts';
import type { Core } from '../core.ts';
import { cancelSubscription } from './cancellation.ts';
import { finalizeInvoice, voidInvoice } from './invoicing.ts';
import { payInvoice, paymentMethodFor } from './payments.ts';
import { previewInvoice } from './preview.ts';
import { changeItems, type ItemChange, type ProrationBehavior } from './prorations.ts';
import { advanceClock, catchUp } from './scheduler.ts';
import { subscriptionOf, updateSubscription } from './shared.ts';
import {
  createSubscription,
  type NewSubscription,
  resumeSubscription,
  setCancelAtPeriodEnd,
} from './subscriptions.ts';

export class BillingEngine {
  constructor(private readonly core: Core) {}

  // Subscriptions
  createSubscription(input: NewSubscription): Stripe.Subscription {
    return createSubscription(this.core, input);
  }

  /** Applies `mutate` to a subscription and emits `customer.subscription.updated` if anything changed. */
  updateSubscription(
    sub: Stripe.Subscription,
    at: number,
    mutate: (sub: Stripe.Subscription) => void,
    eventType?: Stripe.Event.Type,
  ): void {
    updateSubscription(this.core, sub, at, mutate, eventType);
  }

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
    changeItems(
      this.core,
      sub,
      changes,
      proration,
      at,
      onSession,
      extraMutation,
      prorationDate,
      errorIfIncomplete,
    );
  }

  setCancelAtPeriodEnd(sub: Stripe.Subscription, at: number, value: boolean): void {
    setCancelAtPeriodEnd(this.core, sub, at, value);
  }

  cancelSubscription(
    sub: Stripe.Subscription,
    at: number,
    reason: 'cancellation_requested' | 'payment_failed',
  ): void {
    cancelSubscription(this.core, sub, at, reason);
  }

  resumeSubscription(sub: Stripe.Subscription, at: number, onSession: boolean): void {
    resumeSubscription(this.core, sub, at, onSession);
  }

  subscriptionOf(inv: Stripe.Invoice): Stripe.Subscription | undefined {
    return subscriptionOf(this.core, inv);
  }

  // Invoices and payments
  previewInvoice(
    sub: Stripe.Subscription,
    changes: ItemChange[],
    proration: ProrationBehavior,
    at: number,
    prorationDate: number,
  ): Stripe.Invoice | null {
    return previewInvoice(this.core, sub, changes, proration, at, prorationDate);
  }

  finalizeInvoice(inv: Stripe.Invoice, at: number): void {
    finalizeInvoice(this.core, inv, at);
  }

  voidInvoice(inv: Stripe.Invoice, at: number): void {
    voidInvoice(this.core, inv, at);
  }

  payInvoice(
    inv: Stripe.Invoice,
    at: number,
    opts: { onSession: boolean; paymentMethod?: string | null },
  ): ChargeOutcome {
    return payInvoice(this.core, inv, at, opts);
  }

  paymentMethodFor(inv: Stripe.Invoice, explicit?: string | null): string | null {
    return paymentMethodFor(this.core, inv, explicit);
  }

  // Time
  catchUp(): void {
    catchUp(this.core);
  }

  advanceClock(clock: Stripe.TestHelpers.TestClock, frozenTime: number): void {
    advanceClock(this.core, clock, frozenTime);
  }
}
