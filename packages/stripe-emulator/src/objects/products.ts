/**
 * Product and Price objects, and the legacy Plan view of a recurring price. Every field the pinned
 * API version has, typed with the `stripe` package's own types so the compiler checks what the
 * emulator emits.
 */
import type Stripe from 'stripe';
import { newId } from '../ids.ts';
import { decimalString } from './shared.ts';

export function buildProduct(
  fields: Partial<Stripe.Product> & { name: string; created: number },
): Stripe.Product {
  return {
    id: newId('prod'),
    object: 'product',
    active: true,
    default_price: null,
    description: null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: {},
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    tax_details: null,
    type: 'service',
    unit_label: null,
    updated: fields.created,
    url: null,
    ...fields,
  };
}

export function buildPrice(
  fields: Partial<Stripe.Price> & { product: string; currency: string; unit_amount: number; created: number },
): Stripe.Price {
  return {
    id: newId('price'),
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: null,
    recurring: null,
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: fields.recurring ? 'recurring' : 'one_time',
    unit_amount_decimal: decimalString(fields.unit_amount),
    ...fields,
  };
}

export function buildRecurring(
  interval: 'month' | 'year' | 'week' | 'day',
  intervalCount = 1,
): Stripe.Price.Recurring {
  return {
    interval,
    interval_count: intervalCount,
    meter: null,
    trial_period_days: null,
    usage_type: 'licensed',
  };
}

/** The legacy `plan` view of a recurring price, still embedded in subscription items. */
export function planFromPrice(price: Stripe.Price): Stripe.Plan {
  const recurring = price.recurring;
  return {
    id: price.id,
    object: 'plan',
    active: price.active,
    amount: price.unit_amount,
    amount_decimal: price.unit_amount_decimal,
    billing_scheme: price.billing_scheme,
    created: price.created,
    currency: price.currency,
    interval: recurring?.interval ?? 'month',
    interval_count: recurring?.interval_count ?? 1,
    livemode: false,
    metadata: price.metadata,
    meter: null,
    nickname: price.nickname,
    product: price.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: 'licensed',
  };
}
