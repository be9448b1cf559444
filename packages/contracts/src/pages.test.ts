import { describe, expect, it } from 'vitest';
import { isPagePath, PAGE_PATHS } from './pages.ts';

describe('the SPA page list', () => {
  it('matches the pages as React Router does: any case, trailing slash optional', () => {
    for (const path of PAGE_PATHS) expect(isPagePath(path)).toBe(true);
    expect(isPagePath('/admin/users/u_1')).toBe(true);
    expect(isPagePath('/organizations/org_1')).toBe(true);
    expect(isPagePath('/organizations/org_1/members')).toBe(false);
    expect(isPagePath('/invitations')).toBe(true);
    expect(isPagePath('/admin/nope')).toBe(false);
    expect(isPagePath('/Pricing/')).toBe(true);
    expect(isPagePath('/checkout/return/')).toBe(true);
    expect(isPagePath('/checkout')).toBe(false);
    expect(isPagePath('/pricing/extra')).toBe(false);
    expect(isPagePath('/no-such-page')).toBe(false);
  });

  it('matches a parameter segment against any one segment', () => {
    const pages = ['/', '/invoices/:id', '/teams/:team/members'];
    expect(isPagePath('/invoices/in_123', pages)).toBe(true);
    expect(isPagePath('/teams/acme/members/', pages)).toBe(true);
    expect(isPagePath('/invoices', pages)).toBe(false);
    expect(isPagePath('/invoices/in_123/pdf', pages)).toBe(false);
    expect(isPagePath('/', pages)).toBe(true);
  });
});
