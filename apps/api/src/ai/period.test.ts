import { describe, expect, it } from 'vitest';
import { addMonths, billingPeriod, calendarMonth } from './period.ts';

const at = (iso: string) => new Date(iso);

describe('addMonths', () => {
  it('keeps the day and the time of day', () => {
    expect(addMonths(at('2026-01-15T08:30:00Z'), 1)).toEqual(at('2026-02-15T08:30:00Z'));
    expect(addMonths(at('2026-11-15T00:00:00Z'), 2)).toEqual(at('2027-01-15T00:00:00Z'));
    expect(addMonths(at('2026-03-15T00:00:00Z'), -3)).toEqual(at('2025-12-15T00:00:00Z'));
  });

  it('clamps to the last day of a shorter month, leap years included', () => {
    expect(addMonths(at('2026-01-31T10:00:00Z'), 1)).toEqual(at('2026-02-28T10:00:00Z'));
    expect(addMonths(at('2028-01-31T10:00:00Z'), 1)).toEqual(at('2028-02-29T10:00:00Z'));
    expect(addMonths(at('2026-03-31T10:00:00Z'), -1)).toEqual(at('2026-02-28T10:00:00Z'));
    expect(addMonths(at('2028-02-29T00:00:00Z'), 12)).toEqual(at('2029-02-28T00:00:00Z'));
  });
});

describe('calendarMonth', () => {
  it('is the UTC month holding the instant, end exclusive', () => {
    expect(calendarMonth(at('2026-12-31T23:59:59Z'))).toEqual({
      start: at('2026-12-01T00:00:00Z'),
      end: at('2027-01-01T00:00:00Z'),
    });
  });
});

describe('billingPeriod', () => {
  const now = at('2026-05-10T12:00:00Z');

  it('is the calendar month without a subscription, or one that does not say its period', () => {
    const month = { start: at('2026-05-01T00:00:00Z'), end: at('2026-06-01T00:00:00Z') };
    expect(billingPeriod(undefined, now)).toEqual(month);
    expect(billingPeriod({ currentPeriodEnd: null, interval: 'month' }, now)).toEqual(month);
    expect(billingPeriod({ currentPeriodEnd: at('2026-06-03T00:00:00Z'), interval: null }, now)).toEqual(
      month,
    );
  });

  it('is one interval back from the recorded end while that end is ahead', () => {
    expect(billingPeriod({ currentPeriodEnd: at('2026-05-20T09:00:00Z'), interval: 'month' }, now)).toEqual({
      start: at('2026-04-20T09:00:00Z'),
      end: at('2026-05-20T09:00:00Z'),
    });
    expect(billingPeriod({ currentPeriodEnd: at('2027-01-31T00:00:00Z'), interval: 'year' }, now)).toEqual({
      start: at('2026-01-31T00:00:00Z'),
      end: at('2027-01-31T00:00:00Z'),
    });
  });

  it('rolls forward by whole intervals from the recorded end when the renewal has not arrived', () => {
    // Recorded end 31 January; months later, the period is counted from the 31st, clamped per month.
    expect(billingPeriod({ currentPeriodEnd: at('2026-01-31T00:00:00Z'), interval: 'month' }, now)).toEqual({
      start: at('2026-04-30T00:00:00Z'),
      end: at('2026-05-31T00:00:00Z'),
    });
    // The end itself belongs to the next period.
    const end = at('2026-05-10T12:00:00Z');
    expect(billingPeriod({ currentPeriodEnd: end, interval: 'month' }, now)).toEqual({
      start: end,
      end: at('2026-06-10T12:00:00Z'),
    });
  });
});
