import {
  type AdminAiUsage,
  type AdminAuditEntry,
  type AdminUser,
  type AdminUserDetail,
  type AdminWebhookEventDetail,
  encodeCursor,
  type PageCursor,
} from '@tierbase/contracts';
import { desc } from 'drizzle-orm';
import { usageByUser } from '../ai/ledger.ts';
import { addMonths, calendarMonth } from '../ai/period.ts';
import { type SubscriptionRow, subscriptionsForOrganizations } from '../billing/subscriptions.ts';
import { type WebhookEventRow, webhookEvent, webhookEventPage } from '../billing/webhook-events.ts';
import type { Database } from '../db/client.ts';
import { before } from '../db/pagination.ts';
import { adminAuditLog } from '../db/schema/admin.ts';
import { listOutbox, type OutboxStatus } from '../email/outbox.ts';
import { personalWorkspacesOf } from '../organizations/members.ts';
import { membershipsOf } from '../organizations/service.ts';
import { personalWorkspaceId } from '../organizations/workspaces.ts';
import { countActiveSessions } from '../users/sessions.ts';
import { contactsOf, findUser, listUsersPage, type UserRow } from '../users/users.ts';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** What every staff view of a subscription starts with. */
const billedAs = (row: SubscriptionRow) => ({
  status: row.status,
  plan: row.plan,
  stripeCustomerId: row.stripeCustomerId,
});

/** Users for the staff list: newest first, searchable by email or name prefix, a page at a time. */
export async function listUsers(
  db: Database,
  query: { search?: string | undefined; limit: number; cursor?: PageCursor | undefined },
): Promise<{ users: AdminUser[]; nextCursor: string | null }> {
  const rows = await listUsersPage(db, query);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  // The subscription shown is the personal workspace's: what the user pays for themself.
  const personal = await personalWorkspacesOf(
    db,
    page.map((user) => user.id),
  );
  const subscriptionOf = await subscriptionsForOrganizations(db, [...personal.values()]);
  return {
    users: page.map((user) => {
      const organizationId = personal.get(user.id);
      const subscription = organizationId ? subscriptionOf.get(organizationId) : undefined;
      return {
        ...userFields(user),
        subscription: subscription
          ? {
              ...billedAs(subscription),
              currentPeriodEnd: iso(subscription.currentPeriodEnd),
              cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
            }
          : null,
      };
    }),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}

function userFields(user: UserRow) {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    emailVerified: user.emailVerified,
    isStaff: user.isStaff,
    deactivatedAt: iso(user.deactivatedAt),
    createdAt: user.createdAt.toISOString(),
  };
}

/**
 * One user with their personal workspace's whole subscription row, how many sessions they hold and
 * every organization they belong to (with its subscription); null if none.
 */
export async function getUserDetail(db: Database, userId: string): Promise<AdminUserDetail | null> {
  const user = await findUser(db, userId);
  if (!user) return null;
  const [personalId, activeSessions, memberships] = await Promise.all([
    personalWorkspaceId(db, userId),
    countActiveSessions(db, userId),
    membershipsOf(db, userId),
  ]);
  const subscriptionOf = await subscriptionsForOrganizations(db, [
    ...(personalId ? [personalId] : []),
    ...memberships.map((membership) => membership.id),
  ]);
  const subscription = personalId ? subscriptionOf.get(personalId) : undefined;
  return {
    ...userFields(user),
    subscription: subscription
      ? {
          ...billedAs(subscription),
          interval: subscription.interval,
          stripeSubscriptionId: subscription.stripeSubscriptionId,
          currentPeriodEnd: iso(subscription.currentPeriodEnd),
          cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
          trialEnd: iso(subscription.trialEnd),
          pastDueSince: iso(subscription.pastDueSince),
          canceledAt: iso(subscription.canceledAt),
          updatedAt: subscription.updatedAt.toISOString(),
        }
      : null,
    activeSessions,
    organizations: memberships.map((membership) => {
      const row = subscriptionOf.get(membership.id);
      return {
        id: membership.id,
        name: membership.name,
        personal: membership.personalUserId !== null,
        role: membership.role,
        memberCount: membership.memberCount,
        subscription: row
          ? {
              ...billedAs(row),
              quantity: row.quantity,
            }
          : null,
      };
    }),
  };
}

function eventFields(row: WebhookEventRow) {
  return {
    eventId: row.eventId,
    eventType: row.eventType,
    processed: row.processed,
    processedAt: iso(row.processedAt),
    attempts: row.attempts,
    errorMessage: row.errorMessage,
    note: row.note,
    createdAt: row.createdAt.toISOString(),
  };
}

/**
 * Recorded Stripe events, newest first, by type and status; `failed: true` (the older filter)
 * keeps every event not processed yet, failed or in flight.
 */
export async function listWebhookEvents(db: Database, query: Parameters<typeof webhookEventPage>[1]) {
  const { rows, more } = await webhookEventPage(db, query);
  const last = rows.at(-1);
  return {
    events: rows.map(eventFields),
    nextCursor: more && last ? encodeCursor(last.createdAt, last.eventId) : null,
  };
}

export async function getWebhookEvent(
  db: Database,
  eventId: string,
): Promise<AdminWebhookEventDetail | null> {
  const row = await webhookEvent(db, eventId);
  return row ? { ...eventFields(row), payload: row.payload } : null;
}

/** Outbox emails, newest first, optionally by status (e.g. the failed ones, to retry). */
export async function listEmails(db: Database, query: { status?: OutboxStatus | undefined; limit: number }) {
  const rows = await listOutbox(db, query);
  return rows.map((row) => ({
    id: row.id,
    to: row.toAddress,
    subject: row.subject,
    template: row.template,
    status: row.status,
    attempts: row.attempts,
    lastError: row.lastError,
    createdAt: row.createdAt.toISOString(),
    sentAt: iso(row.sentAt),
  }));
}

/**
 * AI calls in one calendar month (UTC): per user, the heaviest first (100 at most), and in total.
 * Tokens are what settled calls used; a running call counts as a request with no tokens yet.
 */
export async function aiUsage(
  db: Database,
  month: string | undefined,
  now = new Date(),
): Promise<AdminAiUsage> {
  const period = month ? monthPeriod(month) : calendarMonth(now);
  const { totals, perUser } = await usageByUser(db, period);
  const emails = await contactsOf(
    db,
    perUser.map((row) => row.userId),
  );
  // Two queries rather than a join: the figures are the AI ledger's, the addresses the users'.
  const users = perUser.flatMap(({ userId, ...figures }) => {
    const email = emails.get(userId)?.email;
    return email === undefined ? [] : [{ userId, email, ...figures }];
  });
  return {
    period: { start: period.start.toISOString(), end: period.end.toISOString() },
    totals: totals ?? {
      requests: 0,
      failed: 0,
      promptTokens: 0,
      completionTokens: 0,
      totalTokens: 0,
      users: 0,
    },
    users,
  };
}

function monthPeriod(month: string) {
  const [year, monthNumber] = month.split('-').map(Number);
  const start = new Date(Date.UTC(year ?? 1970, (monthNumber ?? 1) - 1, 1));
  return { start, end: addMonths(start, 1) };
}

/** The audit log, newest first, a page at a time, with each staff member's current email. */
export async function listAudit(
  db: Database,
  query: { limit: number; cursor?: PageCursor | undefined },
): Promise<{ entries: AdminAuditEntry[]; nextCursor: string | null }> {
  const rows = await db
    .select()
    .from(adminAuditLog)
    .where(before(adminAuditLog.createdAt, adminAuditLog.id, query.cursor))
    .orderBy(desc(adminAuditLog.createdAt), desc(adminAuditLog.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const staff = await contactsOf(
    db,
    page.flatMap((entry) => entry.staffUserId ?? []),
  );
  return {
    entries: page.map((entry) => ({
      id: entry.id,
      staffUserId: entry.staffUserId,
      staffEmail: entry.staffUserId ? (staff.get(entry.staffUserId)?.email ?? null) : null,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      details: entry.details,
      createdAt: entry.createdAt.toISOString(),
    })),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last.createdAt, last.id) : null,
  };
}
