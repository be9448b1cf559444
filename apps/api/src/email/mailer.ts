import type { DatabaseTransaction } from '../jobs/queue.ts';
import type { TemplateData, TemplateName } from './templates/index.ts';

export type { TemplateData, TemplateName } from './templates/index.ts';

/** One email to send: a template and exactly the data that template takes. */
export type MailRequest = {
  [K in TemplateName]: {
    to: string;
    template: K;
    data: TemplateData[K];
    /** The same key is sent once, however often it is requested (e.g. "payment_failed:in_123"). */
    dedupeKey?: string;
  };
}[TemplateName];

export interface MailSendOptions {
  /**
   * Store (and enqueue) the email inside the caller's transaction: it goes out if and only if the
   * caller's own writes commit.
   */
  transaction?: DatabaseTransaction;
}

export interface MailResult {
  /** The outbox row: the new one, or, for a repeated dedupeKey, the one stored earlier. */
  id: string;
  /** True when the dedupeKey had been sent already and nothing new was stored. */
  duplicate: boolean;
}

export interface Mailer {
  send(request: MailRequest, options?: MailSendOptions): Promise<MailResult>;
}
