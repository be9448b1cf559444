import { type AccountExport, ErrorCode, type Invoice } from '@tierbase/contracts';
import { verifyPassword } from 'better-auth/crypto';
import { and, asc, eq, inArray, ne, or, sql } from 'drizzle-orm';
import {
  customerEvents,
  eraseStripeCustomer,
  redactCustomerEvents,
  redactUnlinkedCustomerEvents,
} from '../billing/erasure.ts';
import { listInvoices } from '../billing/invoices.ts';
import type { BillingContext } from '../billing/service.ts';
import { findByUser } from '../billing/subscription-sync.ts';
import type { Database } from '../db/client.ts';
import {
  accounts,
  aiRequests,
  emailOutbox,
  passkeys,
  profiles,
  sessions,
  subscriptions,
  users,
  verifications,
} from '../db/schema/index.ts';
import type { Mailer } from '../email/mailer.ts';
import { AppError, notFound } from '../errors.ts';
import { INVALID_CREDENTIALS_MESSAGE } from '../users/accounts.ts';

/**
 * The user's rights over their data: a copy of all of it (export) and its erasure (account
 * deletion). Both are used by the API (for the signed-in user) and by the CLI (for an operator).
 */
export interface PrivacyDeps {
  db: Database;
  mailer: Mailer;
  /** Undefined while no Stripe is configured: then only users who never had a customer can be erased. */
  billing: BillingContext | undefined;
}

/** What an erased outbox row's address becomes: not an address, and the same for everyone. */
export const ERASED_ADDRESS = 'erased';
const DELETED_TEMPLATE = 'account-deleted';

const iso = (value: Date) => value.toISOString();
const isoOrNull = (value: Date | null) => (value ? value.toISOString() : null);
const sameAddress = (email: string) => sql`lower(${emailOutbox.toAddress}) = lower(${email})`;

/** Everything held about the user, as the export document; 404 when there is no such user. */
export async function exportUserData(deps: PrivacyDeps, userId: string): Promise<AccountExport> {
  const { db } = deps;
  const [user] = await db.select().from(users).where(eq(users.id, userId));
  if (!user) throw notFound('No such user.');
  const [profile] = await db.select().from(profiles).where(eq(profiles.userId, userId));
  const subscription = await findByUser(db, userId);

  const [signInMethods, sessionRows, passkeyRows, aiRows, emails, invoices, events] = await Promise.all([
    db
      .select({ provider: accounts.providerId, createdAt: accounts.createdAt })
      .from(accounts)
      .where(eq(accounts.userId, userId))
      .orderBy(asc(accounts.createdAt)),
    db
      .select({
        createdAt: sessions.createdAt,
        expiresAt: sessions.expiresAt,
        ipAddress: sessions.ipAddress,
        userAgent: sessions.userAgent,
      })
      .from(sessions)
      .where(eq(sessions.userId, userId))
      .orderBy(asc(sessions.createdAt)),
    db
      .select({
        name: passkeys.name,
        createdAt: passkeys.createdAt,
        lastUsedAt: passkeys.lastUsedAt,
        backedUp: passkeys.backedUp,
      })
      .from(passkeys)
      .where(eq(passkeys.userId, userId))
      .orderBy(asc(passkeys.createdAt)),
    db.select().from(aiRequests).where(eq(aiRequests.userId, userId)).orderBy(asc(aiRequests.createdAt)),
    db
      .select({
        template: emailOutbox.template,
        subject: emailOutbox.subject,
        status: emailOutbox.status,
        createdAt: emailOutbox.createdAt,
        sentAt: emailOutbox.sentAt,
      })
      .from(emailOutbox)
      .where(sameAddress(user.email))
      .orderBy(asc(emailOutbox.createdAt)),
    subscription ? allInvoices(deps, userId) : Promise.resolve([]),
    subscription ? customerEvents(db, subscription.stripeCustomerId) : Promise.resolve([]),
  ]);

  return {
    format: 'tierbase-account-export/1',
    exportedAt: new Date().toISOString(),
    account: {
      id: user.id,
      email: user.email,
      name: user.name,
      emailVerified: user.emailVerified,
      isStaff: user.isStaff,
      twoFactorEnabled: user.twoFactorEnabled,
      createdAt: iso(user.createdAt),
      updatedAt: iso(user.updatedAt),
    },
    profile: profile ? { trialEnd: isoOrNull(profile.trialEnd), createdAt: iso(profile.createdAt) } : null,
    signInMethods: signInMethods.map((row) => ({ provider: row.provider, createdAt: iso(row.createdAt) })),
    sessions: sessionRows.map((row) => ({
      createdAt: iso(row.createdAt),
      expiresAt: iso(row.expiresAt),
      ipAddress: row.ipAddress,
      userAgent: row.userAgent,
    })),
    passkeys: passkeyRows.map((row) => ({
      name: row.name,
      createdAt: iso(row.createdAt),
      lastUsedAt: isoOrNull(row.lastUsedAt),
      backedUp: row.backedUp,
    })),
    subscription: subscription
      ? {
          stripeCustomerId: subscription.stripeCustomerId,
          stripeSubscriptionId: subscription.stripeSubscriptionId,
          status: subscription.status,
          plan: subscription.plan,
          interval: subscription.interval,
          currentPeriodEnd: isoOrNull(subscription.currentPeriodEnd),
          cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
          trialEnd: isoOrNull(subscription.trialEnd),
          canceledAt: isoOrNull(subscription.canceledAt),
          createdAt: iso(subscription.createdAt),
          updatedAt: iso(subscription.updatedAt),
        }
      : null,
    aiRequests: aiRows.map((row) => ({
      id: row.id,
      createdAt: iso(row.createdAt),
      finishedAt: isoOrNull(row.finishedAt),
      status: row.status,
      model: row.model,
      system: row.system,
      prompt: row.prompt,
      output: row.output,
      totalTokens: row.totalTokens,
    })),
    emails: emails.map((row) => ({
      template: row.template,
      subject: row.subject,
      status: row.status,
      createdAt: iso(row.createdAt),
      sentAt: isoOrNull(row.sentAt),
    })),
    invoices,
    stripeEvents: events.map((event) => ({ ...event, receivedAt: iso(event.receivedAt) })),
  };
}

/**
 * Every invoice of the user's customer, from Stripe. Without Stripe configured, or when Stripe
 * cannot be reached, the export fails (502/503) rather than silently leaving the invoices out.
 */
async function allInvoices(deps: PrivacyDeps, userId: string): Promise<Invoice[]> {
  if (!deps.billing) throw billingNeeded();
  const invoices: Invoice[] = [];
  let startingAfter: string | undefined;
  for (;;) {
    const page = await listInvoices(deps.billing, userId, { limit: 100, startingAfter });
    invoices.push(...page.invoices);
    if (!page.hasMore || !page.nextCursor) return invoices;
    startingAfter = page.nextCursor;
  }
}

const billingNeeded = () =>
  new AppError({
    status: 503,
    code: ErrorCode.SERVICE_UNAVAILABLE,
    message: 'Billing is not configured, so the Stripe side of this account cannot be reached.',
  });

const invalidCredentials = () =>
  new AppError({ status: 401, code: ErrorCode.INVALID_CREDENTIALS, message: INVALID_CREDENTIALS_MESSAGE });

/**
 * Re-authentication before a deletion: the account's current password. An account without one
 * (none can be made today: sign-up and create-admin both set one) must first set one through the
 * password-reset email, which proves it controls the address.
 */
export async function confirmPassword(db: Database, userId: string, password: string): Promise<void> {
  const [credential] = await db
    .select({ hash: accounts.password })
    .from(accounts)
    .where(and(eq(accounts.userId, userId), eq(accounts.providerId, 'credential')));
  if (!credential?.hash) {
    throw new AppError({
      status: 401,
      code: ErrorCode.INVALID_CREDENTIALS,
      message: 'This account has no password. Set one with "Forgot password", then delete the account.',
    });
  }
  if (!(await verifyPassword({ hash: credential.hash, password }))) throw invalidCredentials();
}

export interface DeletionOutcome {
  /** False when there was no such user (already deleted): nothing was done. */
  deleted: boolean;
  canceledSubscriptions: string[];
}

/**
 * Erases the account. Safe to call again after any failure, and the order makes it so:
 *
 * 1. Stripe: live subscriptions canceled at once, then the customer deleted (Stripe keeps the
 *    invoices). A failure here changes nothing of ours; the caller retries.
 * 2. One database transaction, under the customer's lock so no webhook re-reads the customer
 *    half-way: the recorded events about the customer are redacted; the emails to the address lose
 *    address and body (undelivered ones are dropped); reset tokens, AI requests, sessions, passkeys,
 *    the password hash, the subscription row (the customer mapping: later webhooks find no one), the
 *    profile and finally the user row are deleted; and the "account deleted" email is stored.
 *
 * The re-authentication is the caller's (the route checks the password; the CLI is the operator).
 */
export async function deleteAccount(deps: PrivacyDeps, userId: string): Promise<DeletionOutcome> {
  const { db, billing } = deps;
  const subscription = await findByUser(db, userId);
  let canceledSubscriptions: string[] = [];
  if (subscription) {
    if (!billing) throw billingNeeded();
    ({ canceledSubscriptions } = await eraseStripeCustomer(billing, subscription.stripeCustomerId));
  }

  const erase = (database: Database) =>
    database.transaction(async (tx) => {
      const [user] = await tx
        .select({ id: users.id, email: users.email })
        .from(users)
        .where(eq(users.id, userId))
        .for('update');
      if (!user) return false;
      if (subscription) await redactCustomerEvents(tx, subscription.stripeCustomerId);

      // Not delivered yet (or never deliverable): they must not go out now, and nothing needs them.
      await tx
        .delete(emailOutbox)
        .where(and(sameAddress(user.email), inArray(emailOutbox.status, ['queued', 'failed'])));
      await tx
        .update(emailOutbox)
        .set({ toAddress: ERASED_ADDRESS, html: '', text: '', lastError: null })
        .where(sameAddress(user.email));

      // Reset tokens name the user in `value`; anything keyed by the address goes too.
      await tx
        .delete(verifications)
        .where(
          or(
            eq(verifications.value, user.id),
            sql`lower(${verifications.identifier}) = lower(${user.email})`,
          ),
        );
      await tx.delete(aiRequests).where(eq(aiRequests.userId, user.id));
      await tx.delete(sessions).where(eq(sessions.userId, user.id));
      await tx.delete(passkeys).where(eq(passkeys.userId, user.id));
      await tx.delete(accounts).where(eq(accounts.userId, user.id));
      await tx.delete(subscriptions).where(eq(subscriptions.userId, user.id));
      await tx.delete(profiles).where(eq(profiles.userId, user.id));
      await tx.delete(users).where(eq(users.id, user.id));

      // In the same transaction: the notice goes out if and only if the erasure commits, so it
      // needs no dedupe key (which would keep the user id). It holds the address until it has left
      // the outbox; `eraseLeftovers` then erases that too.
      await deps.mailer.send({ to: user.email, template: DELETED_TEMPLATE, data: {} }, { transaction: tx });
      return true;
    });

  const deleted =
    subscription && billing ? await billing.lock(subscription.stripeCustomerId, erase) : await erase(db);
  return { deleted, canceledSubscriptions };
}

/**
 * The periodic part of erasure: the address on "account deleted" notices that have left the
 * outbox (delivered, or stored for good when no SMTP is configured, or failed for good), and the
 * payloads of Stripe events that arrived after their customer's account was deleted.
 */
export async function eraseLeftovers(db: Database): Promise<{ notices: number; events: number }> {
  const notices = await db
    .update(emailOutbox)
    .set({ toAddress: ERASED_ADDRESS })
    .where(
      and(
        eq(emailOutbox.template, DELETED_TEMPLATE),
        inArray(emailOutbox.status, ['sent', 'stored', 'failed']),
        ne(emailOutbox.toAddress, ERASED_ADDRESS),
      ),
    )
    .returning({ id: emailOutbox.id });
  const events = await redactUnlinkedCustomerEvents(db);
  return { notices: notices.length, events };
}

/** The user with this email (any case), for the CLI. */
export async function findUserIdByEmail(db: Database, email: string): Promise<string | undefined> {
  const [user] = await db
    .select({ id: users.id })
    .from(users)
    .where(sql`lower(${users.email}) = lower(${email})`);
  return user?.id;
}
