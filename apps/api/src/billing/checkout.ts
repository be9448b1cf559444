import { ErrorCode } from '@tierbase/contracts';
import { eq } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Database } from '../db/client.ts';
import { profiles } from '../db/schema/auth.ts';
import { subscriptions } from '../db/schema/billing.ts';
import { AppError, forbidden } from '../errors.ts';
import { memberCount } from '../organizations/members.ts';
import { MANAGERS, type Workspace } from '../organizations/workspaces.ts';
import { priceIdFor } from './catalog.ts';
import { expireOpenCheckouts } from './checkout-sessions.ts';
import { type BillingInterval, findPlan } from './plans.ts';
import { callStripe, type StripeLog } from './stripe-client.ts';
import { findByOrganization, type SubscriptionRow } from './subscription-sync.ts';

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

/** Statuses that mean the workspace already pays (or is about to): it is managed in the portal. */
export const HAS_LIVE_SUBSCRIPTION: ReadonlySet<string> = new Set([
  'trialing',
  'active',
  'past_due',
  'unpaid',
  'paused',
]);

/**
 * Billing actions (checkout, portal, plan changes) belong to the workspace's owner and admins;
 * every member may read its status (decision 25).
 */
export function requireBillingManager(workspace: Workspace): void {
  if (!MANAGERS.has(workspace.role)) {
    throw forbidden("Only the organization's owner or an admin can manage its billing.");
  }
}

/**
 * The workspace's Stripe customer, created on first need by whoever manages its billing (their
 * address receives Stripe's receipts; a team's customer carries the team's name). The idempotency
 * key is derived from the organization, so any number of concurrent first clicks create one
 * customer; the row insert is idempotent too.
 */
export async function ensureCustomer(
  deps: CheckoutDeps,
  workspace: Workspace,
  user: BillingUser,
): Promise<SubscriptionRow> {
  const existing = await findByOrganization(deps.db, workspace.id);
  if (existing) return existing;
  const name = workspace.personal ? user.name : workspace.name;
  const customer = await callStripe(
    'customers.create',
    () =>
      deps.stripe.customers.create(
        { email: user.email, name: name || undefined, metadata: { organization_id: workspace.id } },
        { idempotencyKey: `tierbase-customer-${workspace.id}` },
      ),
    deps.log,
  );
  await deps.db
    .insert(subscriptions)
    .values({ organizationId: workspace.id, stripeCustomerId: customer.id })
    .onConflictDoNothing();
  const row = await findByOrganization(deps.db, workspace.id);
  if (!row) throw new Error('customer row missing after insert');
  return row;
}

/**
 * POST /api/billing/checkout/: a Stripe Checkout Session for the plan, for the active workspace,
 * with a trial if neither it nor the user ever had one. A team is billed per member (quantity =
 * member count; the seat sync keeps it so as members come and go), a personal workspace for one.
 */
export async function createCheckout(
  deps: CheckoutDeps,
  workspace: Workspace,
  user: BillingUser,
  planId: string,
  interval: BillingInterval,
): Promise<{ url: string }> {
  requireBillingManager(workspace);
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
  const current = await findByOrganization(deps.db, workspace.id);
  if (current?.status && HAS_LIVE_SUBSCRIPTION.has(current.status)) {
    throw new AppError({
      status: 409,
      code: ErrorCode.ALREADY_SUBSCRIBED,
      message: workspace.personal
        ? 'You already have a subscription; manage it in the billing portal.'
        : 'This organization already has a subscription; manage it in the billing portal.',
      links: {
        portal: '/api/stripe/portal/',
      },
    });
  }
  const row = current ?? (await ensureCustomer(deps, workspace, user));
  // Only the newest session can be paid: one subscription, however many tabs (decision 7). A
  // customer created just now has no sessions yet.
  if (current) await expireOpenCheckouts(deps, row.stripeCustomerId);
  const trialDays = (await hadTrial(deps.db, user.id, row)) ? 0 : plan.trialDays;
  const quantity = workspace.personal ? 1 : Math.max(1, await memberCount(deps.db, workspace.id));
  const session = await callStripe(
    'checkout.sessions.create',
    () =>
      deps.stripe.checkout.sessions.create({
        mode: 'subscription',
        customer: row.stripeCustomerId,
        client_reference_id: workspace.id,
        metadata: { organization_id: workspace.id },
        line_items: [{ price: priceId, quantity }],
        subscription_data: {
          metadata: { organization_id: workspace.id },
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

/**
 * One trial per workspace and per person, ever: the workspace's recorded trial or subscription,
 * or a trial on the user's profile (from any workspace they own), so making a new team does not
 * buy a second trial.
 */
async function hadTrial(db: Database, userId: string, row: SubscriptionRow): Promise<boolean> {
  if (row.trialEnd || row.stripeSubscriptionId) return true;
  const [profile] = await db
    .select({ trialEnd: profiles.trialEnd })
    .from(profiles)
    .where(eq(profiles.userId, userId));
  return Boolean(profile?.trialEnd);
}

/** GET /api/stripe/portal/: a Billing Portal session URL for the workspace's customer. */
export async function createPortal(deps: CheckoutDeps, workspace: Workspace): Promise<string> {
  requireBillingManager(workspace);
  const row = await findByOrganization(deps.db, workspace.id);
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
