import { inspect } from 'node:util';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emailOutbox } from '../src/db/schema/index.ts';
import type { MailRequest } from '../src/email/mailer.ts';
import { renderEmail, TEMPLATE_NAMES, type TemplateData } from '../src/email/templates/index.ts';
import { createTestApp, type TestApp } from './helper.ts';

const brand = { productName: 'Tierbase', appUrl: 'http://localhost:8000' };

/** Data for every template, with hostile values where text is interpolated. */
const samples: TemplateData = {
  'verify-email': { name: '<script>alert(1)</script>', url: 'https://app.example.com/verify?token=a&b=1' },
  'password-reset': { name: 'Ada "the" Countess', url: 'https://app.example.com/reset?token=t' },
  payment_failed: {
    name: 'Grace',
    amountDue: { amount: 1200, currency: 'usd' },
    invoiceUrl: 'https://invoice.example.com/i/1?x=<y>',
    updateCardUrl: 'https://app.example.com/billing',
  },
  payment_recovered: {
    name: 'Grace',
    amountPaid: { amount: 1200, currency: 'usd' },
    billingUrl: 'https://app.example.com/billing',
  },
  payment_action_required: { name: 'Grace', invoiceUrl: 'https://invoice.example.com/i/2' },
  subscription_canceled: { name: 'Grace', pricingUrl: 'https://app.example.com/pricing' },
  trial_ending_soon: {
    name: "O'Brien",
    trialEnd: 'March 3, 2026',
    billingUrl: 'https://app.example.com/billing',
  },
  'account-exists': {
    name: 'Ada',
    signInUrl: 'https://app.example.com/login',
    resetUrl: 'https://app.example.com/forgot-password',
  },
  'account-deleted': {},
  'organization-invitation': {
    inviterName: 'Ada <b>',
    organizationName: 'Analytical & Co',
    role: 'member',
    url: 'https://app.example.com/invitations#token=abc',
    expiresOn: 'March 3, 2026',
  },
};

describe('email templates', () => {
  it.each(TEMPLATE_NAMES)(
    '%s renders a subject, HTML with the brand and a text part with every link',
    (name) => {
      const data = samples[name];
      const email = renderEmail(name, data as never, brand);
      expect(email.subject).toContain('Tierbase');
      expect(email.html).toMatch(/^<!doctype html>/);
      expect(email.html).toContain('Tierbase');
      for (const value of Object.values(data)) {
        if (typeof value === 'string' && value.startsWith('https://')) {
          // The raw link in the text part, the escaped one in the HTML.
          expect(email.text).toContain(new URL(value).toString());
          expect(email.html).toContain(`href="${new URL(value).toString().replaceAll('&', '&amp;')}"`);
        }
      }
    },
  );

  it('escapes every interpolated value in the HTML', () => {
    const verify = renderEmail('verify-email', samples['verify-email'], brand);
    expect(verify.html).not.toContain('<script>');
    expect(verify.html).toContain('Hi &lt;script&gt;alert(1)&lt;/script&gt;,');
    expect(verify.text).toContain('Hi <script>alert(1)</script>,');
    const reset = renderEmail('password-reset', samples['password-reset'], brand);
    expect(reset.html).toContain('Ada &quot;the&quot; Countess');
    const failed = renderEmail('payment_failed', samples.payment_failed, brand);
    expect(failed.html).not.toContain('<y>');
    const trial = renderEmail('trial_ending_soon', samples.trial_ending_soon, brand);
    expect(trial.html).toContain('O&#39;Brien');
    expect(trial.subject).toBe('Your Tierbase trial ends on March 3, 2026');
  });

  it('refuses links that are not absolute http(s) URLs', () => {
    expect(() => renderEmail('verify-email', { name: 'x', url: 'javascript:alert(1)' }, brand)).toThrow(
      /http or https/,
    );
    expect(() => renderEmail('verify-email', { name: 'x', url: '/relative' }, brand)).toThrow(/absolute/);
  });

  it('formats amounts as Stripe sends them, in the currency’s smallest unit: cents, or whole yen', () => {
    const usd = renderEmail(
      'payment_failed',
      { ...samples.payment_failed, amountDue: { amount: 1250, currency: 'usd' } },
      brand,
    );
    expect(usd.text).toContain('your payment of $12.50 for');
    // JPY has no minor unit: 1200 is ¥1,200, never ¥12.
    const jpy = renderEmail(
      'payment_failed',
      { ...samples.payment_failed, amountDue: { amount: 1200, currency: 'jpy' } },
      brand,
    );
    expect(jpy.text).toContain('your payment of ¥1,200 for');
    expect(jpy.html).toContain('¥1,200');
    const recovered = renderEmail(
      'payment_recovered',
      { ...samples.payment_recovered, amountPaid: { amount: 1200, currency: 'JPY' } },
      brand,
    );
    expect(recovered.text).toContain('your payment of ¥1,200 and');
    // ISK is two-decimal at Stripe (ISO 4217 says none): 12300 is ISK 123.
    const isk = renderEmail(
      'payment_failed',
      { ...samples.payment_failed, amountDue: { amount: 12_300, currency: 'isk' } },
      brand,
    );
    expect(isk.text).toContain('your payment of ISK\u00a0123.00 for');
  });

  it('checks each template’s data at compile time', () => {
    const wrong = {
      to: 'a@example.com',
      template: 'payment_failed',
      // @ts-expect-error payment_failed needs amountDue, invoiceUrl and updateCardUrl, not url
      data: { name: 'x', url: 'https://example.com' },
    } satisfies MailRequest;
    expect(wrong.template).toBe('payment_failed');
  });
});

describe('mail without SMTP (outbox)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it('stores the email, sends nothing, and shows it at /dev/mail/messages', async () => {
    const url = 'http://localhost:8000/verify-email?token=tok_1&next=%2F';
    const { id, duplicate } = await t.app.mailer.send({
      to: 'Reader@Example.com',
      template: 'verify-email',
      data: { name: 'Reader', url },
    });
    expect(duplicate).toBe(false);

    const [row] = await t.app.database.db.select().from(emailOutbox).where(eq(emailOutbox.id, id));
    expect(row).toMatchObject({ status: 'stored', attempts: 0, template: 'verify-email' });
    const jobs = await t.app.database.query<{ count: number }>(
      `select count(*)::int as count from pgboss.job where name = 'mail.deliver'`,
    );
    expect(jobs[0]!.count).toBe(0);

    const res = await t.app.inject({ method: 'GET', url: '/dev/mail/messages?to=reader@example.com' });
    expect(res.statusCode).toBe(200);
    const { messages } = res.json().data as { messages: Array<Record<string, string>> };
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({
      id,
      to: 'Reader@Example.com',
      subject: 'Confirm your email address for Tierbase',
      template: 'verify-email',
    });
    expect(messages[0]!.text).toContain(url);
    expect(messages[0]!.html).toContain(url.replace('&', '&amp;'));
    expect(Date.parse(messages[0]!.createdAt!)).not.toBeNaN();

    const other = await t.app.inject({ method: 'GET', url: '/dev/mail/messages?to=nobody@example.com' });
    expect(other.json().data.messages).toEqual([]);
  });

  it('lists the outbox newest first in the browser, each message viewable as HTML and text', async () => {
    await t.app.mailer.send({
      to: 'list@example.com',
      template: 'password-reset',
      data: { name: 'Lister', url: 'http://localhost:8000/reset?token=r1' },
    });
    const page = await t.app.inject({ method: 'GET', url: '/dev/mail' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['content-security-policy']).not.toContain('script-src');
    const body = page.body;
    expect(body.indexOf('Reset your Tierbase password')).toBeGreaterThan(-1);
    expect(body.indexOf('Reset your Tierbase password')).toBeLessThan(
      body.indexOf('Confirm your email address for Tierbase'),
    );

    const { messages } = (
      await t.app.inject({ method: 'GET', url: '/dev/mail/messages?to=list@example.com' })
    ).json().data as { messages: Array<{ id: string }> };
    const id = messages[0]!.id;
    expect(body).toContain(`/dev/mail/messages/${id}/html`);
    const html = await t.app.inject({ method: 'GET', url: `/dev/mail/messages/${id}/html` });
    expect(html.statusCode).toBe(200);
    expect(html.body).toContain('Choose a new password');
    const text = await t.app.inject({ method: 'GET', url: `/dev/mail/messages/${id}/text` });
    expect(text.headers['content-type']).toContain('text/plain');
    expect(text.body).toContain('http://localhost:8000/reset?token=r1');

    const missing = await t.app.inject({
      method: 'GET',
      url: '/dev/mail/messages/00000000-0000-4000-8000-000000000000/html',
    });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ success: false, code: 'NOT_FOUND' });
  });

  it('stores a dedupeKey once', async () => {
    const request = {
      to: 'once@example.com',
      template: 'subscription_canceled',
      data: { name: 'Once', pricingUrl: 'http://localhost:8000/pricing' },
      dedupeKey: 'subscription_canceled:sub_1',
    } as const;
    const first = await t.app.mailer.send(request);
    const again = await Promise.all([t.app.mailer.send(request), t.app.mailer.send(request)]);
    expect(again).toEqual([
      { id: first.id, duplicate: true },
      { id: first.id, duplicate: true },
    ]);
    const rows = await t.app.database.db
      .select()
      .from(emailOutbox)
      .where(eq(emailOutbox.dedupeKey, 'subscription_canceled:sub_1'));
    expect(rows).toHaveLength(1);
  });

  it('stores nothing when the caller’s transaction rolls back', async () => {
    const rollback = new Error('rollback');
    await expect(
      t.app.database.db.transaction(async (transaction) => {
        await t.app.mailer.send(
          {
            to: 'rolled-back@example.com',
            template: 'payment_action_required',
            data: { name: 'R', invoiceUrl: 'https://invoice.example.com/i/3' },
          },
          { transaction },
        );
        throw rollback;
      }),
    ).rejects.toBe(rollback);
    const rows = await t.app.database.db
      .select()
      .from(emailOutbox)
      .where(eq(emailOutbox.toAddress, 'rolled-back@example.com'));
    expect(rows).toHaveLength(0);
  });

  it('keeps the address and the links out of the error when the outbox cannot be written', async () => {
    let caught: unknown;
    await t.app.database.db
      .transaction(async (transaction) => {
        // Leave the transaction aborted, so the outbox insert fails.
        await transaction.execute(sql`select 1/0`).catch(() => {});
        caught = await t.app.mailer
          .send(
            {
              to: 'private-person@example.com',
              template: 'password-reset',
              data: { name: 'P', url: 'https://app.example.com/reset?token=tok_secret' },
            },
            { transaction },
          )
          .catch((error: unknown) => error);
      })
      .catch(() => {});
    expect(caught).toBeInstanceOf(Error);
    const described = inspect(caught, { depth: 5 });
    expect(described).toContain('could not store the email in the outbox');
    expect(described).not.toContain('private-person');
    expect(described).not.toContain('tok_secret');
  });

  it('refuses an invalid recipient address', async () => {
    await expect(
      t.app.mailer.send({
        to: 'not-an-address',
        template: 'verify-email',
        data: { name: 'x', url: 'https://a.b/' },
      }),
    ).rejects.toThrow(/not a valid email address/);
  });

  it('never writes an email address to the logs', () => {
    expect(t.logs.text).not.toMatch(/[A-Z0-9._%+-]+@example\.com/i);
  });
});

describe('/dev/mail in production', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      env: {
        NODE_ENV: 'production',
        SECRET_KEY: 'a-production-secret-that-is-long-enough-0123456789',
        APP_URL: 'https://app.example.com',
        TRUSTED_PROXIES: '127.0.0.1',
        // Production refuses to start without a billing provider; this test needs none.
        STRIPE_EMULATOR: 'true',
      },
    });
  });
  afterAll(async () => t?.close());

  it('is not there', async () => {
    for (const url of ['/dev/mail', '/dev/mail/messages', '/dev/mail/messages?to=a@example.com']) {
      const res = await t.app.inject({ method: 'GET', url, headers: { 'x-forwarded-proto': 'https' } });
      expect(res.statusCode, url).toBe(404);
    }
  });
});
