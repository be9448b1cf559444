import { z } from 'zod';
import { pageCursorSchema } from './cursor.ts';
import { subscriptionStatusSchema } from './subscription.ts';
import { organizationRoleSchema } from './users.ts';

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
  /** Set while staff have deactivated the account: it cannot sign in. */
  deactivatedAt: z.iso.datetime().nullable(),
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

export const adminWebhookEventStatusSchema = z.enum(['processed', 'failed', 'pending']);

export const adminWebhookEventsQuery = z.strictObject({
  /** Only events not processed yet (failed or in flight). */
  failed: z.stringbool().optional(),
  /**
   * processed: took effect; failed: not processed and the last attempt failed; pending: not
   * processed and no failure recorded (in flight, or never attempted).
   */
  status: adminWebhookEventStatusSchema.optional(),
  /** The exact Stripe event type, e.g. `invoice.payment_failed`. */
  type: z.string().trim().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  /** `nextCursor` of the previous page. */
  cursor: pageCursorSchema.optional(),
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
export type AdminWebhookEvent = z.infer<typeof adminWebhookEventSchema>;
export const adminWebhookEventsResponse = z.object({
  events: z.array(adminWebhookEventSchema),
  nextCursor: z.string().nullable(),
});
export type AdminWebhookEventsResponse = z.infer<typeof adminWebhookEventsResponse>;

/** One recorded event with the payload Stripe sent, as stored. */
export const adminWebhookEventDetailSchema = adminWebhookEventSchema.extend({
  payload: z.record(z.string(), z.unknown()),
});
export type AdminWebhookEventDetail = z.infer<typeof adminWebhookEventDetailSchema>;

export const adminReplayResponse = z.object({
  eventId: z.string(),
  ok: z.boolean(),
  error: z.string().optional(),
});
export type AdminReplayResponse = z.infer<typeof adminReplayResponse>;

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
export type AdminEmail = z.infer<typeof adminEmailSchema>;
export const adminEmailsResponse = z.object({ emails: z.array(adminEmailSchema) });
export type AdminEmailsResponse = z.infer<typeof adminEmailsResponse>;
export const adminEmailRetryResponse = z.object({ id: z.string(), status: z.literal('queued') });

export type AdminUsersResponse = z.infer<typeof adminUsersResponse>;

/** GET /api/admin/users/:id/ — the user, their whole subscription row and their live sessions. */
export const adminUserDetailSchema = adminUserSchema.extend({
  subscription: z
    .object({
      status: subscriptionStatusSchema.nullable(),
      plan: z.string().nullable(),
      interval: z.enum(['month', 'year']).nullable(),
      stripeCustomerId: z.string(),
      stripeSubscriptionId: z.string().nullable(),
      currentPeriodEnd: z.iso.datetime().nullable(),
      cancelAtPeriodEnd: z.boolean(),
      trialEnd: z.iso.datetime().nullable(),
      pastDueSince: z.iso.datetime().nullable(),
      canceledAt: z.iso.datetime().nullable(),
      /** When the row was last written from Stripe. */
      updatedAt: z.iso.datetime(),
    })
    .nullable(),
  /** Sessions that have not expired. */
  activeSessions: z.number().int(),
  /**
   * Every organization the user belongs to, personal workspace first, with its subscription (the
   * `subscription` above is the personal workspace's: what the user pays for themself).
   */
  organizations: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      personal: z.boolean(),
      role: organizationRoleSchema,
      memberCount: z.number().int(),
      subscription: z
        .object({
          status: subscriptionStatusSchema.nullable(),
          plan: z.string().nullable(),
          stripeCustomerId: z.string(),
          quantity: z.number().int().nullable(),
        })
        .nullable(),
    }),
  ),
});
export type AdminUserDetail = z.infer<typeof adminUserDetailSchema>;

/**
 * POST /api/admin/users/:id/{deactivate,reactivate,make-staff,revoke-staff,sync-subscription}/
 * answer with the user as it now is. A staff member cannot deactivate or demote themself
 * (409 CONFLICT); sync-subscription answers 409 CONFLICT for a user with no Stripe customer.
 */
export const adminUserActionResponse = adminUserDetailSchema;

export const adminAiUsageQuery = z.strictObject({
  /** The calendar month (UTC), `YYYY-MM`; the current one by default. */
  month: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'Use the form YYYY-MM.')
    .optional(),
});

const aiUsageFigures = {
  /** Calls that did not fail (completed, cancelled, running). */
  requests: z.number().int(),
  failed: z.number().int(),
  promptTokens: z.number().int(),
  completionTokens: z.number().int(),
  totalTokens: z.number().int(),
};

/** AI calls per user in one calendar month, the heaviest users first (at most 100), and totals. */
export const adminAiUsageResponse = z.object({
  period: z.object({ start: z.iso.datetime(), end: z.iso.datetime() }),
  totals: z.object({ ...aiUsageFigures, users: z.number().int() }),
  users: z.array(z.object({ userId: z.string(), email: z.string(), ...aiUsageFigures })),
});
export type AdminAiUsage = z.infer<typeof adminAiUsageResponse>;

export const adminAuditQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  /** `nextCursor` of the previous page. */
  cursor: pageCursorSchema.optional(),
});

export const adminAuditEntrySchema = z.object({
  id: z.string(),
  /** Null once the staff member's account has been deleted. */
  staffUserId: z.string().nullable(),
  staffEmail: z.string().nullable(),
  /** e.g. `user.deactivate`, `user.make_staff`, `subscription.sync`, `webhook_event.replay`. */
  action: z.string(),
  targetType: z.string(),
  targetId: z.string(),
  details: z.record(z.string(), z.unknown()),
  createdAt: z.iso.datetime(),
});
export type AdminAuditEntry = z.infer<typeof adminAuditEntrySchema>;
export const adminAuditResponse = z.object({
  entries: z.array(adminAuditEntrySchema),
  nextCursor: z.string().nullable(),
});
export type AdminAuditResponse = z.infer<typeof adminAuditResponse>;

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
      /** The organization whose row was repaired. */
      organizationId: z.string().optional(),
      /** Reports written before organizations name the user instead. */
      userId: z.string().optional(),
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
export type AdminReconciliationResponse = z.infer<typeof adminReconciliationResponse>;
export const adminReconciliationRunResponse = z.object({ queued: z.literal(true), jobId: z.string() });
export type AdminReconciliationRunResponse = z.infer<typeof adminReconciliationRunResponse>;
