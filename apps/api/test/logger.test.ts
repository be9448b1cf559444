import { describe, expect, it } from 'vitest';
import { scrubPersonalData } from '../src/logger.ts';

describe('scrubPersonalData', () => {
  it('removes email addresses', () => {
    expect(scrubPersonalData('no account for Ada.Lovelace+x@example.co.uk today')).toBe(
      'no account for [email] today',
    );
  });

  it('keeps the SQL of a failed query but not its bound values', () => {
    const message =
      'Failed query: select "id" from "verifications" where "value" = $1\nparams: 3f9c0d2e-secret-token,ada@example.com';
    const scrubbed = scrubPersonalData(message);
    expect(scrubbed).toContain('select "id" from "verifications"');
    expect(scrubbed).not.toContain('3f9c0d2e-secret-token');
    expect(scrubbed).not.toContain('ada@example.com');
  });
});
