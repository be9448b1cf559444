/** Shapes every Stripe object uses: decimals as strings on the wire, and the list envelope. */
import type Stripe from 'stripe';

/**
 * On the wire Stripe sends decimals as strings ("1000"); the SDK turns them into its Decimal type.
 * The stored object is what goes on the wire, so it holds the string.
 */
export function decimalString(value: number): Stripe.Decimal {
  return String(value) as unknown as Stripe.Decimal;
}

export function emptyList<T>(url: string, data: T[] = []): Stripe.ApiList<T> {
  return { object: 'list', data, has_more: false, url };
}
