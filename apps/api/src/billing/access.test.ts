import { describe, expect, it } from 'vitest';
import { graceEnd, isPro } from './access.ts';

const since = new Date('2026-03-01T12:00:00Z');
const GRACE_DAYS = 7;

describe('the Pro gate', () => {
  it('is open while trialing or active, with or without a past-due date', () => {
    expect(isPro({ status: 'trialing', pastDueSince: null }, GRACE_DAYS)).toBe(true);
    expect(isPro({ status: 'active', pastDueSince: since }, GRACE_DAYS)).toBe(true);
  });

  it('stays open while past due until the grace period ends, to the millisecond', () => {
    const pastDue = { status: 'past_due' as const, pastDueSince: since };
    const end = new Date('2026-03-08T12:00:00Z');
    expect(graceEnd(pastDue, GRACE_DAYS)).toEqual(end);
    expect(isPro(pastDue, GRACE_DAYS, new Date(end.getTime() - 1))).toBe(true);
    expect(isPro(pastDue, GRACE_DAYS, end)).toBe(false);
  });

  it('is closed at once when past due with no grace days, or with no date to count from', () => {
    expect(isPro({ status: 'past_due', pastDueSince: since }, 0, since)).toBe(false);
    expect(isPro({ status: 'past_due', pastDueSince: null }, GRACE_DAYS)).toBe(false);
    expect(graceEnd({ status: 'past_due', pastDueSince: null }, GRACE_DAYS)).toBeNull();
  });

  it('is closed for every other status and for no subscription', () => {
    for (const status of [
      'canceled',
      'unpaid',
      'incomplete',
      'incomplete_expired',
      'paused',
      null,
    ] as const) {
      expect(isPro({ status, pastDueSince: since }, GRACE_DAYS, since), String(status)).toBe(false);
      expect(graceEnd({ status, pastDueSince: since }, GRACE_DAYS)).toBeNull();
    }
  });
});
