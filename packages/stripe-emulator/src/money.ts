/**
 * Stripe's amounts in the currency's smallest unit, formatted in English the way Stripe's own pages
 * and invoice lines show them. The emulator is published on its own, so it carries Stripe's
 * currency rules itself rather than importing the app's (private) contracts package, which holds
 * the app's formatter; both follow Stripe's lists (docs/decisions/0029).
 */

/** Stripe's zero-decimal currencies: 500 JPY is ¥500, not ¥5. */
const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
/** Stripe's three-decimal currencies: 5124 KWD is 5.124 KWD. */
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** "$12.50", "¥1,200", "KWD 5.124"; a code Intl does not know still shows its number. */
export function formatMoney(amount: number | null | undefined, currency: string | null | undefined): string {
  const code = (currency ?? 'usd').toLowerCase();
  const digits = ZERO_DECIMAL.has(code) ? 0 : THREE_DECIMAL.has(code) ? 3 : 2;
  const value = (amount ?? 0) / 10 ** digits;
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency: code.toUpperCase(),
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    }).format(value);
  } catch {
    return `${amount ?? 0} ${code.toUpperCase()}`;
  }
}
