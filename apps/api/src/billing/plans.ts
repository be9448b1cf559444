/**
 * The plans, declared once. `npm run cli -- stripe:sync-plans` makes Stripe's products and prices
 * match this file; checkout, the pricing page, the Pro gate and the AI quotas all read it.
 */

export type PlanId = 'free' | 'pro';
export type BillingInterval = 'month' | 'year';

export interface PlanLimits {
  /** AI requests per billing period (0 = no access). */
  aiRequestsPerPeriod: number;
  /** AI tokens (prompt + completion) per billing period. */
  aiTokensPerPeriod: number;
  /** Longest prompt accepted, in characters. */
  aiMaxPromptChars: number;
  /** Upper bound on `maxTokens` for one generation. */
  aiMaxOutputTokens: number;
}

export interface PlanPrice {
  interval: BillingInterval;
  /** In the currency's smallest unit (cents). */
  unitAmount: number;
  currency: string;
  /** Stable handle on Stripe's side; prices are found by it, never by id in code. */
  lookupKey: string;
}

export interface Plan {
  id: PlanId;
  name: string;
  description: string;
  features: string[];
  limits: PlanLimits;
  prices: PlanPrice[];
  trialDays: number;
}

export const PLANS: readonly Plan[] = [
  {
    id: 'free',
    name: 'Free',
    description: 'Everything you need to try the product.',
    features: ['Your account and dashboard', 'Email support'],
    limits: { aiRequestsPerPeriod: 0, aiTokensPerPeriod: 0, aiMaxPromptChars: 0, aiMaxOutputTokens: 0 },
    prices: [],
    trialDays: 0,
  },
  {
    id: 'pro',
    name: 'Pro',
    description: 'The full product, with the AI assistant.',
    features: [
      'Everything in Free',
      'AI assistant: 500 requests a month',
      'Streaming answers and full history',
      'Priority support',
    ],
    limits: {
      aiRequestsPerPeriod: 500,
      aiTokensPerPeriod: 500_000,
      aiMaxPromptChars: 8_000,
      aiMaxOutputTokens: 2_000,
    },
    prices: [
      { interval: 'month', unitAmount: 1_900, currency: 'usd', lookupKey: 'tierbase_pro_monthly' },
      { interval: 'year', unitAmount: 19_000, currency: 'usd', lookupKey: 'tierbase_pro_yearly' },
    ],
    trialDays: 14,
  },
];

export const FREE_PLAN = PLANS.find((plan) => plan.id === 'free')!;

export function findPlan(id: string): Plan | undefined {
  return PLANS.find((plan) => plan.id === id);
}

export function findPrice(planId: string, interval: BillingInterval): PlanPrice | undefined {
  return findPlan(planId)?.prices.find((price) => price.interval === interval);
}

/** The plan and interval a Stripe price's lookup key stands for. */
export function planForLookupKey(
  lookupKey: string | null | undefined,
): { plan: Plan; price: PlanPrice } | undefined {
  for (const plan of PLANS) {
    const price = plan.prices.find((candidate) => candidate.lookupKey === lookupKey);
    if (price) return { plan, price };
  }
  return undefined;
}
