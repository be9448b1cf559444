import { auditPage, linkFromEmail, PASSWORD, uniqueEmail } from './support/browser.ts';
import { expectNoProblems, registerThroughUi } from './support/flows.ts';
import { expect, inject, test } from './support/test.ts';

test('account recovery and form errors', async ({ page }) => {
  const appUrl = inject('appUrl');
  const email = uniqueEmail('recovery');
  const newPassword = 'Brand-New-Secret-2031';
  await test.step('sign-up puts the server’s validation messages on the fields', async () => {
    await page.goto('/register');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('12345678');
    await page.getByRole('button', { name: 'Create account' }).click();
    const password = page.getByLabel('Password');
    // The answer waits on the server's password checks: allow it as long as any other wait here.
    await expect.poll(() => password.getAttribute('aria-invalid'), { timeout: 15_000 }).toBe('true');
    await page.getByText('This password is entirely numeric.').waitFor();
    await page.getByRole('alert').filter({ hasText: 'Please correct the highlighted fields.' }).waitFor();
    expectNoProblems(await auditPage(page, 'register-errors'));
  });

  await test.step('forgot password → reset by the emailed link → the old password is refused', async () => {
    await registerThroughUi(page, email, 'Alan Turing');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('link', { name: 'Sign in' }).waitFor();

    await page.goto('/login');
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Email me a reset link' }).click();
    await page.getByText('Check your inbox').waitFor();
    expectNoProblems(await auditPage(page, 'forgot-password-sent'));

    const link = await linkFromEmail(appUrl, email, '/reset-password#token=');
    await page.goto(link);
    await page.getByRole('heading', { level: 1, name: 'Choose a new password' }).waitFor();
    expect(page.url()).toBe(`${appUrl}/reset-password`);
    expectNoProblems(await auditPage(page, 'reset-password'));
    await page.getByLabel('New password', { exact: true }).fill(newPassword);
    await page.getByLabel('Confirm new password').fill(newPassword);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByRole('heading', { level: 1, name: 'Password changed' }).waitFor();

    await page.getByRole('link', { name: 'Sign in' }).last().click();
    await page.getByText('Your password was reset.').waitFor();
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /invalid|incorrect/i })
      .waitFor();
    expectNoProblems(await auditPage(page, 'login-refused'));

    await page.getByLabel('Password').fill(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: /Welcome back, Alan/ }).waitFor();
  });

  await test.step('the used reset link no longer works', async () => {
    const link = await linkFromEmail(appUrl, email, '/reset-password#token=');
    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill('Yet-Another-Secret-99');
    await page.getByLabel('Confirm new password').fill('Yet-Another-Secret-99');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByRole('heading', { level: 1, name: 'This link does not work' }).waitFor();
  });
});
