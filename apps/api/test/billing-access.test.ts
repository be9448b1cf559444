import { describe, expect, it } from 'vitest';
import { graceEnd, isPro } from '../src/billing/access.ts';
import { governingSubscription } from '../src/billing/subscription-sync.ts';

const DAY = 24 * 3600 * 1000;
const now = new Date('2026-11-25T12:00:00Z');

describe('the Pro gate', () => {
  it.each([
    ['trialing', true],
    ['active', true],
    ['incomplete', false],
    ['incomplete_expired', false],
    ['canceled', false],
    ['unpaid', false],
    ['paused', false],
    [null, false],
  ] as const)('%s → Pro: %s', (status, expected) => {
    expect(isPro({ status, pastDueSince: null }, 7, now)).toBe(expected);
  });

  it('keeps past_due Pro through the grace period, then ends it', () => {
    const since = new Date(now.getTime() - 6 * DAY);
    expect(isPro({ status: 'past_due', pastDueSince: since }, 7, now)).toBe(true);
    expect(graceEnd({ status: 'past_due', pastDueSince: since }, 7)).toEqual(
      new Date(since.getTime() + 7 * DAY),
    );
    expect(isPro({ status: 'past_due', pastDueSince: new Date(now.getTime() - 7 * DAY) }, 7, now)).toBe(
      false,
    );
    expect(isPro({ status: 'past_due', pastDueSince: since }, 0, now)).toBe(false);
  });
});

describe('the subscription that governs access', () => {
  const sub = (id: string, status: string, created: number) =>
    ({ id, status, created }) as unknown as Parameters<typeof governingSubscription>[0][number];

  it('prefers a live subscription over a newer ended one, and the newest among equals', () => {
    expect(governingSubscription([sub('old', 'active', 1), sub('new', 'canceled', 2)])?.id).toBe('old');
    expect(
      governingSubscription([
        sub('a', 'canceled', 1),
        sub('b', 'canceled', 3),
        sub('c', 'incomplete_expired', 2),
      ])?.id,
    ).toBe('b');
    expect(governingSubscription([sub('a', 'past_due', 1), sub('b', 'trialing', 2)])?.id).toBe('b');
    expect(governingSubscription([])).toBeUndefined();
  });
});
