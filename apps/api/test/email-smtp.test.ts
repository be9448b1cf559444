import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAuditLog, emailOutbox, users } from '../src/db/schema/index.ts';
import { createTestApp, freePort, sleep, type TestApp, TestClient, waitFor } from './helper.ts';
import { SmtpSink } from './smtp-sink.ts';
import { signUpAndVerify } from './users.helpers.ts';

let sink: SmtpSink;
let t: TestApp;
const addresses: string[] = [];

beforeAll(async () => {
  sink = new SmtpSink(await freePort());
  await sink.start();
  t = await createTestApp({
    env: {
      SMTP_URL: `smtp://127.0.0.1:${sink.port}`,
      MAIL_FROM: 'Tierbase <no-reply@tierbase.test>',
      JOB_POLL_INTERVAL_SECONDS: '0.5',
      MAIL_RETRY_LIMIT: '6',
      MAIL_RETRY_DELAY_SECONDS: '1',
      MAIL_RETRY_DELAY_MAX_SECONDS: '2',
    },
  });
});
afterAll(async () => {
  await t?.close();
  await sink?.stop();
});

function address(label: string): string {
  const value = `${label}-${addresses.length}@example.com`;
  addresses.push(value);
  return value;
}

async function outboxRow(id: string) {
  const [row] = await t.app.database.db.select().from(emailOutbox).where(eq(emailOutbox.id, id));
  return row!;
}

describe('mail over SMTP', () => {
  it('delivers a rendered email with its subject, link, text and HTML parts', async () => {
    const to = address('ada');
    const url = 'http://localhost:8000/verify-email?token=abc123&next=%2Fdashboard';
    const { id } = await t.app.mailer.send({
      to,
      template: 'verify-email',
      data: { name: 'Ada <Lovelace>', url },
    });
    const [mail] = await waitFor(() => (sink.to(to).length > 0 ? sink.to(to) : undefined));

    expect(mail!.subject).toBe('Confirm your email address for Tierbase');
    expect(mail!.from?.value[0]?.address).toBe('no-reply@tierbase.test');
    expect(mail!.messageId).toBe(`<${id}@tierbase.test>`);
    expect(mail!.text).toContain('Hi Ada <Lovelace>,');
    expect(mail!.text).toContain(url);
    const html = String(mail!.html);
    expect(html).toContain('Hi Ada &lt;Lovelace&gt;,');
    expect(html).not.toContain('<Lovelace>');
    expect(html).toContain(`href="${url.replace('&', '&amp;')}"`);

    const row = await waitFor(async () => {
      const current = await outboxRow(id);
      return current.status === 'sent' ? current : undefined;
    });
    expect(row.attempts).toBe(1);
    expect(row.sentAt).toBeInstanceOf(Date);
  });

  it('stores and delivers a deduplicated email once, however often it is sent', async () => {
    const to = address('dedupe');
    const request = {
      to,
      template: 'payment_failed',
      data: {
        name: 'Grace',
        amountDue: { amount: 1200, currency: 'usd' },
        invoiceUrl: 'https://invoices.example.com/in_1',
        updateCardUrl: 'http://localhost:8000/billing',
      },
      dedupeKey: `payment_failed:in_${to}`,
    } as const;
    const first = await t.app.mailer.send(request);
    const second = await t.app.mailer.send(request);
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ id: first.id, duplicate: true });

    await waitFor(() => sink.to(to).length > 0);
    await waitFor(async () => (await outboxRow(first.id)).status === 'sent');
    // A fixed pause on purpose, "nothing more arrives" under test: several polling rounds later,
    // still exactly one message.
    await sleep(1500);
    expect(sink.to(to)).toHaveLength(1);
    const rows = await t.app.database.db.select().from(emailOutbox).where(eq(emailOutbox.toAddress, to));
    expect(rows).toHaveLength(1);
    expect(sink.to(to)[0]!.subject).toBe('Your Tierbase payment failed');
    expect(sink.to(to)[0]!.text).toContain('$12.00');
  });

  it('keeps mail through an SMTP outage and delivers it exactly once when the server is back', async () => {
    await sink.stop();
    const to = address('outage');
    const { id } = await t.app.mailer.send({
      to,
      template: 'password-reset',
      data: { name: 'Linus', url: 'http://localhost:8000/reset-password?token=xyz' },
    });

    const failed = await waitFor(async () => {
      const row = await outboxRow(id);
      return row.attempts >= 1 ? row : undefined;
    });
    expect(failed.status).toBe('queued');
    expect(failed.lastError).toMatch(/ECONNECTION|ECONNREFUSED/);
    expect(failed.lastError).not.toContain('@');

    await sink.start();
    await waitFor(() => sink.to(to).length > 0);
    const sent = await waitFor(async () => {
      const row = await outboxRow(id);
      return row.status === 'sent' ? row : undefined;
    });
    expect(sent.attempts).toBeGreaterThan(1);
    // A fixed pause on purpose: several polling rounds later, still delivered once.
    await sleep(1500);
    expect(sink.to(to)).toHaveLength(1);
    expect(sink.to(to)[0]!.subject).toBe('Reset your Tierbase password');
  });

  it('fails a permanently rejected email at once, without retrying, and without the address in the error', async () => {
    const to = address('rejected');
    const { id } = await t.app.mailer.send({
      to,
      template: 'payment_action_required',
      data: { name: 'Nobody', invoiceUrl: 'https://invoice.example.com/i/9' },
    });
    const row = await waitFor(async () => {
      const current = await outboxRow(id);
      return current.status === 'failed' ? current : undefined;
    });
    expect(row.attempts).toBe(1);
    expect(row.lastError).toContain('550');
    expect(row.lastError).not.toContain('@');
    // A fixed pause on purpose: several polling rounds later, still not retried.
    await sleep(1500);
    expect((await outboxRow(id)).attempts).toBe(1);
    expect(sink.to(to)).toHaveLength(0);
  });

  it('lets staff see a failed email and retry it once the cause is fixed; it is then delivered once', async () => {
    const to = address('rejected-retry');
    const { id } = await t.app.mailer.send({
      to,
      template: 'payment_action_required',
      data: { name: 'Retry', invoiceUrl: 'https://invoice.example.com/i/10' },
    });
    await waitFor(async () => ((await outboxRow(id)).status === 'failed' ? true : undefined));

    const staff = new TestClient(t.app);
    const email = address('staff');
    await signUpAndVerify(t, staff, { email, password: 'correct horse battery staple 9' });
    await t.app.database.db.update(users).set({ isStaff: true }).where(eq(users.email, email));
    const failed = await staff.get('/api/admin/emails/?status=failed');
    expect(failed.statusCode).toBe(200);
    expect(failed.json().data.emails).toContainEqual(
      expect.objectContaining({ id, status: 'failed', attempts: 1 }),
    );

    sink.rejecting = false;
    try {
      const retried = await staff.post(`/api/admin/emails/${id}/retry/`);
      expect(retried.statusCode).toBe(200);
      expect(retried.json().data).toEqual({ id, status: 'queued' });
      // The retry is a staff action: it is in the audit log, naming who did it.
      const [staffUser] = await t.app.database.db.select().from(users).where(eq(users.email, email));
      expect(
        await t.app.database.db.select().from(adminAuditLog).where(eq(adminAuditLog.targetId, id)),
      ).toEqual([
        expect.objectContaining({ action: 'email.retry', targetType: 'email', staffUserId: staffUser?.id }),
      ]);
      const sent = await waitFor(async () => {
        const current = await outboxRow(id);
        return current.status === 'sent' ? current : undefined;
      });
      expect(sent.attempts).toBe(2);
      expect(sink.to(to)).toHaveLength(1);
      // Only a failed email can be retried.
      expect((await staff.post(`/api/admin/emails/${id}/retry/`)).statusCode).toBe(404);
      expect((await staff.post('/api/admin/emails/not-a-uuid/retry/')).statusCode).toBe(404);
    } finally {
      sink.rejecting = true;
    }
  });

  it('marks an email failed, and keeps it visible, once its retries are used up', async () => {
    const other = await createTestApp({
      env: {
        SMTP_URL: `smtp://127.0.0.1:${await freePort()}`,
        JOB_POLL_INTERVAL_SECONDS: '0.5',
        MAIL_RETRY_LIMIT: '1',
        MAIL_RETRY_DELAY_SECONDS: '1',
        MAIL_RETRY_DELAY_MAX_SECONDS: '1',
      },
    });
    try {
      const to = address('unreachable');
      const { id } = await other.app.mailer.send({
        to,
        template: 'verify-email',
        data: { name: 'U', url: 'http://localhost:8000/verify?token=u' },
      });
      const row = await waitFor(async () => {
        const [current] = await other.app.database.db
          .select()
          .from(emailOutbox)
          .where(eq(emailOutbox.id, id));
        return current?.status === 'failed' ? current : undefined;
      });
      expect(row.attempts).toBe(2);
      const res = await other.app.inject({ method: 'GET', url: `/dev/mail/messages?to=${to}` });
      expect(res.json().data.messages).toMatchObject([{ id, status: 'failed', attempts: 2 }]);
      expect(other.logs.text).toContain('mail delivery failed for good');
      expect(other.logs.text).not.toContain(to);
    } finally {
      await other.close();
    }
  });

  it('never writes an email address to the logs', async () => {
    expect(t.logs.lines.length).toBeGreaterThan(0);
    expect(t.logs.text).toContain('mail delivery failed; will retry');
    for (const value of addresses) expect(t.logs.text).not.toContain(value);
    expect(t.logs.text).not.toMatch(/[A-Z0-9._%+-]+@example\.com/i);
  });
});
