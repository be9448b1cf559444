import { auditPage } from './support/browser.ts';
import { expectNoProblems } from './support/flows.ts';
import { expect, inject, test } from './support/test.ts';

test('sign-in with Google (a local OpenID provider)', async ({ page }) => {
  const appUrl = inject('appUrl');
  await test.step('the sign-in and sign-up pages offer only the configured provider', async () => {
    await page.goto('/login');
    const google = page.getByRole('link', { name: 'Continue with Google' });
    await google.waitFor();
    expect(await page.getByRole('link', { name: 'Continue with GitHub' }).count()).toBe(0);
    expectNoProblems(await auditPage(page, 'login-with-providers'));
    await page.goto('/register');
    await page.getByRole('link', { name: 'Continue with Google' }).waitFor();
  });

  await test.step('Continue with Google → the provider → signed in on the dashboard', async () => {
    await page.goto('/login');
    await page.getByRole('link', { name: 'Continue with Google' }).click();
    await page.getByRole('heading', { level: 1, name: 'Welcome back, Grace' }).waitFor();
    expect(page.url()).toBe(`${appUrl}/`);
    const profile = await page.evaluate(async () => (await fetch('/api/profile/')).json());
    expect(profile.data.user).toMatchObject({ email: inject('oidcEmail'), emailVerified: true });
    expectNoProblems(await auditPage(page, 'oauth-signed-in'));
  });

  await test.step('Settings lists Google as a sign-in method, and no password yet', async () => {
    await page.goto('/settings');
    const card = page.getByRole('region', { name: 'Sign-in methods' });
    await card.getByText('Connected').waitFor();
    expect(await card.textContent()).toContain('GoogleConnected');
    expect(await card.textContent()).toContain('PasswordNot set');
    expectNoProblems(await auditPage(page, 'settings-sign-in-methods'));
  });

  await test.step('a failed OAuth sign-in is explained on the sign-in page', async () => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();
    // A callback this browser did not start (no state cookie for it) is refused.
    await page.goto('/api/auth/oauth/google/callback?code=forged&state=forged');
    await page.getByRole('alert').filter({ hasText: 'expired or was already used' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');
    expectNoProblems(await auditPage(page, 'login-oauth-error'));
  });
});
