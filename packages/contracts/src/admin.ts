import { z } from 'zod';
import { pageCursorSchema } from './cursor.ts';
import { subscriptionStatusSchema } from './users.ts';

export const adminUsersQuery = z.strictObject({
  /** Matches the start of the email or name, case-insensitively. */
  search: z.string().trim().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  /** `nextCursor` of the previous page; opaque. */
  cursor: pageCursorSchema.optional(),
});

export const adminUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  emailVerified: z.boolean(),
  isStaff: z.boolean(),
  createdAt: z.iso.datetime(),
  subscription: z
    .object({
      status: subscriptionStatusSchema.nullable(),
      plan: z.string().nullable(),
      stripeCustomerId: z.string(),
      currentPeriodEnd: z.iso.datetime().nullable(),
      cancelAtPeriodEnd: z.boolean(),
    })
    .nullable(),
});
export type AdminUser = z.infer<typeof adminUserSchema>;

export const adminUsersResponse = z.object({
  users: z.array(adminUserSchema),
  nextCursor: z.string().nullable(),
});

export const adminWebhookEventsQuery = z.strictObject({
  /** Only events not processed yet (failed or in flight). */
  failed: z.stringbool().optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});

export const adminWebhookEventSchema = z.object({
  eventId: z.string(),
  eventType: z.string(),
  processed: z.boolean(),
  processedAt: z.iso.datetime().nullable(),
  attempts: z.number().int(),
  errorMessage: z.string().nullable(),
  /** Why a processed event had no effect, e.g. "ignored: Stripe has no cus_…". */
  note: z.string().nullable(),
  createdAt: z.iso.datetime(),
});
export const adminWebhookEventsResponse = z.object({ events: z.array(adminWebhookEventSchema) });

export const adminReplayResponse = z.object({
  eventId: z.string(),
  ok: z.boolean(),
  error: z.string().optional(),
});

export const adminEmailsQuery = z.strictObject({
  status: z.enum(['queued', 'sent', 'stored', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});

export const adminEmailSchema = z.object({
  id: z.string(),
  to: z.string(),
  subject: z.string(),
  template: z.string(),
  status: z.enum(['queued', 'sent', 'stored', 'failed']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  createdAt: z.iso.datetime(),
  sentAt: z.iso.datetime().nullable(),
});
export const adminEmailsResponse = z.object({ emails: z.array(adminEmailSchema) });
export const adminEmailRetryResponse = z.object({ id: z.string(), status: z.literal('queued') });

// --- Reconciliation (billing/reconcile.ts): the database checked against Stripe ---

export const reconciliationTriggerSchema = z.enum(['schedule', 'cli', 'admin']);
export type ReconciliationTrigger = z.infer<typeof reconciliationTriggerSchema>;

/** The subscription fields reconciliation compares, as stored (dates as ISO strings). */
const trackedValue = z.union([z.string(), z.boolean(), z.null()]);

export const reconciliationReportSchema = z.object({
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  /** Customers whose subscriptions were read from Stripe and written through the one sync. */
  customersChecked: z.number().int(),
  /** Rows that differed from Stripe, with only the fields that changed. `before` null: no row had been recorded. */
  repaired: z.array(
    z.object({
      userId: z.string(),
      customerId: z.string(),
      before: z.record(z.string(), trackedValue).nullable(),
      after: z.record(z.string(), trackedValue),
    }),
  ),
  /** Recorded events left unprocessed past the threshold, processed again. */
  eventsReplayed: z.array(z.object({ eventId: z.string(), ok: z.boolean(), error: z.string().optional() })),
  /** What could not be checked (a customer Stripe kept failing on, say); the next run tries again. */
  errors: z.array(
    z.object({ customerId: z.string().optional(), eventId: z.string().optional(), message: z.string() }),
  ),
  /** Repairs and errors beyond the first 1000 of each, counted but not listed. */
  unlisted: z.object({ repaired: z.number().int(), errors: z.number().int() }),
});
export type ReconciliationReport = z.infer<typeof reconciliationReportSchema>;

export const reconciliationRunSchema = z.object({
  id: z.string(),
  trigger: reconciliationTriggerSchema,
  /** `interrupted`: the process running it stopped before it finished. */
  status: z.enum(['running', 'finished', 'interrupted']),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
  report: reconciliationReportSchema.nullable(),
});
export type ReconciliationRun = z.infer<typeof reconciliationRunSchema>;

export const adminReconciliationQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(50).default(10),
});
export const adminReconciliationResponse = z.object({ runs: z.array(reconciliationRunSchema) });
export const adminReconciliationRunResponse = z.object({ queued: z.literal(true), jobId: z.string() });
