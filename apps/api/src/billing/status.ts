import type { BillingStatus, SubscriptionSummary } from '@tierbase/contracts';
import { graceEnd, isPro } from './access.ts';
import type { SubscriptionRow } from './subscription-sync.ts';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** GET /api/billing/status/: the subscription as the user should see it. */
export function billingStatus(
  row: SubscriptionRow | undefined,
  graceDays: number,
  now = new Date(),
): BillingStatus {
  const access = { status: row?.status ?? null, pastDueSince: row?.pastDueSince ?? null };
  const pro = isPro(access, graceDays, now);
  return {
    status: row?.status ?? null,
    plan: row?.status && row.plan ? row.plan : 'free',
    interval: row?.interval ?? null,
    currentPeriodEnd: iso(row?.currentPeriodEnd ?? null),
    cancelAtPeriodEnd: row?.cancelAtPeriodEnd ?? false,
    trialEnd: iso(row?.trialEnd ?? null),
    isPro: pro,
    pastDueGraceEnd: iso(graceEnd(access, graceDays)),
    hasBillingAccount: Boolean(row),
    // Filled in by the route from ai/ (it needs a query); null is "no AI on this plan".
    aiUsage: null,
  };
}

/** The profile's subscription summary: null until the user has had a subscription. */
export function subscriptionSummary(row: SubscriptionRow | undefined): SubscriptionSummary | null {
  if (!row?.status) return null;
  return {
    status: row.status,
    plan: row.plan ?? 'unknown',
    interval: row.interval,
    currentPeriodEnd: iso(row.currentPeriodEnd),
    cancelAtPeriodEnd: row.cancelAtPeriodEnd,
    trialEnd: iso(row.trialEnd),
  };
}
