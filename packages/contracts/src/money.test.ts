import { describe, expect, it } from 'vitest';
import { formatMoney, minorUnitDigits } from './money.ts';

describe('formatMoney', () => {
  it('reads two-decimal currencies in cents', () => {
    expect(formatMoney(1250, 'usd', { locale: 'en-US' })).toBe('$12.50');
    expect(formatMoney(1900, 'USD', { locale: 'en-US' })).toBe('$19.00');
    expect(formatMoney(950, 'eur', { locale: 'en-US' })).toBe('€9.50');
    expect(formatMoney(0, 'usd', { locale: 'en-US' })).toBe('$0.00');
  });

  it('reads zero-decimal currencies (JPY, KRW, …) in whole units', () => {
    expect(formatMoney(1200, 'jpy', { locale: 'en-US' })).toBe('¥1,200');
    expect(formatMoney(1200, 'JPY', { locale: 'en-US', omitZeroFraction: true })).toBe('¥1,200');
    expect(formatMoney(15000, 'krw', { locale: 'en-US' })).toBe('₩15,000');
    expect(formatMoney(500, 'xof', { locale: 'fr-FR' })).toMatch(/^500\sF\s?CFA$/);
  });

  it('reads three-decimal currencies in thousandths', () => {
    expect(formatMoney(5120, 'kwd', { locale: 'en-US' })).toBe('KWD\u00a05.120');
  });

  it('follows Stripe rather than ISO 4217 where they differ: ISK amounts are in hundredths', () => {
    expect(minorUnitDigits('isk')).toBe(2);
    expect(formatMoney(12_300, 'isk', { locale: 'en-US', omitZeroFraction: true })).toBe('ISK\u00a0123');
  });

  it('leaves out an all-zero fraction only when asked, and keeps a real one', () => {
    expect(formatMoney(19_000, 'usd', { locale: 'en-US', omitZeroFraction: true })).toBe('$190');
    expect(formatMoney(950, 'eur', { locale: 'en-US', omitZeroFraction: true })).toBe('€9.50');
    expect(formatMoney(158, 'usd', { locale: 'en-US', omitZeroFraction: true })).toBe('$1.58');
  });

  it('formats for the locale given', () => {
    expect(formatMoney(123_456, 'eur', { locale: 'de-DE' })).toBe('1.234,56\u00a0€');
    expect(formatMoney(123_456, 'jpy', { locale: 'ja-JP' })).toBe('￥123,456');
  });

  it('refuses a currency code that is not one', () => {
    expect(() => formatMoney(100, 'dollars')).toThrow(RangeError);
  });
});
