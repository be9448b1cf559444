import { formatMoney } from '@tierbase/contracts/money';
import { type Brand, type EmailContent, type RenderedEmail, renderLayout } from './layout.ts';

export type { Brand, RenderedEmail } from './layout.ts';

/** The data each template needs; the compiler checks every send against it. */
export interface TemplateData {
  'verify-email': { name: string; url: string };
  'password-reset': { name: string; url: string };
  /** Someone tried to sign up with the address of an existing account. */
  'account-exists': { name: string; signInUrl: string; resetUrl: string };
  /** `amountDue` as Stripe gives it (`invoice.amount_due`, `invoice.currency`); the template formats it. */
  payment_failed: { name: string; amountDue: Money; invoiceUrl: string; updateCardUrl: string };
  payment_recovered: { name: string; amountPaid: Money; billingUrl: string };
  /** The bank asks the customer to confirm the payment (3-D Secure); the invoice page does that. */
  payment_action_required: { name: string; invoiceUrl: string };
  /** `pricingUrl`: where to subscribe again. */
  subscription_canceled: { name: string; pricingUrl: string };
  /** `trialEnd` is the date already formatted for people, e.g. "March 3, 2026". */
  trial_ending_soon: { name: string; trialEnd: string; billingUrl: string };
  /** Sent to the address of an account as it is erased: it carries nothing else about the person. */
  'account-deleted': Record<string, never>;
  /** An invitation to join a team organization; `url` carries the single-use token in its fragment. */
  'organization-invitation': {
    inviterName: string;
    organizationName: string;
    role: 'admin' | 'member';
    url: string;
    expiresOn: string;
  };
}

export type TemplateName = keyof TemplateData;

export const TEMPLATE_NAMES = [
  'verify-email',
  'password-reset',
  'payment_failed',
  'payment_recovered',
  'payment_action_required',
  'subscription_canceled',
  'trial_ending_soon',
  'account-exists',
  'account-deleted',
  'organization-invitation',
] as const satisfies readonly TemplateName[];

function greeting(name: string): string {
  const trimmed = name.trim();
  return trimmed ? `Hi ${trimmed},` : 'Hi,';
}

/** An amount in the currency's smallest unit, as Stripe sends it (1250 usd is $12.50, 1250 jpy is ¥1,250). */
export interface Money {
  amount: number;
  currency: string;
}

/** Emails are written in English, so their amounts are formatted for it too. */
const money = ({ amount, currency }: Money) => formatMoney(amount, currency, { locale: 'en-US' });

type Templates = { [K in TemplateName]: (data: TemplateData[K], brand: Brand) => EmailContent };

const templates: Templates = {
  'verify-email': ({ name, url }, { productName }) => ({
    subject: `Confirm your email address for ${productName}`,
    preheader: `One click to finish setting up your ${productName} account.`,
    blocks: [
      { kind: 'paragraph', text: greeting(name) },
      {
        kind: 'paragraph',
        text: `Please confirm your email address to finish setting up your ${productName} account.`,
      },
      { kind: 'button', label: 'Confirm email address', url },
      { kind: 'note', text: 'If you did not create an account, you can ignore this email.' },
    ],
  }),

  'password-reset': ({ name, url }, { productName }) => ({
    subject: `Reset your ${productName} password`,
    preheader: 'Use this link to choose a new password.',
    blocks: [
      { kind: 'paragraph', text: greeting(name) },
      {
        kind: 'paragraph',
        text: `We received a request to reset the password of your ${productName} account. The link works once and expires soon.`,
      },
      { kind: 'button', label: 'Choose a new password', url },
      {
        kind: 'note',
        text: 'If you did not ask for this, you can ignore this email: your password stays as it is.',
      },
    ],
  }),

  'account-exists': ({ name, signInUrl, resetUrl }, { productName }) => ({
    subject: `Someone tried to sign up for ${productName} with your email address`,
    preheader: 'You already have an account: sign in, or reset your password.',
    blocks: [
      { kind: 'paragraph', text: greeting(name) },
      {
        kind: 'paragraph',
        text: `Someone tried to create a ${productName} account with this email address, which already has one. If it was you, sign in with your password, or reset it if you have forgotten it.`,
      },
      { kind: 'button', label: 'Sign in', url: signInUrl },
      { kind: 'link', label: 'Forgot your password? Reset it', url: resetUrl },
      {
        kind: 'note',
        text: 'If it was not you, you can ignore this email: nothing was changed and no new account was made.',
      },
    ],
  }),

  payment_failed: ({ name, amountDue, invoiceUrl, updateCardUrl }, { productName }) => ({
    subject: `Your ${productName} payment failed`,
    preheader: `We could not collect ${money(amountDue)}. Update your card to keep your subscription.`,
    blocks: [
      { kind: 'paragraph', text: greeting(name) },
      {
        kind: 'paragraph',
        text: `We could not collect your payment of ${money(amountDue)} for ${productName}. We will try again automatically, but to keep your subscription, please update your payment method.`,
      },
      { kind: 'button', label: 'Update payment method', url: updateCardUrl },
      { kind: 'link', label: 'View the invoice', url: invoiceUrl },
    ],
  }),

  payment_recovered: ({ name, amountPaid, billingUrl }, { productName }) => ({
    subject: `Your ${productName} payment went through`,
    preheader: 'Thank you: your subscription is active again.',
    blocks: [
      { kind: 'paragraph', text: greeting(name) },
      {
        kind: 'paragraph',
        text: `Thank you: we received your payment of ${money(amountPaid)} and your ${productName} subscription is in good standing again.`,
      },
      { kind: 'link', label: 'View billing', url: billingUrl },
    ],
  }),

  payment_action_required: ({ name, invoiceUrl }, { productName }) => ({
    subject: `Please confirm your ${productName} payment`,
    preheader: 'Your bank asks you to confirm this payment.',
    blocks: [
      { kind: 'paragraph', text: greeting(name) },
      {
        kind: 'paragraph',
        text: `Your bank asks you to confirm your latest ${productName} payment before it can go through.`,
      },
      { kind: 'button', label: 'Confirm payment', url: invoiceUrl },
    ],
  }),

  subscription_canceled: ({ name, pricingUrl }, { productName }) => ({
    subject: `Your ${productName} subscription has ended`,
    preheader: 'Your subscription is canceled. You can subscribe again at any time.',
    blocks: [
      { kind: 'paragraph', text: greeting(name) },
      {
        kind: 'paragraph',
        text: `Your ${productName} subscription has been canceled and its paid features are no longer available. Your account and data stay as they are, and you can subscribe again at any time.`,
      },
      { kind: 'button', label: 'See plans', url: pricingUrl },
    ],
  }),

  trial_ending_soon: ({ name, trialEnd, billingUrl }, { productName }) => ({
    subject: `Your ${productName} trial ends on ${trialEnd}`,
    preheader: 'Add a payment method to keep your paid features.',
    blocks: [
      { kind: 'paragraph', text: greeting(name) },
      {
        kind: 'paragraph',
        text: `Your ${productName} trial ends on ${trialEnd}. Add a payment method before then to keep your paid features without interruption.`,
      },
      { kind: 'button', label: 'Manage billing', url: billingUrl },
    ],
  }),

  'account-deleted': (_data, { productName }) => ({
    subject: `Your ${productName} account has been deleted`,
    preheader: 'Your account and the data we held about you are gone.',
    blocks: [
      { kind: 'paragraph', text: 'Hi,' },
      {
        kind: 'paragraph',
        text: `As you asked, your ${productName} account has been deleted. Any subscription was canceled and will not be charged again, and the personal data we held about you has been erased. The invoices already issued are kept by our payment provider, as the law requires.`,
      },
      {
        kind: 'note',
        text: 'Your old sign-in no longer works. You are welcome to register again with this address at any time.',
      },
    ],
  }),

  'organization-invitation': ({ inviterName, organizationName, role, url, expiresOn }, { productName }) => {
    const who = inviterName.trim() || 'A teammate';
    return {
      subject: `${who} invited you to ${organizationName} on ${productName}`,
      preheader: `Join ${organizationName} as ${role === 'admin' ? 'an admin' : 'a member'}.`,
      blocks: [
        { kind: 'paragraph', text: 'Hi,' },
        {
          kind: 'paragraph',
          text: `${who} invited you to join the organization ${organizationName} on ${productName} as ${role === 'admin' ? 'an admin' : 'a member'}. Sign in (or create an account) with this email address to accept.`,
        },
        { kind: 'button', label: 'Accept the invitation', url },
        {
          kind: 'note',
          text: `The link works once and expires on ${expiresOn}. If you did not expect this invitation, you can ignore this email.`,
        },
      ],
    };
  },
};

/** Renders a template with its data into subject, HTML and plain text. */
export function renderEmail<K extends TemplateName>(
  template: K,
  data: TemplateData[K],
  brand: Brand,
): RenderedEmail {
  const build = templates[template] as (data: TemplateData[K], brand: Brand) => EmailContent;
  return renderLayout(build(data, brand), brand);
}
