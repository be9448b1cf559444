import { type AdminUser, encodeCursor, type PageCursor } from '@tierbase/contracts';
import { and, desc, eq, ilike, lt, or, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { users } from '../db/schema/auth.ts';
import { subscriptions, webhookEvents } from '../db/schema/billing.ts';
import { emailOutbox } from '../db/schema/email.ts';

const iso = (date: Date | null) => (date ? date.toISOString() : null);

/** Escapes LIKE's wildcards so a search for "a_b" matches only "a_b". */
const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;

/** Users for the staff list: newest first, searchable by email or name prefix, a page at a time. */
export async function listUsers(
  db: Database,
  query: { search?: string | undefined; limit: number; cursor?: PageCursor | undefined },
): Promise<{ users: AdminUser[]; nextCursor: string | null }> {
  const conditions: SQL[] = [];
  if (query.search) {
    const pattern = likePrefix(query.search);
    conditions.push(or(ilike(users.email, pattern), ilike(users.name, pattern))!);
  }
  if (query.cursor) {
    // The cursor is the (created_at, id) of the last row shown: stable under inserts.
    const { createdAt: after, id } = query.cursor;
    conditions.push(or(lt(users.createdAt, after), and(eq(users.createdAt, after), lt(users.id, id)))!);
  }
  const rows = await db
    .select({ user: users, subscription: subscriptions })
    .from(users)
    .leftJoin(subscriptions, eq(subscriptions.userId, users.id))
    .where(conditions.length > 0 ? and(...conditions) : undefined)
    .orderBy(desc(users.createdAt), desc(users.id))
    .limit(query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    users: page.map(({ user, subscription }) => ({
      id: user.id,
      email: user.email,
      name: user.name,
      emailVerified: user.emailVerified,
      isStaff: user.isStaff,
      createdAt: user.createdAt.toISOString(),
      subscription: subscription
        ? {
            status: subscription.status,
            plan: subscription.plan,
            stripeCustomerId: subscription.stripeCustomerId,
            currentPeriodEnd: iso(subscription.currentPeriodEnd),
            cancelAtPeriodEnd: subscription.cancelAtPeriodEnd,
          }
        : null,
    })),
    nextCursor: rows.length > query.limit && last ? encodeCursor(last.user.createdAt, last.user.id) : null,
  };
}

/** Recorded Stripe events, newest first; `failed` keeps those not processed (yet). */
export async function listWebhookEvents(
  db: Database,
  query: { failed?: boolean | undefined; limit: number },
) {
  const rows = await db
    .select()
    .from(webhookEvents)
    .where(query.failed ? eq(webhookEvents.processed, false) : undefined)
    .orderBy(desc(webhookEvents.createdAt))
    .limit(query.limit);
  return rows.map((row) => ({
    eventId: row.eventId,
    eventType: row.eventType,
    processed: row.processed,
    processedAt: iso(row.processedAt),
    attempts: row.attempts,
    errorMessage: row.errorMessage,
    note: row.note,
    createdAt: row.createdAt.toISOString(),
  }));
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
