import { z } from 'zod';
import { aiUsageSchema } from './ai.ts';
import { billingIntervalSchema, subscriptionSchema, subscriptionStatusSchema } from './subscription.ts';

export const planSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  features: z.array(z.string()),
  limits: z.object({
    aiRequestsPerPeriod: z.number().int(),
    aiTokensPerPeriod: z.number().int(),
    aiMaxPromptChars: z.number().int(),
    aiMaxOutputTokens: z.number().int(),
  }),
  prices: z.array(
    z.object({ interval: billingIntervalSchema, unitAmount: z.number().int(), currency: z.string() }),
  ),
  trialDays: z.number().int(),
});
export type Plan = z.infer<typeof planSchema>;

export const plansResponse = z.object({ plans: z.array(planSchema) });
export type PlansResponse = z.infer<typeof plansResponse>;

export const checkoutRequest = z.strictObject({
  plan: z.string().min(1).max(50),
  interval: billingIntervalSchema,
});
export type CheckoutRequest = z.infer<typeof checkoutRequest>;

export const urlResponse = z.object({ url: z.string() });

export const syncRequest = z.strictObject({
  /** The Checkout Session id from the success URL; omit after the portal. */
  sessionId: z.string().min(1).max(255).optional(),
});
export type SyncRequest = z.infer<typeof syncRequest>;

/**
 * GET /api/billing/status/: the subscription's own fields (the profile's `subscription`), flat,
 * with `status` null and `plan` "free" before any, and what the account has besides.
 */
export const billingStatusSchema = subscriptionSchema.extend({
  status: subscriptionStatusSchema.nullable(),
  isPro: z.boolean(),
  hasBillingAccount: z.boolean(),
  /** AI requests and tokens used this billing period against the plan's quota; null without AI. */
  aiUsage: aiUsageSchema.nullable(),
});
export type BillingStatus = z.infer<typeof billingStatusSchema>;

export const invoiceSchema = z.object({
  id: z.string(),
  number: z.string().nullable(),
  status: z.string().nullable(),
  amountDue: z.number().int(),
  amountPaid: z.number().int(),
  total: z.number().int(),
  currency: z.string(),
  created: z.iso.datetime(),
  hostedInvoiceUrl: z.string().nullable(),
  invoicePdf: z.string().nullable(),
});
export type Invoice = z.infer<typeof invoiceSchema>;

export const invoicesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(10),
  /** `nextCursor` of the previous page: a Stripe invoice id. */
  startingAfter: z
    .string()
    .regex(/^in_[A-Za-z0-9]{1,250}$/, 'This cursor is not one the API gave out.')
    .optional(),
});

export const invoicesResponse = z.object({
  invoices: z.array(invoiceSchema),
  hasMore: z.boolean(),
  /** Pass as `startingAfter` for the next page. */
  nextCursor: z.string().nullable(),
});
export type InvoicesResponse = z.infer<typeof invoicesResponse>;
