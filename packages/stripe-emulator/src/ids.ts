import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random base62 string; Stripe ids are a prefix plus 14–24 such characters. */
export function randomToken(length = 24): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % ALPHABET.length];
  return out;
}

/** An id with one of Stripe's prefixes, e.g. `newId('cus')` → `cus_…`. */
export function newId(prefix: string): string {
  return `${prefix}_${randomToken(24)}`;
}
