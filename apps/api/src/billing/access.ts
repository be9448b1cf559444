import type { SubscriptionStatus } from '@tierbase/contracts';

export interface AccessInput {
  status: SubscriptionStatus | null;
  pastDueSince: Date | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** When a past-due subscription stops being Pro; null when the grace period does not apply. */
export function graceEnd(input: AccessInput, graceDays: number): Date | null {
  if (input.status !== 'past_due' || !input.pastDueSince) return null;
  return new Date(input.pastDueSince.getTime() + graceDays * DAY_MS);
}

/**
 * The Pro gate, derived from the subscription's status and never stored: trialing and active are
 * Pro; past_due stays Pro until the grace period ends, while Stripe retries the payment; every
 * other status (and no subscription) is not.
 */
export function isPro(input: AccessInput, graceDays: number, now: Date = new Date()): boolean {
  if (input.status === 'trialing' || input.status === 'active') return true;
  const end = graceEnd(input, graceDays);
  return end !== null && now < end;
}
