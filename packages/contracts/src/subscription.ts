import { z } from 'zod';

export const subscriptionStatusSchema = z.enum([
  'incomplete',
  'incomplete_expired',
  'trialing',
  'active',
  'past_due',
  'canceled',
  'unpaid',
  'paused',
]);
export type SubscriptionStatus = z.infer<typeof subscriptionStatusSchema>;

export const billingIntervalSchema = z.enum(['month', 'year']);
export type BillingInterval = z.infer<typeof billingIntervalSchema>;

/**
 * A user's subscription as the API shows it: the profile's `subscription`, and the fields of GET
 * /api/billing/status/ (which adds the account's). One shape, built by one function on the server
 * (billing/status.ts), so the two never disagree.
 */
export const subscriptionSchema = z.object({
  status: subscriptionStatusSchema,
  /** A plan id from the plan list; "unknown" for a price that is not in it. */
  plan: z.string(),
  interval: billingIntervalSchema.nullable(),
  currentPeriodEnd: z.iso.datetime().nullable(),
  cancelAtPeriodEnd: z.boolean(),
  trialEnd: z.iso.datetime().nullable(),
  /** Set while past_due: when access ends unless the payment succeeds. */
  pastDueGraceEnd: z.iso.datetime().nullable(),
});
export type Subscription = z.infer<typeof subscriptionSchema>;
