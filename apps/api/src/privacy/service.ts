import { type AccountExport, ErrorCode, type Invoice } from '@tierbase/contracts';
import { verifyPassword } from 'better-auth/crypto';
import { eraseAiRequestsFor, exportAiRequestsFor } from '../ai/ledger.ts';
import { eraseStripeCustomer } from '../billing/erasure.ts';
import { listInvoices } from '../billing/invoices.ts';
import type { BillingContext } from '../billing/service.ts';
import {
  deleteSubscriptionsOf,
  personalSubscriptionOf,
  type SubscriptionRow,
  subscriptionForOrganization,
} from '../billing/subscriptions.ts';
import {
  customerEvents,
  redactCustomerEvents,
  redactUnlinkedCustomerEvents,
} from '../billing/webhook-events.ts';
import type { Database } from '../db/client.ts';
import type { Mailer } from '../email/mailer.ts';
import { eraseAddressOfFinished, eraseEmailsFor, exportEmailsFor } from '../email/outbox.ts';
import { AppError, notFound } from '../errors.ts';
import type { JobQueue } from '../jobs/queue.ts';
import {
  deleteOrganizations,
  eraseInvitationsTo,
  exportMembershipsFor,
  membershipSizes,
} from '../organizations/members.ts';
import { membershipChanged } from '../organizations/seats.ts';
import { INVALID_CREDENTIALS_MESSAGE } from '../users/accounts.ts';
import { erasePasskeysFor, exportPasskeysFor } from '../users/passkeys.ts';
import { deleteProfile, profileOf } from '../users/profile.ts';
import { deleteUserSessions, exportSessionsFor } from '../users/sessions.ts';
import {
  deleteUser,
  eraseSignInMethodsFor,
  eraseVerificationsFor,
  exportSignInMethodsFor,
  findUser,
  lockUser,
  passwordHashOf,
} from '../users/users.ts';

/**
 * The user's rights over their data: a copy of all of it (export) and its erasure (account
 * deletion). Both are used by the API (for the signed-in user) and by the CLI (for an operator).
 */
export interface PrivacyDeps {
  db: Database;
  mailer: Mailer;
  /** Undefined while no Stripe is configured: then only users who never had a customer can be erased. */
  billing: BillingContext | undefined;
  /** Leaving a team on deletion changes its seats (organizations/seats.ts). */
  jobs: Pick<JobQueue, 'send'>;
}

const DELETED_TEMPLATE = 'account-deleted';

const iso = (value: Date) => value.toISOString();
const isoOrNull = (value: Date | null) => (value ? value.toISOString() : null);

/** Everything held about the user, as the export document; 404 when there is no such user. */
export async function exportUserData(deps: PrivacyDeps, userId: string): Promise<AccountExport> {
  const { db } = deps;
  const user = await findUser(db, userId);
  if (!user) throw notFound('No such user.');
  const profile = await profileOf(db, userId);
  // What the user pays for themself: their personal workspace's subscription. A team's billing
  // belongs to the team, not to one member's export.
  const subscription = await personalSubscriptionOf(db, userId);

  const [signInMethods, sessionRows, passkeyRows, aiRows, emails, invoices, events, memberships] =
    await Promise.all([
      exportSignInMethodsFor(db, userId),
      exportSessionsFor(db, userId),
      exportPasskeysFor(db, userId),
      exportAiRequestsFor(db, userId),
      exportEmailsFor(db, user.email),
      subscription ? allInvoices(deps, subscription.stripeCustomerId) : Promise.resolve([]),
      subscription ? customerEvents(db, subscription.stripeCustomerId) : Promise.resolve([]),
      exportMembershipsFor(db, userId),
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
    organizations: memberships.map((row) => ({
      name: row.name,
      personal: row.personalUserId !== null,
      role: row.role,
      joinedAt: iso(row.joinedAt),
    })),
  };
}

/**
 * Every invoice of the personal workspace's customer, from Stripe. Without Stripe configured, or
 * when Stripe cannot be reached, the export fails (502/503) rather than silently leaving the
 * invoices out.
 */
async function allInvoices(deps: PrivacyDeps, customerId: string): Promise<Invoice[]> {
  if (!deps.billing) throw billingNeeded();
  const invoices: Invoice[] = [];
  let startingAfter: string | undefined;
  for (;;) {
    const page = await listInvoices(deps.billing, customerId, { limit: 100, startingAfter });
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
  const hash = await passwordHashOf(db, userId);
  if (!hash) {
    throw new AppError({
      status: 401,
      code: ErrorCode.INVALID_CREDENTIALS,
      message: 'This account has no password. Set one with "Forgot password", then delete the account.',
    });
  }
  if (!(await verifyPassword({ hash, password }))) throw invalidCredentials();
}

export interface DeletionOutcome {
  /** False when there was no such user (already deleted): nothing was done. */
  deleted: boolean;
  canceledSubscriptions: string[];
}

/** What a deletion does to the user's organizations. */
interface OrganizationsOfUser {
  /** Deleted with the account: the personal workspace and teams the user owns alone. */
  owned: string[];
  /** Teams the user belongs to without owning them: they lose a member (and a seat). */
  joined: string[];
  /** Teams the user owns that have other members: these block the deletion. */
  blocking: string[];
}

async function organizationsOf(db: Database, userId: string): Promise<OrganizationsOfUser> {
  const result: OrganizationsOfUser = { owned: [], joined: [], blocking: [] };
  for (const row of await membershipSizes(db, userId)) {
    if (row.role !== 'owner') result.joined.push(row.id);
    else if (row.members > 1) result.blocking.push(row.id);
    else result.owned.push(row.id);
  }
  return result;
}

/**
 * An account that owns a team with other members cannot be deleted: the team, its subscription
 * and its members' work would go with it, or be left without an owner (decision 24).
 */
const ownsTeam = () =>
  new AppError({
    status: 409,
    code: ErrorCode.OWNS_TEAM_ORGANIZATION,
    message:
      'You own an organization that has other members. Transfer its ownership to another member (or remove the members and delete it) before deleting your account.',
  });

/**
 * Erases the account. Refused (409 OWNS_TEAM_ORGANIZATION) while the user owns a team with other
 * members. Safe to call again after any failure, and the order makes it so:
 *
 * 1. Stripe: for the personal workspace and every team the user owns alone, live subscriptions
 *    canceled at once, then the customer deleted (Stripe keeps the invoices). A failure here
 *    changes nothing of ours; the caller retries.
 * 2. One database transaction, under the personal customer's lock so no webhook re-reads it
 *    half-way: the recorded events about those customers are redacted; the emails to the address
 *    lose address and body (undelivered ones are dropped); reset tokens, invitations to the address,
 *    AI requests, sessions, passkeys, the password hash, the organizations the user owns alone (with
 *    their subscription rows: later webhooks find no one), the profile and finally the user row
 *    (and with it their memberships of other teams, whose seat sync is enqueued) are deleted; and
 *    the "account deleted" email is stored.
 *
 * The re-authentication is the caller's (the route checks the password; the CLI is the operator).
 */
export async function deleteAccount(deps: PrivacyDeps, userId: string): Promise<DeletionOutcome> {
  const { db, billing } = deps;
  const before = await organizationsOf(db, userId);
  if (before.blocking.length > 0) throw ownsTeam();
  const customers: SubscriptionRow[] = [];
  for (const organizationId of before.owned) {
    const row = await subscriptionForOrganization(db, organizationId);
    if (row) customers.push(row);
  }
  const personal = await personalSubscriptionOf(db, userId);
  const canceledSubscriptions: string[] = [];
  for (const customer of customers) {
    if (!billing) throw billingNeeded();
    const erased = await eraseStripeCustomer(billing, customer.stripeCustomerId);
    canceledSubscriptions.push(...erased.canceledSubscriptions);
  }

  const erase = (database: Database) =>
    database.transaction(async (tx) => {
      const user = await lockUser(tx, userId);
      if (!user) return false;
      // Read again under the lock: a member may have joined one of the user's teams meanwhile.
      const now = await organizationsOf(tx, user.id);
      if (now.blocking.length > 0) throw ownsTeam();
      for (const customer of customers) await redactCustomerEvents(tx, customer.stripeCustomerId);

      await eraseEmailsFor(tx, user.email);
      await eraseVerificationsFor(tx, user);
      await eraseInvitationsTo(tx, user.email);
      await eraseAiRequestsFor(tx, user.id);
      await deleteUserSessions(tx, user.id);
      await erasePasskeysFor(tx, user.id);
      await eraseSignInMethodsFor(tx, user.id);
      if (now.owned.length > 0) {
        await deleteSubscriptionsOf(tx, now.owned);
        await deleteOrganizations(tx, now.owned);
      }
      // The memberships go with the user row; the teams' seat counts follow.
      for (const organizationId of now.joined) await membershipChanged(deps.jobs, tx, organizationId);
      await deleteProfile(tx, user.id);
      await deleteUser(tx, user.id);

      // In the same transaction: the notice goes out if and only if the erasure commits, so it
      // needs no dedupe key (which would keep the user id). It holds the address until it has left
      // the outbox; `eraseLeftovers` then erases that too.
      await deps.mailer.send({ to: user.email, template: DELETED_TEMPLATE, data: {} }, { transaction: tx });
      return true;
    });

  const deleted =
    personal && billing ? await billing.lock(personal.stripeCustomerId, erase) : await erase(db);
  return { deleted, canceledSubscriptions };
}

/**
 * The periodic part of erasure: the address on "account deleted" notices that have left the
 * outbox (delivered, or stored for good when no SMTP is configured, or failed for good), and the
 * payloads of Stripe events that arrived after their customer's account was deleted.
 */
export async function eraseLeftovers(db: Database): Promise<{ notices: number; events: number }> {
  const notices = await eraseAddressOfFinished(db, DELETED_TEMPLATE);
  const events = await redactUnlinkedCustomerEvents(db);
  return { notices, events };
}
