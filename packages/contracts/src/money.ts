/**
 * Amounts as Stripe sends them: an integer in the currency's smallest unit. How many digits that
 * unit is follows Stripe's lists, not ISO 4217's (which `Intl` uses): they differ, e.g. ISK is
 * whole krónur in ISO but two-decimal at Stripe, so dividing by what `Intl` reports is wrong there.
 * No zod here: the emulator and the email templates import this module alone.
 */

/** Stripe's zero-decimal currencies: 500 JPY is ¥500, not ¥5. */
export const ZERO_DECIMAL_CURRENCIES: ReadonlySet<string> = new Set([
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
export const THREE_DECIMAL_CURRENCIES: ReadonlySet<string> = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** Digits after the decimal point in a Stripe amount of `currency` (any case): 0, 2 or 3. */
export function minorUnitDigits(currency: string): number {
  const code = currency.toLowerCase();
  if (ZERO_DECIMAL_CURRENCIES.has(code)) return 0;
  if (THREE_DECIMAL_CURRENCIES.has(code)) return 3;
  return 2;
}

export interface MoneyFormatOptions {
  /** A BCP 47 locale; default the runtime's (the browser's, in the web app). */
  locale?: string;
  /** Leave out a fraction that is all zeros ("$19" rather than "$19.00"), as prices are shown. */
  omitZeroFraction?: boolean;
}

/**
 * An amount in the currency's smallest unit, formatted for people in that currency: 1250 usd is
 * "$12.50", 1200 jpy is "¥1,200", 5120 kwd is "KWD 5.120". Throws a RangeError for a currency
 * code that is not three letters.
 */
export function formatMoney(
  amountInMinorUnits: number,
  currency: string,
  options: MoneyFormatOptions = {},
): string {
  const digits = minorUnitDigits(currency);
  const amount = amountInMinorUnits / 10 ** digits;
  const fractionDigits = options.omitZeroFraction && Number.isInteger(amount) ? 0 : digits;
  return new Intl.NumberFormat(options.locale, {
    style: 'currency',
    currency: currency.toUpperCase(),
    minimumFractionDigits: fractionDigits,
    maximumFractionDigits: fractionDigits,
  }).format(amount);
}
