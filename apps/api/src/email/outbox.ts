import { and, asc, DrizzleQueryError, desc, eq, inArray, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../db/client.ts';
import { emailOutbox } from '../db/schema/index.ts';
import type { DatabaseTransaction, JobQueue } from '../jobs/queue.ts';
import type { Mailer, MailRequest, MailResult } from './mailer.ts';
import { type Brand, renderEmail } from './templates/index.ts';

/** The queue that delivers one outbox row over SMTP; its job data is `DeliverJob`. */
export const DELIVER_QUEUE = 'mail.deliver';

export interface DeliverJob {
  outboxId: string;
}

export type OutboxRow = typeof emailOutbox.$inferSelect;

const address = z.email();

export interface MailerDeps {
  db: Database;
  jobs: JobQueue;
  brand: Brand;
  /** With SMTP each stored email is also enqueued for delivery; without, it stays in the outbox. */
  delivery: 'smtp' | 'outbox';
}

/**
 * Renders the email, stores it in the outbox and, with SMTP, enqueues its delivery — the insert and
 * the job in one transaction, so a crash can neither lose the email nor queue it without its row.
 * A repeated dedupeKey stores and sends nothing (`ON CONFLICT DO NOTHING` also holds between
 * concurrent senders: the second waits for the first to commit, then skips).
 */
export function createMailer(deps: MailerDeps): Mailer {
  const { db, jobs, brand, delivery } = deps;

  return {
    async send(request: MailRequest, options = {}): Promise<MailResult> {
      // A bad address is the caller's bug (user input is validated at the edge); refusing it here
      // beats retrying a doomed delivery for hours.
      if (!address.safeParse(request.to).success)
        throw new Error('mail recipient is not a valid email address');
      // The union of requests pairs each template with its data; TypeScript cannot carry that
      // pairing into a generic call, so the data is narrowed by hand (the request type checked it).
      const rendered = renderEmail(request.template, request.data as never, brand);

      const store = async (tx: DatabaseTransaction): Promise<MailResult> => {
        const [inserted] = await tx
          .insert(emailOutbox)
          .values({
            dedupeKey: request.dedupeKey ?? null,
            template: request.template,
            toAddress: request.to,
            subject: rendered.subject,
            html: rendered.html,
            text: rendered.text,
            status: delivery === 'smtp' ? 'queued' : 'stored',
          })
          .onConflictDoNothing({ target: emailOutbox.dedupeKey })
          .returning({ id: emailOutbox.id });
        if (!inserted) {
          const [existing] = await tx
            .select({ id: emailOutbox.id })
            .from(emailOutbox)
            .where(eq(emailOutbox.dedupeKey, request.dedupeKey!));
          return { id: existing!.id, duplicate: true };
        }
        if (delivery === 'smtp') {
          await jobs.send<DeliverJob>(
            DELIVER_QUEUE,
            { outboxId: inserted.id },
            { singletonKey: inserted.id, transaction: tx },
          );
        }
        return { id: inserted.id, duplicate: false };
      };

      try {
        return await (options.transaction ? store(options.transaction) : db.transaction(store));
      } catch (error) {
        // The statement's parameters are the address and the rendered email, links and their tokens
        // included; none of that may travel with the error. The SQLSTATE code does, so "database
        // unavailable" is still told apart from a bug.
        throw new Error('could not store the email in the outbox', { cause: driverError(error) });
      }
    },
  };
}

/**
 * The driver's error reduced to its message and SQLSTATE code: Drizzle's wrapper quotes the
 * statement's parameters in its message, and PGlite attaches them to its own error as `params`.
 */
function driverError(error: unknown): Error {
  const source = error instanceof DrizzleQueryError && error.cause ? error.cause : error;
  const { message, code } = (source ?? {}) as { message?: unknown; code?: unknown };
  return Object.assign(new Error(typeof message === 'string' ? message : 'database error'), {
    ...(typeof code === 'string' ? { code } : {}),
  });
}

export type OutboxStatus = OutboxRow['status'];

export interface OutboxQuery {
  /** Only messages to this address (compared case-insensitively). */
  to?: string | undefined;
  status?: OutboxStatus | undefined;
  limit?: number;
}

const sameAddress = (address: string) => sql`lower(${emailOutbox.toAddress}) = lower(${address})`;

/** The newest outbox messages first (for /dev/mail and the staff's list). */
export async function listOutbox(db: Database, query: OutboxQuery = {}): Promise<OutboxRow[]> {
  const limit = Math.min(Math.max(query.limit ?? 100, 1), 500);
  return db
    .select()
    .from(emailOutbox)
    .where(
      and(
        query.to ? sameAddress(query.to) : undefined,
        query.status ? eq(emailOutbox.status, query.status) : undefined,
      ),
    )
    .orderBy(desc(emailOutbox.createdAt), desc(emailOutbox.id))
    .limit(limit);
}

/** True when an email with this dedupe key was stored (whatever became of it since). */
export async function hasEmailWithKey(db: Database, dedupeKey: string): Promise<boolean> {
  const [row] = await db
    .select({ id: emailOutbox.id })
    .from(emailOutbox)
    .where(eq(emailOutbox.dedupeKey, dedupeKey));
  return row !== undefined;
}

/** How many emails are in each of these states (a state with none is missing). */
export async function countByStatus(
  db: Database,
  statuses: readonly OutboxStatus[],
): Promise<{ status: OutboxStatus; count: number }[]> {
  return db
    .select({ status: emailOutbox.status, count: sql<number>`count(*)::int` })
    .from(emailOutbox)
    .where(inArray(emailOutbox.status, [...statuses]))
    .groupBy(emailOutbox.status);
}

/** One delivery attempt failed; `final` gives the email up (status `failed`). */
export async function recordFailedAttempt(
  db: Database,
  id: string,
  reason: string,
  final: boolean,
): Promise<void> {
  await db
    .update(emailOutbox)
    .set({
      attempts: sql`${emailOutbox.attempts} + 1`,
      lastError: reason,
      ...(final ? { status: 'failed' as const } : {}),
    })
    .where(eq(emailOutbox.id, id));
}

export async function markSent(db: Database, id: string): Promise<void> {
  await db
    .update(emailOutbox)
    // last_error stays: with attempts > 1 it tells why the email was late.
    .set({ status: 'sent', sentAt: new Date(), attempts: sql`${emailOutbox.attempts} + 1` })
    .where(eq(emailOutbox.id, id));
}

/** What an erased email's address becomes: not an address, and the same for everyone. */
export const ERASED_ADDRESS = 'erased';

/** The emails sent to the address (any case), oldest first, for the user's data export. */
export async function exportEmailsFor(db: Database, address: string) {
  return db
    .select({
      template: emailOutbox.template,
      subject: emailOutbox.subject,
      status: emailOutbox.status,
      createdAt: emailOutbox.createdAt,
      sentAt: emailOutbox.sentAt,
    })
    .from(emailOutbox)
    .where(sameAddress(address))
    .orderBy(asc(emailOutbox.createdAt));
}

/**
 * Erases the emails to the address (any case): those not delivered yet (or never deliverable) are
 * deleted, as they must not go out now and nothing needs them; the others lose address and body.
 */
export async function eraseEmailsFor(db: Database, address: string): Promise<void> {
  await db
    .delete(emailOutbox)
    .where(and(sameAddress(address), inArray(emailOutbox.status, ['queued', 'failed'])));
  await db
    .update(emailOutbox)
    .set({ toAddress: ERASED_ADDRESS, html: '', text: '', lastError: null })
    .where(sameAddress(address));
}

/**
 * Erases the address of the emails of this template that have left the outbox (delivered, stored
 * for good when no SMTP is configured, or failed for good); returns how many.
 */
export async function eraseAddressOfFinished(db: Database, template: string): Promise<number> {
  const erased = await db
    .update(emailOutbox)
    .set({ toAddress: ERASED_ADDRESS })
    .where(
      and(
        eq(emailOutbox.template, template),
        inArray(emailOutbox.status, ['sent', 'stored', 'failed']),
        ne(emailOutbox.toAddress, ERASED_ADDRESS),
      ),
    )
    .returning({ id: emailOutbox.id });
  return erased.length;
}

export async function findOutboxMessage(db: Database, id: string): Promise<OutboxRow | undefined> {
  if (!z.uuid().safeParse(id).success) return undefined;
  const [row] = await db.select().from(emailOutbox).where(eq(emailOutbox.id, id));
  return row;
}

/**
 * Queues a failed email for delivery again (a staff action, once the cause is fixed). The attempts
 * so far stay on the row; delivery still skips a row that is already sent. False when there is no
 * failed email with that id.
 */
export async function retryFailedEmail(db: Database, jobs: JobQueue, id: string): Promise<boolean> {
  if (!z.uuid().safeParse(id).success) return false;
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(emailOutbox)
      .set({ status: 'queued', lastError: null })
      .where(and(eq(emailOutbox.id, id), eq(emailOutbox.status, 'failed')))
      .returning({ id: emailOutbox.id });
    if (!row) return false;
    await jobs.send<DeliverJob>(DELIVER_QUEUE, { outboxId: id }, { singletonKey: id, transaction: tx });
    return true;
  });
}
