import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A real SMTP server on a local port, keeping every message it accepts, parsed. */
export class SmtpSink {
  readonly received: ParsedMail[] = [];
  /** Whether mailboxes named rejected-… are refused (a test turns it off to "fix" them). */
  rejecting = true;
  private server: SMTPServer | undefined;
  constructor(readonly port: number) {}

  async start(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      // Mailboxes named rejected-… do not exist; the reply quotes the address, as real servers do.
      onRcptTo: (recipient, _session, callback) => {
        if (!this.rejecting || !recipient.address.startsWith('rejected-')) return callback();
        callback(
          Object.assign(new Error(`5.1.1 <${recipient.address}>: Recipient address rejected`), {
            responseCode: 550,
          }),
        );
      },
      onData: (stream, _session, callback) => {
        simpleParser(stream).then(
          (mail) => {
            this.received.push(mail);
            callback();
          },
          (error: Error) => callback(error),
        );
      },
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  to(address: string): ParsedMail[] {
    return this.received.filter((mail) => {
      const to = Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : [];
      return to.some((group) => group.value.some((entry) => entry.address === address));
    });
  }
}
