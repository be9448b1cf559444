import { describe, expect, it } from 'vitest';
import { isTotpCode, totpCodeSchema, twoFactorLoginRequest } from './two-factor.ts';

describe('two-factor codes', () => {
  it('drops the spaces people type or paste, and tells an app code from a backup code', () => {
    expect(twoFactorLoginRequest.parse({ code: ' 123 456 ' })).toEqual({ code: '123456' });
    expect(twoFactorLoginRequest.parse({ code: 'abcde-12345\n' })).toEqual({ code: 'abcde-12345' });
    expect(isTotpCode('123456')).toBe(true);
    expect(isTotpCode('abcde-12345')).toBe(false);
    expect(isTotpCode('1234567')).toBe(false);
  });

  it('refuses what cannot be a code', () => {
    expect(twoFactorLoginRequest.safeParse({ code: '12' }).success).toBe(false);
    expect(twoFactorLoginRequest.safeParse({ code: 'x'.repeat(33) }).success).toBe(false);
    expect(twoFactorLoginRequest.safeParse({ code: '123456', trustDevice: true }).success).toBe(false);
    expect(totpCodeSchema.safeParse('12345a').success).toBe(false);
    expect(totpCodeSchema.parse('123 456')).toBe('123456');
  });
});
