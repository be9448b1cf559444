import type { BillingInterval } from '../billing/plans.ts';

export interface Period {
  start: Date;
  end: Date;
}

/** The date `months` calendar months after `date` (UTC), clamped to the month's last day. */
export function addMonths(date: Date, months: number): Date {
  const result = new Date(date.getTime());
  const day = result.getUTCDate();
  result.setUTCDate(1);
  result.setUTCMonth(result.getUTCMonth() + months);
  const lastDay = new Date(Date.UTC(result.getUTCFullYear(), result.getUTCMonth() + 1, 0)).getUTCDate();
  result.setUTCDate(Math.min(day, lastDay));
  return result;
}

/** The calendar month (UTC) that holds `now`. */
export function calendarMonth(now: Date): Period {
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  return { start, end: addMonths(start, 1) };
}

/**
 * The billing period the AI quota counts over: [currentPeriodEnd − 1 interval, currentPeriodEnd)
 * from the subscription; the calendar month (UTC) when the subscription does not say. When the
 * recorded end has passed (the renewal has not reached us yet), the period rolls forward by whole
 * intervals, so the quota resets on time rather than when Stripe's event arrives.
 */
export function billingPeriod(
  subscription: { currentPeriodEnd: Date | null; interval: BillingInterval | null } | undefined,
  now: Date = new Date(),
): Period {
  const recordedEnd = subscription?.currentPeriodEnd;
  const interval = subscription?.interval;
  if (!recordedEnd || !interval) return calendarMonth(now);
  const months = interval === 'year' ? 12 : 1;
  let end = recordedEnd;
  for (let steps = 0; end <= now && steps < 1200; steps++) end = addMonths(recordedEnd, months * (steps + 1));
  if (end <= now) return calendarMonth(now);
  return { start: addMonths(end, -months), end };
}
