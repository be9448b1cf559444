import { describe, expect, it } from 'vitest';
import { FREE_PLAN, findPlan, findPrice, PLANS, planForLookupKey } from './plans.ts';

describe('the plan catalogue', () => {
  it('finds plans and prices by id and interval, and nothing for unknown ones', () => {
    expect(findPlan('pro')?.name).toBe('Pro');
    expect(findPlan('enterprise')).toBeUndefined();
    expect(findPrice('pro', 'year')).toMatchObject({ unitAmount: 19_000, lookupKey: 'tierbase_pro_yearly' });
    expect(findPrice('free', 'month')).toBeUndefined();
  });

  it('maps every lookup key back to its plan and price, and unknown or missing keys to nothing', () => {
    for (const plan of PLANS) {
      for (const price of plan.prices) {
        expect(planForLookupKey(price.lookupKey)).toEqual({ plan, price });
      }
    }
    expect(planForLookupKey('tierbase_gold_monthly')).toBeUndefined();
    expect(planForLookupKey(null)).toBeUndefined();
    expect(planForLookupKey(undefined)).toBeUndefined();
  });

  it('keeps lookup keys unique and the free plan without prices or AI', () => {
    const keys = PLANS.flatMap((plan) => plan.prices.map((price) => price.lookupKey));
    expect(new Set(keys).size).toBe(keys.length);
    expect(FREE_PLAN).toMatchObject({ id: 'free', prices: [], trialDays: 0 });
    expect(FREE_PLAN.limits.aiRequestsPerPeriod).toBe(0);
  });
});
