/**
 * Customer objects. Every field the pinned API version has, typed with the `stripe` package's own
 * types so the compiler checks what the emulator emits.
 */
import type Stripe from 'stripe';
import { newId, randomToken } from '../ids.ts';

export function buildCustomer(
  fields: Partial<Stripe.Customer> & { created: number; test_clock: string | null },
): Stripe.Customer {
  const id = newId('cus');
  return {
    id,
    object: 'customer',
    address: null,
    balance: 0,
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: null,
    invoice_prefix: randomToken(8).toUpperCase(),
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: {},
    name: null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    ...fields,
  };
}
