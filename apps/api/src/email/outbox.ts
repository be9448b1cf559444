import { and, DrizzleQueryError, desc, eq, sql } from 'drizzle-orm';
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

export interface OutboxQuery {
  /** Only messages to this address (compared case-insensitively). */
  to?: string | undefined;
  limit?: number;
}

/** The newest outbox messages first (for /dev/mail). */
export async function listOutbox(db: Database, query: OutboxQuery = {}): Promise<OutboxRow[]> {
  const limit = Math.min(Math.max(query.limit ?? 100, 1), 500);
  const base = db.select().from(emailOutbox);
  const filtered = query.to ? base.where(sql`lower(${emailOutbox.toAddress}) = lower(${query.to})`) : base;
  const rows = await filtered.orderBy(desc(emailOutbox.createdAt), desc(emailOutbox.id)).limit(limit);
  return rows;
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
