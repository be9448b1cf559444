import { ErrorCode } from '@tierbase/contracts';
import { eq } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Database } from '../db/client.ts';
import { profiles } from '../db/schema/auth.ts';
import { subscriptions } from '../db/schema/billing.ts';
import { AppError } from '../errors.ts';
import { priceIdFor } from './catalog.ts';
import { expireOpenCheckouts } from './checkout-sessions.ts';
import { type BillingInterval, findPlan } from './plans.ts';
import { callStripe, type StripeLog } from './stripe-client.ts';
import { findByUser, type SubscriptionRow } from './subscription-sync.ts';

export interface CheckoutDeps {
  db: Database;
  stripe: Stripe;
  appUrl: string;
  log?: StripeLog;
}

export interface BillingUser {
  id: string;
  email: string;
  name: string;
}

/** Statuses that mean the user already pays (or is about to): they manage it in the portal. */
const HAS_LIVE_SUBSCRIPTION = new Set(['trialing', 'active', 'past_due', 'unpaid', 'paused']);

/**
 * The user's Stripe customer, created on first need. The idempotency key is derived from the user,
 * so any number of concurrent first clicks create one customer; the row insert is idempotent too.
 */
export async function ensureCustomer(deps: CheckoutDeps, user: BillingUser): Promise<SubscriptionRow> {
  const existing = await findByUser(deps.db, user.id);
  if (existing) return existing;
  const customer = await callStripe(
    'customers.create',
    () =>
      deps.stripe.customers.create(
        { email: user.email, name: user.name || undefined, metadata: { user_id: user.id } },
        { idempotencyKey: `tierbase-customer-${user.id}` },
      ),
    deps.log,
  );
  await deps.db
    .insert(subscriptions)
    .values({ userId: user.id, stripeCustomerId: customer.id })
    .onConflictDoNothing();
  const row = await findByUser(deps.db, user.id);
  if (!row) throw new Error('customer row missing after insert');
  return row;
}

/** POST /api/billing/checkout/: a Stripe Checkout Session for the plan, with a trial if never had one. */
export async function createCheckout(
  deps: CheckoutDeps,
  user: BillingUser,
  planId: string,
  interval: BillingInterval,
): Promise<{ url: string }> {
  const plan = findPlan(planId);
  if (!plan || plan.prices.length === 0) {
    throw new AppError({
      status: 400,
      code: ErrorCode.VALIDATION_ERROR,
      message: 'Choose a paid plan.',
      details: {
        plan: ['Choose a paid plan.'],
      },
    });
  }
  const priceId = await priceIdFor(deps.db, plan.id, interval);
  const current = await findByUser(deps.db, user.id);
  if (current?.status && HAS_LIVE_SUBSCRIPTION.has(current.status)) {
    throw new AppError({
      status: 409,
      code: ErrorCode.ALREADY_SUBSCRIBED,
      message: 'You already have a subscription; manage it in the billing portal.',
      links: {
        portal: '/api/stripe/portal/',
      },
    });
  }
  const row = current ?? (await ensureCustomer(deps, user));
  // Only the newest session can be paid: one subscription, however many tabs (decision 7). A
  // customer created just now has no sessions yet.
  if (current) await expireOpenCheckouts(deps, row.stripeCustomerId);
  const trialDays = (await hadTrial(deps.db, user.id, row)) ? 0 : plan.trialDays;
  const session = await callStripe(
    'checkout.sessions.create',
    () =>
      deps.stripe.checkout.sessions.create({
        mode: 'subscription',
        customer: row.stripeCustomerId,
        client_reference_id: user.id,
        metadata: { user_id: user.id },
        line_items: [{ price: priceId, quantity: 1 }],
        subscription_data: {
          metadata: { user_id: user.id },
          ...(trialDays > 0 ? { trial_period_days: trialDays } : {}),
        },
        allow_promotion_codes: true,
        success_url: `${deps.appUrl}/checkout/return?session_id={CHECKOUT_SESSION_ID}`,
        cancel_url: `${deps.appUrl}/checkout/return?canceled=1`,
      }),
    deps.log,
  );
  if (!session.url) throw new Error('checkout session has no url');
  return { url: session.url };
}

/** One trial per user, ever: a recorded trial end, or any subscription that had a trial. */
async function hadTrial(db: Database, userId: string, row: SubscriptionRow): Promise<boolean> {
  if (row.trialEnd || row.stripeSubscriptionId) return true;
  const [profile] = await db
    .select({ trialEnd: profiles.trialEnd })
    .from(profiles)
    .where(eq(profiles.userId, userId));
  return Boolean(profile?.trialEnd);
}

/** GET /api/stripe/portal/: a Billing Portal session URL for the user's customer. */
export async function createPortal(deps: CheckoutDeps, userId: string): Promise<string> {
  const row = await findByUser(deps.db, userId);
  if (!row)
    throw new AppError({
      status: 404,
      code: ErrorCode.NOT_FOUND,
      message: 'You have no billing account yet. Choose a plan first.',
    });
  const session = await callStripe(
    'billingPortal.sessions.create',
    () =>
      deps.stripe.billingPortal.sessions.create({
        customer: row.stripeCustomerId,
        return_url: `${deps.appUrl}/billing`,
      }),
    deps.log,
  );
  return session.url;
}
