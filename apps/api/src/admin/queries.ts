import {
  type AdminAiUsage,
  type AdminAuditEntry,
  type AdminUser,
  type AdminUserDetail,
  type AdminWebhookEventDetail,
  encodeCursor,
  type PageCursor,
} from '@tierbase/contracts';
import { and, desc, eq, gte, ilike, lt, or, type SQL, sql } from 'drizzle-orm';
import { addMonths, calendarMonth } from '../ai/period.ts';
import { type SubscriptionRow, subscriptionsForOrganizations } from '../billing/subscriptions.ts';
import { type WebhookEventRow, webhookEvent, webhookEventPage } from '../billing/webhook-events.ts';
import type { Database } from '../db/client.ts';
import { before } from '../db/keyset.ts';
import { adminAuditLog } from '../db/schema/admin.ts';
import { aiRequests } from '../db/schema/ai.ts';
import { sessions, users } from '../db/schema/auth.ts';
import { emailOutbox } from '../db/schema/email.ts';
import { organizationMembers, organizations } from '../db/schema/organizations.ts';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** Escapes LIKE's wildcards so a search for "a_b" matches only "a_b". */
const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/** Users for the staff list: newest first, searchable by email or name prefix, a page at a time. */
export async function listUsers(
  db: Database,
  query: { search?: string | undefined; limit: number; cursor?: PageCursor | undefined },
): Promise<{ users: AdminUser[]; nextCursor: string | null }> {
  const conditions: (SQL | undefined)[] = [before(users.createdAt, users.id, query.cursor)];
  if (query.search) {
    const pattern = likePrefix(query.search);
    conditions.push(or(ilike(users.email, pattern), ilike(users.name, pattern)));
  }
  // The subscription shown is the personal workspace's: what the user pays for themself.
  const rows = await db
    .select({ user: users, personalId: organizations.id })
    .from(users)
    .leftJoin(organizations, eq(organizations.personalUserId, users.id))
    .where(and(...conditions))
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const subscriptions = await subscriptionsForOrganizations(
    db,
    page.flatMap((row) => row.personalId ?? []),
  );
  return {
    users: page.map(({ user, personalId }) => ({
      ...userFields(user),
      subscription: listedSubscription(personalId ? subscriptions.get(personalId) : undefined),
    })),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last.user.createdAt, last.user.id) : null,
  };
}

/** The personal workspace's subscription as the staff list shows it. */
function listedSubscription(subscription: SubscriptionRow | undefined) {
  return subscription
    ? {
        status: subscription.status,
        plan: subscription.plan,
        stripeCustomerId: subscription.stripeCustomerId,
        currentPeriodEnd: iso(subscription.currentPeriodEnd),
        cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
      }
    : null;
}

function userFields(user: typeof users.$inferSelect) {
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
  const [row] = await db
    .select({
      user: users,
      personalId: organizations.id,
      activeSessions: sql<number>`(select count(*) from ${sessions}
        where ${sessions.userId} = ${users.id} and ${sessions.expiresAt} > now())`.mapWith(Number),
    })
    .from(users)
    .leftJoin(organizations, eq(organizations.personalUserId, users.id))
    .where(eq(users.id, userId));
  if (!row) return null;
  const { user, personalId } = row;
  const memberships = await db
    .select({
      id: organizations.id,
      name: organizations.name,
      personalUserId: organizations.personalUserId,
      role: organizationMembers.role,
      memberCount: sql<number>`(select count(*) from ${organizationMembers} as m
        where m.organization_id = ${organizations.id})`.mapWith(Number),
    })
    .from(organizationMembers)
    .innerJoin(organizations, eq(organizations.id, organizationMembers.organizationId))
    .where(eq(organizationMembers.userId, userId))
    .orderBy(sql`${organizations.personalUserId} is null`, organizations.name, organizations.id);
  const subscriptions = await subscriptionsForOrganizations(db, [
    ...(personalId ? [personalId] : []),
    ...memberships.map((membership) => membership.id),
  ]);
  const subscription = personalId ? subscriptions.get(personalId) : undefined;
  return {
    ...userFields(user),
    subscription: subscription
      ? {
          status: subscription.status,
          plan: subscription.plan,
          interval: subscription.interval,
          stripeCustomerId: subscription.stripeCustomerId,
          stripeSubscriptionId: subscription.stripeSubscriptionId,
          currentPeriodEnd: iso(subscription.currentPeriodEnd),
          cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
          trialEnd: iso(subscription.trialEnd),
          pastDueSince: iso(subscription.pastDueSince),
          canceledAt: iso(subscription.canceledAt),
          updatedAt: subscription.updatedAt.toISOString(),
        }
      : null,
    activeSessions: row.activeSessions,
    organizations: memberships.map((membership) => {
      const held = subscriptions.get(membership.id);
      return {
        id: membership.id,
        name: membership.name,
        personal: membership.personalUserId !== null,
        role: membership.role,
        memberCount: membership.memberCount,
        subscription: held
          ? {
              status: held.status,
              plan: held.plan,
              stripeCustomerId: held.stripeCustomerId,
              quantity: held.quantity,
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
export async function listEmails(
  db: Database,
  query: { status?: (typeof emailOutbox.$inferSelect)['status'] | undefined; limit: number },
) {
  const rows = await db
    .select()
    .from(emailOutbox)
    .where(query.status ? eq(emailOutbox.status, query.status) : undefined)
    .orderBy(desc(emailOutbox.createdAt), desc(emailOutbox.id))
    .limit(query.limit);
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
  const figures = {
    requests: sql<number>`count(*) filter (where ${aiRequests.status} <> 'failed')`.mapWith(Number),
    failed: sql<number>`count(*) filter (where ${aiRequests.status} = 'failed')`.mapWith(Number),
    promptTokens: sql<number>`coalesce(sum(${aiRequests.promptTokens}), 0)`.mapWith(Number),
    completionTokens: sql<number>`coalesce(sum(${aiRequests.completionTokens}), 0)`.mapWith(Number),
    totalTokens: sql<number>`coalesce(sum(${aiRequests.totalTokens}), 0)`.mapWith(Number),
  };
  const inPeriod = and(gte(aiRequests.createdAt, period.start), lt(aiRequests.createdAt, period.end));
  const [totals] = await db
    .select({ ...figures, users: sql<number>`count(distinct ${aiRequests.userId})`.mapWith(Number) })
    .from(aiRequests)
    .where(inPeriod);
  const perUser = await db
    .select({ userId: aiRequests.userId, email: users.email, ...figures })
    .from(aiRequests)
    .innerJoin(users, eq(users.id, aiRequests.userId))
    .where(inPeriod)
    .groupBy(aiRequests.userId, users.email)
    .orderBy(desc(figures.totalTokens), desc(sql`count(*)`), aiRequests.userId)
    .limit(100);
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
    users: perUser,
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
    .select({ entry: adminAuditLog, staffEmail: users.email })
    .from(adminAuditLog)
    .leftJoin(users, eq(users.id, adminAuditLog.staffUserId))
    .where(before(adminAuditLog.createdAt, adminAuditLog.id, query.cursor))
    .orderBy(desc(adminAuditLog.createdAt), desc(adminAuditLog.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    entries: page.map(({ entry, staffEmail }) => ({
      id: entry.id,
      staffUserId: entry.staffUserId,
      staffEmail,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      details: entry.details,
      createdAt: entry.createdAt.toISOString(),
    })),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last.entry.createdAt, last.entry.id) : null,
  };
}
