import { auditPage, uniqueEmail } from './support/browser.ts';
import { advanceClock, testClockOf } from './support/emulator.ts';
import { expectNoProblems, mainText, registerThroughUi, subscribeWithCard } from './support/flows.ts';
import { expect, inject, test } from './support/test.ts';

const DAY = 86_400;

/**
 * A card that attaches but fails later (4000 0000 0000 0341): the trial ends, the charge fails,
 * the app shows the past-due banner, the customer fixes the card in the portal, the banner goes.
 */
test('a failed payment and its recovery', async ({ page }) => {
  const emulatorUrl = inject('emulatorUrl');
  const email = uniqueEmail('dunning');
  await test.step('the trial starts with a card that will fail', async () => {
    await registerThroughUi(page, email, 'Grace Hopper');
    await subscribeWithCard(page, '4000 0000 0000 0341');
  });

  await test.step('when the trial ends and the charge fails, billing and the dashboard show the past-due banner', async () => {
    const clock = await testClockOf(emulatorUrl, email);
    await advanceClock(emulatorUrl, clock, 15 * DAY);

    // The failure reaches the app by webhook; reload as a user would until it shows.
    const banner = page.getByRole('alert').filter({ hasText: 'Your last payment failed' });
    await expect
      .poll(
        async () => {
          await page.goto('/billing');
          await page.getByRole('heading', { name: 'Current plan' }).waitFor();
          return banner.isVisible();
        },
        { timeout: 30_000, intervals: [500] },
      )
      .toBe(true);
    await page.getByText('Past due').first().waitFor();
    expect(await banner.getByRole('link', { name: 'Fix your card' }).getAttribute('href')).toContain(
      '/api/stripe/portal',
    );
    expectNoProblems(await auditPage(page, 'billing-past-due'));

    await page.goto('/');
    await page.getByRole('alert').filter({ hasText: 'Your last payment failed' }).waitFor();
    expectNoProblems(await auditPage(page, 'dashboard-past-due'));
  });

  await test.step('fixing the card in the portal pays the invoice and the banner goes away', async () => {
    await page.goto('/billing');
    await page.getByRole('link', { name: 'Fix your card' }).click();
    await page.getByText('Update payment method').click();
    await page.getByLabel('Card number').fill('4242 4242 4242 4242');
    await page.getByLabel(/Expiration/).fill('12 / 34');
    await page.getByLabel('CVC').fill('123');
    await page.getByLabel('Name on card').fill('Grace Hopper');
    await page.getByRole('button', { name: 'Save card' }).click();
    await page.getByRole('status').first().waitFor();
    await page.getByRole('link', { name: /Return/ }).click();
    await page.waitForURL(/\/billing$/);
    await page.getByText('Renews on').waitFor();
    await page.getByText('Active', { exact: true }).waitFor();
    expect(await mainText(page)).not.toContain('Your last payment failed');
  });
});
