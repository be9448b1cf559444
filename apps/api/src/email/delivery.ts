import nodemailer from 'nodemailer';
import type { Database } from '../db/client.ts';
import type { JobHandler, QueueLogger } from '../jobs/queue.ts';
import { scrubPersonalData } from '../logger.ts';
import { type DeliverJob, findOutboxMessage, markSent, recordFailedAttempt } from './outbox.ts';

/** What delivery needs from an SMTP client (nodemailer's transporter in the app). */
export interface MailTransport {
  sendMail(message: {
    from: string;
    to: string;
    subject: string;
    text: string;
    html: string;
    messageId: string;
  }): Promise<unknown>;
}

export function createSmtpTransport(smtpUrl: string): MailTransport {
  return nodemailer.createTransport({
    url: smtpUrl,
    // A server that accepts the connection and then says nothing must not hold the job for the
    // length of the queue's expiry; the attempt fails and is retried with backoff.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    logger: false,
  });
}

/**
 * The Message-ID is derived from the outbox row, so every attempt at one email carries the same id:
 * if we crash after the server accepted it but before we recorded that, the retry is recognisable as
 * the same message by the receiving side.
 */
export function messageIdFor(outboxId: string, mailFrom: string): string {
  const domain = /@([A-Za-z0-9.-]+)>?\s*$/.exec(mailFrom)?.[1] ?? 'tierbase.local';
  return `<${outboxId}@${domain}>`;
}

/**
 * A short description of a delivery failure for the outbox row and the logs: the SMTP error code
 * and reply, with email addresses and URL credentials removed (a rejected-recipient reply quotes
 * the address).
 */
export function describeDeliveryError(error: unknown): string {
  const { code, responseCode, message } = (error ?? {}) as {
    code?: unknown;
    responseCode?: unknown;
    message?: unknown;
  };
  const prefix = [
    typeof code === 'string' ? code : 'ERROR',
    typeof responseCode === 'number' ? responseCode : '',
  ]
    .filter(Boolean)
    .join(' ');
  const text = scrubPersonalData(String(message ?? 'unknown error')).replace(
    /\/\/[^/\s@]+@/g,
    '//[credentials]@',
  );
  return `${prefix}: ${text}`.slice(0, 500);
}

function isPermanentRejection(error: unknown): boolean {
  const { responseCode } = (error ?? {}) as { responseCode?: unknown };
  return typeof responseCode === 'number' && responseCode >= 500 && responseCode < 600;
}

export interface DeliveryDeps {
  db: Database;
  transport: MailTransport;
  mailFrom: string;
  log: QueueLogger;
}

/**
 * Delivers one outbox row. A row already `sent` is skipped, so a repeated job never sends twice. A
 * failure is recorded on the row and rethrown, so the queue retries with backoff; the last allowed
 * attempt, or a permanent (5xx) rejection, leaves the row `failed`, where it stays visible.
 */
export function createDeliverHandler(deps: DeliveryDeps): JobHandler<DeliverJob> {
  const { db, transport, mailFrom, log } = deps;
  return async ({ outboxId }, job) => {
    const row = await findOutboxMessage(db, outboxId);
    if (!row) {
      log.warn({ outboxId }, 'mail delivery: outbox row not found; nothing to send');
      return;
    }
    if (row.status === 'sent') return;

    try {
      await transport.sendMail({
        from: mailFrom,
        to: row.toAddress,
        subject: row.subject,
        text: row.text,
        html: row.html,
        messageId: messageIdFor(row.id, mailFrom),
      });
    } catch (error) {
      const reason = describeDeliveryError(error);
      // A 5xx reply is the server's final word (no such mailbox, message refused): retrying for hours
      // would not change it. Anything else (connection refused, timeouts, 4xx) may pass.
      const permanent = isPermanentRejection(error);
      const final = permanent || job.isLastAttempt;
      await recordFailedAttempt(db, outboxId, reason, final);
      log.warn(
        { outboxId, template: row.template, attempt: job.attempt, reason, final },
        final ? 'mail delivery failed for good' : 'mail delivery failed; will retry',
      );
      // The row records the failure; the job is done.
      if (permanent) return;
      // A fresh error carrying only the scrubbed reason: the queue stores it with the job.
      throw new Error(`mail delivery failed: ${reason}`);
    }

    await markSent(db, outboxId);
    log.info({ outboxId, template: row.template, attempt: job.attempt }, 'mail delivered');
  };
}
