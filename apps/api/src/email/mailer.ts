/** The templates the app can send; each has its own data shape in email/templates. */
export type TemplateName = 'verify-email' | 'password-reset';

export interface MailRequest {
  to: string;
  template: TemplateName;
  data: Record<string, string>;
  /** The same key is sent once, however often it is requested (e.g. "payment_failed:in_123"). */
  dedupeKey?: string;
}

export interface Mailer {
  send(request: MailRequest): Promise<void>;
}
