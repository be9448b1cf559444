import type Stripe from 'stripe';
import type { State } from './store.ts';

/** Seconds since the epoch by the wall clock. */
export function wallNow(): number {
  return Math.floor(Date.now() / 1000);
}

export function testClockOfCustomer(
  state: State,
  customerId: string | null | undefined,
): Stripe.TestHelpers.TestClock | null {
  if (!customerId) return null;
  const clockId = state.customers[customerId]?.test_clock;
  if (typeof clockId !== 'string') return null;
  return state.testClocks[clockId] ?? null;
}

/**
 * "Now" for a customer's objects: the frozen time of the customer's test clock, or the wall clock.
 * Every timestamp the emulator writes on a customer's objects comes from here.
 */
export function nowForCustomer(state: State, customerId: string | null | undefined): number {
  return testClockOfCustomer(state, customerId)?.frozen_time ?? wallNow();
}

const DAY = 86400;

/** Adds calendar months the way Stripe anchors billing periods (Jan 31 + 1 month → Feb 28/29). */
export function addInterval(from: number, interval: string, count: number): number {
  if (interval === 'day') return from + count * DAY;
  if (interval === 'week') return from + count * 7 * DAY;
  const date = new Date(from * 1000);
  const months = interval === 'year' ? 12 * count : count;
  const day = date.getUTCDate();
  const target = new Date(
    Date.UTC(
      date.getUTCFullYear(),
      date.getUTCMonth() + months,
      1,
      date.getUTCHours(),
      date.getUTCMinutes(),
      date.getUTCSeconds(),
    ),
  );
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, lastDay));
  return Math.floor(target.getTime() / 1000);
}

export const SECONDS = { minute: 60, hour: 3600, day: DAY } as const;
