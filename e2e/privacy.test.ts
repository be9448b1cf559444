import { readFile } from 'node:fs/promises';
import { auditPage, PASSWORD, uniqueEmail } from './support/browser.ts';
import { expectNoProblems, registerThroughUi, subscribeWithCard } from './support/flows.ts';
import { expect, inject, test } from './support/test.ts';

test('your data: download it, then delete the account', async ({ page }) => {
  const appUrl = inject('appUrl');
  const email = uniqueEmail('privacy');
  await test.step('a subscriber downloads everything held about them', async () => {
    await registerThroughUi(page, email, 'Grace Hopper');
    await subscribeWithCard(page, '4242 4242 4242 4242');
    await page.goto('/settings');
    await page.getByRole('heading', { name: 'Delete account' }).waitFor();
    expectNoProblems(await auditPage(page, 'settings-privacy'));

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download my data' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^tierbase-account-\d{4}-\d\d-\d\d\.json$/);
    const document = JSON.parse(await readFile((await download.path())!, 'utf8'));
    expect(document.account).toMatchObject({ email, name: 'Grace Hopper' });
    expect(document.subscription).toMatchObject({ plan: 'pro', status: 'trialing' });
    expect(document.invoices.length).toBeGreaterThan(0);
    await page.getByText('Your data has been downloaded.').waitFor();
  });

  await test.step('deleting asks for the password, signs out, and the old sign-in no longer works', async () => {
    const password = page.getByLabel('Your password, to confirm');
    await password.fill('not-my-password');
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByText('The password is incorrect.').waitFor();

    await password.fill(PASSWORD);
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByText('Your account has been deleted').waitFor();
    expect(new URL(page.url()).pathname).toBe('/');
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();

    const response = await fetch(`${appUrl}/dev/mail/messages?to=${encodeURIComponent(email)}`);
    const { messages } = ((await response.json()) as { data: { messages: { subject: string }[] } }).data;
    expect(messages.map((message) => message.subject)).toEqual(['Your Tierbase account has been deleted']);

    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page
      .getByRole('alert')
      .filter({ hasText: /invalid|incorrect/i })
      .waitFor();
  });
});
