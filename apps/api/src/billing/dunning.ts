import type Stripe from 'stripe';
import type { Database } from '../db/client.ts';
import type { Mailer, MailRequest } from '../email/mailer.ts';
import { hasEmailWithKey } from '../email/outbox.ts';
import { ownerOf } from '../organizations/members.ts';
import { lockContact } from '../users/users.ts';
import { subscriptionForCustomer } from './subscriptions.ts';

/**
 * The emails that follow a subscription through trouble. Each is keyed to the Stripe object it is
 * about (the failed invoice, not the retry; the subscription, not the event), and the mail module
 * stores a key once, so a redelivered or replayed event never sends twice.
 */
export interface DunningDeps {
  db: Database;
  mailer: Mailer;
  appUrl: string;
}

export const dunningKeys = {
  paymentFailed: (invoiceId: string) => `payment_failed:${invoiceId}`,
  paymentRecovered: (invoiceId: string) => `payment_recovered:${invoiceId}`,
  actionRequired: (invoiceId: string) => `payment_action_required:${invoiceId}`,
  canceled: (subscriptionId: string) => `subscription_canceled:${subscriptionId}`,
  trialEnding: (subscriptionId: string, trialEnd: number) =>
    `trial_ending_soon:${subscriptionId}:${trialEnd}`,
};

interface Recipient {
  email: string;
  name: string;
}

/** Who hears about the customer's billing: the owner of its organization (for a personal one, its user), by id. */
async function recipientFor(db: Database, customerId: string): Promise<string | undefined> {
  const subscription = await subscriptionForCustomer(db, customerId);
  return subscription ? ownerOf(db, subscription.organizationId) : undefined;
}

const day = (seconds: number) =>
  new Date(seconds * 1000).toLocaleDateString('en-US', { year: 'numeric', month: 'long', day: 'numeric' });

type StripeCustomerRef = { customer: string | Stripe.Customer | Stripe.DeletedCustomer | null };

/**
 * Sends one dunning email to the owner behind a Stripe object's customer, keyed so it goes once.
 * Objects of customers that are not ours are ignored.
 */
async function notify(
  deps: DunningDeps,
  about: StripeCustomerRef,
  dedupeKey: string,
  message: (to: Recipient) => Omit<MailRequest, 'to' | 'dedupeKey'>,
): Promise<void> {
  const customerId = typeof about.customer === 'string' ? about.customer : (about.customer?.id ?? null);
  const userId = customerId ? await recipientFor(deps.db, customerId) : undefined;
  if (!userId) return;
  // The address is read and the email stored in one transaction that holds the user's row: an
  // account deletion running meanwhile either waits and then erases this email, or has finished
  // and there is no one to write to. Never an email left behind to an erased address.
  await deps.db.transaction(async (tx) => {
    const to = await lockContact(tx, userId);
    if (!to) return;
    await deps.mailer.send({ ...message(to), to: to.email, dedupeKey } as MailRequest, { transaction: tx });
  });
}

/** invoice.payment_failed, for an invoice still unpaid: ask for a new card, once per invoice. */
export async function sendPaymentFailed(deps: DunningDeps, invoice: Stripe.Invoice): Promise<void> {
  if (invoice.status !== 'open' || !invoice.id) return;
  await notify(deps, invoice, dunningKeys.paymentFailed(invoice.id), (to) => ({
    template: 'payment_failed',
    data: {
      name: to.name,
      amountDue: { amount: invoice.amount_due, currency: invoice.currency },
      invoiceUrl: invoice.hosted_invoice_url ?? `${deps.appUrl}/billing`,
      updateCardUrl: `${deps.appUrl}/billing`,
    },
  }));
}

/** invoice.paid after a failure we told the user about: confirm they are back in good standing. */
export async function sendPaymentRecovered(deps: DunningDeps, invoice: Stripe.Invoice): Promise<void> {
  if (!invoice.id) return;
  if (!(await hasEmailWithKey(deps.db, dunningKeys.paymentFailed(invoice.id)))) return;
  await notify(deps, invoice, dunningKeys.paymentRecovered(invoice.id), (to) => ({
    template: 'payment_recovered',
    data: {
      name: to.name,
      amountPaid: { amount: invoice.amount_paid, currency: invoice.currency },
      billingUrl: `${deps.appUrl}/billing`,
    },
  }));
}

/** invoice.payment_action_required: the bank wants the customer to authenticate the payment. */
export async function sendActionRequired(deps: DunningDeps, invoice: Stripe.Invoice): Promise<void> {
  if (invoice.status !== 'open' || !invoice.id) return;
  await notify(deps, invoice, dunningKeys.actionRequired(invoice.id), (to) => ({
    template: 'payment_action_required',
    data: { name: to.name, invoiceUrl: invoice.hosted_invoice_url ?? `${deps.appUrl}/billing` },
  }));
}

/** The subscription ended (canceled, or retries exhausted): access is gone; say so once. */
export async function sendCanceled(deps: DunningDeps, subscription: Stripe.Subscription): Promise<void> {
  await notify(deps, subscription, dunningKeys.canceled(subscription.id), (to) => ({
    template: 'subscription_canceled',
    data: { name: to.name, pricingUrl: `${deps.appUrl}/pricing` },
  }));
}

/** customer.subscription.trial_will_end (three days before): the trial is ending. */
export async function sendTrialEnding(deps: DunningDeps, subscription: Stripe.Subscription): Promise<void> {
  const trialEnd = subscription.trial_end;
  if (subscription.status !== 'trialing' || !trialEnd) return;
  await notify(deps, subscription, dunningKeys.trialEnding(subscription.id, trialEnd), (to) => ({
    template: 'trial_ending_soon',
    data: { name: to.name, trialEnd: day(trialEnd), billingUrl: `${deps.appUrl}/billing` },
  }));
}
