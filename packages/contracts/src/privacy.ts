import { z } from 'zod';
import { invoiceSchema } from './billing.ts';
import { subscriptionStatusSchema } from './subscription.ts';
import { organizationRoleSchema } from './users.ts';

const date = z.iso.datetime();

/**
 * GET /api/account/export/: everything Tierbase holds about the signed-in user, as one JSON file.
 * Secrets are never part of it: no password hash, no session or reset token.
 */
export const accountExportSchema = z.object({
  format: z.literal('tierbase-account-export/1'),
  exportedAt: date,
  account: z.object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    emailVerified: z.boolean(),
    isStaff: z.boolean(),
    /** Whether sign-in asks for an authenticator code (never the key or the backup codes). */
    twoFactorEnabled: z.boolean(),
    createdAt: date,
    updatedAt: date,
  }),
  profile: z.object({ trialEnd: date.nullable(), createdAt: date }).nullable(),
  /** How the user signs in (e.g. "credential" for email + password); never the secret itself. */
  signInMethods: z.array(z.object({ provider: z.string(), createdAt: date })),
  sessions: z.array(
    z.object({
      createdAt: date,
      expiresAt: date,
      ipAddress: z.string().nullable(),
      userAgent: z.string().nullable(),
    }),
  ),
  /** The user's passkeys, by name; their public keys stay ours (they prove nothing to anyone else). */
  passkeys: z.array(
    z.object({ name: z.string(), createdAt: date, lastUsedAt: date.nullable(), backedUp: z.boolean() }),
  ),
  subscription: z
    .object({
      stripeCustomerId: z.string(),
      stripeSubscriptionId: z.string().nullable(),
      status: subscriptionStatusSchema.nullable(),
      plan: z.string().nullable(),
      interval: z.enum(['month', 'year']).nullable(),
      currentPeriodEnd: date.nullable(),
      cancelAtPeriodEnd: z.boolean(),
      trialEnd: date.nullable(),
      canceledAt: date.nullable(),
      createdAt: date,
      updatedAt: date,
    })
    .nullable(),
  aiRequests: z.array(
    z.object({
      id: z.string(),
      createdAt: date,
      finishedAt: date.nullable(),
      status: z.string(),
      model: z.string(),
      system: z.string().nullable(),
      prompt: z.string(),
      output: z.string(),
      totalTokens: z.number().int(),
    }),
  ),
  /** The emails sent to the account's address (their bodies carry one-time links, so they are left out). */
  emails: z.array(
    z.object({
      template: z.string(),
      subject: z.string(),
      status: z.string(),
      createdAt: date,
      sentAt: date.nullable(),
    }),
  ),
  /** Read from Stripe at export time. */
  invoices: z.array(invoiceSchema),
  /** The Stripe events received about the user's customer. */
  stripeEvents: z.array(
    z.object({ eventId: z.string(), eventType: z.string(), processed: z.boolean(), receivedAt: date }),
  ),
  /** The organizations the user belongs to (`subscription` and `invoices` are the personal workspace's). */
  organizations: z.array(
    z.object({ name: z.string(), personal: z.boolean(), role: organizationRoleSchema, joinedAt: date }),
  ),
});
export type AccountExport = z.infer<typeof accountExportSchema>;

/**
 * POST /api/account/delete/: the current password confirms it is the owner. A wrong one answers
 * 401 INVALID_CREDENTIALS and changes nothing.
 */
export const accountDeleteRequest = z.strictObject({
  password: z.string().min(1, 'Enter your password.').max(128),
});
export type AccountDeleteRequest = z.infer<typeof accountDeleteRequest>;
