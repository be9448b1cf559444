/**
 * Card PaymentMethod objects. Every field the pinned API version has, typed with the `stripe`
 * package's own types so the compiler checks what the emulator emits.
 */
import type Stripe from 'stripe';
import { newId } from '../ids.ts';

export interface TestCardSpec {
  number: string;
  brand: string;
  expMonth?: number;
  expYear?: number;
}

export function buildCardPaymentMethod(
  card: TestCardSpec,
  created: number,
  billing: { email?: string | null; name?: string | null } = {},
): Stripe.PaymentMethod {
  const last4 = card.number.slice(-4);
  return {
    id: newId('pm'),
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: {
      address: null,
      email: billing.email ?? null,
      name: billing.name ?? null,
      phone: null,
      tax_id: null,
    },
    card: {
      brand: card.brand,
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
      country: 'US',
      display_brand: card.brand,
      exp_month: card.expMonth ?? 12,
      exp_year: card.expYear ?? new Date().getUTCFullYear() + 3,
      // Stable per card number, as Stripe's fingerprint is.
      fingerprint: `fp${card.number.slice(0, 6)}${last4}`,
      funding: 'credit',
      generated_from: null,
      last4,
      networks: { available: [card.brand], preferred: null },
      regulated_status: 'unregulated',
      three_d_secure_usage: { supported: true },
      wallet: null,
    },
    created,
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: {},
    type: 'card',
  };
}
