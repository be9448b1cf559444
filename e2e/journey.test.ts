import path from 'node:path';
import {
  auditPage,
  DESKTOP,
  PASSWORD,
  PHONE,
  SCREENSHOTS,
  seriousViolations,
  uniqueEmail,
} from './support/browser.ts';
import {
  expectNoProblems,
  mainText,
  submitRegistration,
  subscribeWithCard,
  verifyEmailThroughLink,
} from './support/flows.ts';
import { expect, test } from './support/test.ts';

/**
 * The main path a customer takes: visit, sign up, verify, subscribe on Stripe's Checkout, use Pro,
 * see billing and invoices, cancel at period end and resume in the portal, sign out.
 * Every page on the way is scanned with axe at desktop and 375 px and photographed.
 */
test('a customer from first visit to Pro and back', async ({ page }) => {
  const email = uniqueEmail('journey');
  const problems: string[] = [];
  await test.step('a visitor sees the landing page, pricing and the sign-in pages', async () => {
    await page.goto('/');
    await page.getByRole('heading', { level: 1, name: /Ship the product/ }).waitFor();
    await page.getByRole('heading', { name: 'Simple pricing' }).waitFor();
    await page.getByText('14-day free trial').first().waitFor();
    problems.push(...(await auditPage(page, 'landing')));

    await page.getByRole('link', { name: 'Pricing' }).first().click();
    await page.getByRole('heading', { level: 1, name: 'Pick the plan that fits' }).waitFor();
    await page.getByRole('button', { name: /Yearly/ }).click();
    await page.getByText('/ year').waitFor();
    problems.push(...(await auditPage(page, 'pricing-visitor')));

    for (const [path, heading, name] of [
      ['/login', 'Sign in', 'login'],
      ['/register', 'Create your account', 'register'],
      ['/forgot-password', 'Reset your password', 'forgot-password'],
      ['/reset-password', 'This link does not work', 'reset-password-invalid'],
      ['/no-such-page', 'Page not found', 'not-found'],
      ['/403', 'You do not have access', 'forbidden'],
      ['/500', 'Something went wrong', 'server-error'],
    ] as const) {
      const response = await page.goto(path);
      // A path the app has no page for renders its Not Found page, and the server says 404.
      expect(response?.status(), path).toBe(name === 'not-found' ? 404 : 200);
      await page.getByRole('heading', { level: 1, name: heading }).waitFor();
      problems.push(...(await auditPage(page, name)));
    }

    // The phone menu opens from the keyboard and lists the same pages.
    await page.setViewportSize(PHONE);
    await page.goto('/');
    await page.getByRole('button', { name: 'Menu' }).focus();
    await page.keyboard.press('Enter');
    const menu = page.locator('#mobile-menu');
    await menu.getByRole('link', { name: 'Get started' }).waitFor();
    expect(await page.getByRole('button', { name: 'Menu' }).getAttribute('aria-expanded')).toBe('true');
    for (const violation of await seriousViolations(page))
      problems.push(`phone menu: ${violation.id}: ${violation.help}`);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'nav-menu-phone.png') });
    await page.setViewportSize(DESKTOP);
    expectNoProblems(problems.splice(0));
  });

  await test.step('a login-required page sends a visitor to sign in', async () => {
    await page.goto('/pro');
    await page.waitForURL(/\/login\?next=%2Fpro$/);
    await page.getByText('Sign in to continue.').waitFor();
  });

  await test.step('sign up, then follow the link in the outbox, which verifies the email and signs in', async () => {
    await submitRegistration(page, email, 'Ada Lovelace');
    problems.push(...(await auditPage(page, 'register-check-email')));
    await verifyEmailThroughLink(page, email);
    expect(await mainText(page)).not.toContain('Confirm your email address');
    expect(await mainText(page)).toContain('Unlock Pro');
    await expect(page.getByRole('navigation', { name: 'Main' }).textContent()).resolves.toContain(
      'Plan: Free',
    );
    problems.push(...(await auditPage(page, 'dashboard-free')));

    await page.goto('/pro');
    await page.getByRole('heading', { name: 'The AI assistant is part of Pro' }).waitFor();
    problems.push(...(await auditPage(page, 'pro-upgrade-prompt')));

    expectNoProblems(problems.splice(0));
  });

  await test.step('subscribe on the hosted Checkout with 4242…; Pro unlocks', async () => {
    await page.goto('/pricing');
    await page.getByText('Current plan', { exact: true }).waitFor();
    problems.push(...(await auditPage(page, 'pricing-free-user')));

    await subscribeWithCard(page, '4242 4242 4242 4242');
    expect(await mainText(page)).toMatch(/free trial runs until/);
    problems.push(...(await auditPage(page, 'checkout-return')));

    await page.getByRole('link', { name: 'Open the assistant' }).click();
    await page.getByRole('heading', { level: 1, name: 'AI assistant' }).waitFor();
    await page.getByRole('heading', { name: 'This period' }).waitFor();
    expect(await mainText(page)).not.toContain('is part of Pro');
    await page.getByLabel('Your prompt').fill('Name three ways to reduce churn');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByText('written by the test model.').first().waitFor();
    await page.getByText(/Done · 28 tokens/).waitFor();
    const history = page.getByRole('region', { name: 'History' });
    await history.getByText('Name three ways to reduce churn', { exact: true }).waitFor();
    await expect
      .poll(() => page.getByRole('meter', { name: 'Requests' }).getAttribute('aria-valuenow'))
      .toBe('1');
    await expect(page.getByRole('navigation', { name: 'Main' }).textContent()).resolves.toContain(
      'Plan: Pro',
    );

    // Stop an answer midway: the words streamed so far stay, and both requests are in the history.
    await page.getByLabel('Your prompt').fill('Tell me slowly about retention');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByText('word3', { exact: false }).waitFor();
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.getByText('Stopped.', { exact: true }).waitFor();
    const answer = await page.getByRole('region', { name: 'Answer' }).textContent();
    expect(answer).toContain('word1');
    expect(answer).not.toContain('word400');
    await history.getByText('Tell me slowly about retention', { exact: true }).waitFor();
    await history.getByText(/cancelled/).waitFor();
    await history.getByText('Name three ways to reduce churn', { exact: true }).waitFor();
    problems.push(...(await auditPage(page, 'pro')));

    await page.goto('/');
    await page.getByRole('heading', { name: /pro plan/i }).waitFor();
    problems.push(...(await auditPage(page, 'dashboard-pro')));
    expectNoProblems(problems.splice(0));
  });

  await test.step('billing shows the subscription and its invoice', async () => {
    await page.goto('/billing');
    await page.getByRole('heading', { level: 1, name: 'Billing' }).waitFor();
    await page.getByRole('heading', { name: 'Current plan' }).waitFor();
    await page.getByText('You are on a free trial').waitFor();
    const invoices = page.getByRole('table');
    await invoices.waitFor();
    expect(await invoices.locator('tbody tr').count()).toBeGreaterThanOrEqual(1);
    const pdf = invoices.getByRole('link', { name: /PDF/ }).first();
    expect(await pdf.getAttribute('href')).toMatch(/^https?:\/\//);
    problems.push(...(await auditPage(page, 'billing-trial')));
    expectNoProblems(problems.splice(0));
  });

  await test.step('cancel at period end in the portal shows the notice; resuming removes it', async () => {
    await page.goto('/billing');
    await page.getByRole('link', { name: 'Manage billing' }).first().click();
    await page.getByRole('button', { name: 'Cancel plan at period end' }).click();
    await page.getByRole('link', { name: /Return/ }).click();
    await page.waitForURL(/\/billing$/);
    await page.getByText('Your subscription is set to cancel').waitFor();
    await page.getByText('Access ends').waitFor();
    problems.push(...(await auditPage(page, 'billing-canceling')));

    await page.getByRole('link', { name: 'Resume subscription' }).click();
    await page.getByRole('button', { name: 'Resume plan' }).click();
    await page.getByRole('link', { name: /Return/ }).click();
    await page.waitForURL(/\/billing$/);
    await page.getByText('Renews on').waitFor();
    expect(await mainText(page)).not.toContain('set to cancel');
    expectNoProblems(problems.splice(0));
  });

  await test.step('settings: change the name, change the password, sign out other sessions', async () => {
    await page.goto('/settings');
    await page.getByRole('heading', { level: 1, name: 'Account settings' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Ada King');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByText('Saved.').waitFor();

    await page.getByLabel('Current password').fill('not-my-password');
    await page.getByLabel('New password', { exact: true }).fill('Another-Strong-Pass-77');
    await page.getByLabel('Confirm new password').fill('Another-Strong-Pass-77');
    await page.getByRole('button', { name: 'Change password' }).click();
    // The server's field error lands on the field it is about.
    const current = page.getByLabel('Current password');
    await expect.poll(() => current.getAttribute('aria-invalid'), { timeout: 15_000 }).toBe('true');

    await page.getByRole('button', { name: 'Sign out of all other sessions' }).click();
    await page.getByText(/No other sessions were open|Signed out of \d+ other session/).waitFor();
    problems.push(...(await auditPage(page, 'settings')));
    await expect(page.getByRole('navigation', { name: 'Main' }).textContent()).resolves.toContain('Ada King');
    expectNoProblems(problems.splice(0));
  });

  await test.step('after signing out, a protected page redirects to sign in, and back after it', async () => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: /Ship the product/ }).waitFor();
    await page.goto('/billing');
    await page.waitForURL(/\/login\?next=%2Fbilling$/);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/billing$/);
    await page.getByRole('heading', { level: 1, name: 'Billing' }).waitFor();
  });
});
