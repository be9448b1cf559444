import type { BillingStatus, Subscription } from '@tierbase/contracts';
import { graceEnd, isPro } from './access.ts';
import type { SubscriptionRow } from './subscriptions.ts';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/**
 * The subscription as the user should see it, in the profile and in the billing status alike:
 * null until the user has had one (a row without a status is a customer who never subscribed).
 */
export function subscriptionView(row: SubscriptionRow | undefined, graceDays: number): Subscription | null {
  if (!row?.status) return null;
  return {
    status: row.status,
    plan: row.plan ?? 'unknown',
    interval: row.interval,
    currentPeriodEnd: iso(row.currentPeriodEnd),
    cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    trialEnd: iso(row.trialEnd),
    pastDueGraceEnd: iso(graceEnd({ status: row.status, pastDueSince: row.pastDueSince }, graceDays)),
  };
}

/** What the billing status says before any subscription. */
const NONE = {
  status: null,
  plan: 'free',
  interval: null,
  currentPeriodEnd: null,
  cancelAtPeriodEnd: false,
  trialEnd: null,
  pastDueGraceEnd: null,
} as const satisfies Omit<BillingStatus, 'isPro' | 'hasBillingAccount' | 'aiUsage'>;

/** GET /api/billing/status/: the subscription's fields (or NONE), and the account's. */
export function billingStatus(
  row: SubscriptionRow | undefined,
  graceDays: number,
  now = new Date(),
): BillingStatus {
  return {
    ...(subscriptionView(row, graceDays) ?? NONE),
    isPro: isPro({ status: row?.status ?? null, pastDueSince: row?.pastDueSince ?? null }, graceDays, now),
    hasBillingAccount: Boolean(row),
    // Filled in by the route from ai/ (it needs a query); null is "no AI on this plan".
    aiUsage: null,
  };
}
