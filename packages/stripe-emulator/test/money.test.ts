import { describe, expect, it } from 'vitest';
import { formatMoney } from '../src/money.ts';

describe('formatMoney (Stripe amounts in the smallest unit)', () => {
  it('reads two-, zero- and three-decimal currencies as Stripe does', () => {
    expect(formatMoney(1250, 'usd')).toBe('$12.50');
    expect(formatMoney(1200, 'jpy')).toBe('¥1,200');
    expect(formatMoney(5124, 'KWD')).toMatch(/^KWD\s5\.124$/);
  });

  it('still shows the number for a code Intl does not know', () => {
    expect(formatMoney(500, 'zz')).toBe('500 ZZ');
  });
});
