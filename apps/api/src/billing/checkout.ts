import { ErrorCode } from '@tierbase/contracts';
import type Stripe from 'stripe';
import type { Database } from '../db/client.ts';
import { AppError, forbidden } from '../errors.ts';
import { memberCount } from '../organizations/members.ts';
import { MANAGERS, type Workspace } from '../organizations/workspaces.ts';
import type { AuthContext } from '../users/auth-context.ts';
import { priceIdFor } from './catalog.ts';
import { expireOpenCheckouts } from './checkout-sessions.ts';
import { type BillingInterval, findPlan } from './plans.ts';
import { callStripe, type StripeLog } from './stripe-client.ts';
import { recordCustomer, type SubscriptionRow, subscriptionForOrganization } from './subscriptions.ts';

export interface CheckoutDeps {
  db: Database;
  stripe: Stripe;
  appUrl: string;
  log?: StripeLog;
  /** Told when a customer row is recorded: cached sessions carry the workspace's row (plugin.ts). */
  onSubscriptionChanged?: ((organizationId: string) => Promise<void>) | undefined;
}

/**
 * Who is checking out, as the request's authentication loaded them: the caller, the active
 * workspace, its subscription row and the caller's own trial (users/sessions.ts reads them in the
 * session's query, and every write of either drops the cached sessions), so a checkout reads
 * neither again.
 */
export type BillingCaller = Pick<AuthContext, 'user' | 'workspace' | 'subscription' | 'trialEnd'>;

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
 * customer; the row insert is idempotent too (the row is read only when another click recorded it).
 */
async function ensureCustomer(deps: CheckoutDeps, { user, workspace, subscription }: BillingCaller) {
  if (subscription) return subscription;
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
  const recorded = await recordCustomer(deps.db, workspace.id, customer.id);
  if (recorded) {
    await deps.onSubscriptionChanged?.(workspace.id);
    return recorded;
  }
  const row = await subscriptionForOrganization(deps.db, workspace.id);
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
  caller: BillingCaller,
  planId: string,
  interval: BillingInterval,
): Promise<{ url: string }> {
  const { workspace, subscription: current } = caller;
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
  const row = await ensureCustomer(deps, caller);
  // Only the newest session can be paid: one subscription, however many tabs (decision 7). A
  // customer created just now has no sessions yet.
  if (current) await expireOpenCheckouts(deps, row.stripeCustomerId);
  const trialDays = hadTrial(caller, row) ? 0 : plan.trialDays;
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
function hadTrial(caller: BillingCaller, row: SubscriptionRow): boolean {
  return Boolean(row.trialEnd || row.stripeSubscriptionId || caller.trialEnd);
}

/** GET /api/stripe/portal/: a Billing Portal session URL for the workspace's customer. */
export async function createPortal(
  deps: CheckoutDeps,
  { workspace, subscription: row }: BillingCaller,
): Promise<string> {
  requireBillingManager(workspace);
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
