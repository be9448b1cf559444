import { auditPage, uniqueEmail } from './support/browser.ts';
import { advanceClock, testClockOf } from './support/emulator.ts';
import { expectNoProblems, mainText, registerThroughUi, subscribeWithCard } from './support/flows.ts';
import { expect, inject, test } from './support/test.ts';

const DAY = 86_400;

/** Monthly → yearly from the billing page: the prorated amount is shown, confirmed, and charged. */
test('switching to yearly billing', async ({ page }) => {
  const emulatorUrl = inject('emulatorUrl');
  const email = uniqueEmail('plan-change');

  await test.step('a monthly subscriber past the trial', async () => {
    await registerThroughUi(page, email, 'Ada Lovelace');
    await subscribeWithCard(page, '4242 4242 4242 4242');
    const clock = await testClockOf(emulatorUrl, email);
    // Past the 14-day trial and into the first paid month.
    await advanceClock(emulatorUrl, clock, 24 * DAY);
    await expect
      .poll(
        async () => {
          await page.goto('/billing');
          await page.getByRole('heading', { name: 'Current plan' }).waitFor();
          return (await mainText(page)).includes('Active');
        },
        { timeout: 30_000, intervals: [500] },
      )
      .toBe(true);
  });

  await test.step('the preview shows the prorated charge; confirming it switches the plan', async () => {
    await page.getByRole('button', { name: 'Switch to yearly billing' }).click();
    const panel = page.getByRole('region', { name: 'Switch to yearly billing' });
    await panel.waitFor();
    // biome-ignore lint/performance/useDomNodeTextContent: the text as rendered, as a user reads it
    const text = (await panel.innerText()).replace(/\s+/g, ' ');
    const charged = /You will be charged (\$[\d,.]+) now \(prorated/.exec(text)?.[1];
    expect(charged).toBeDefined();
    expect(text).toMatch(/Unused time on .*Pro/);
    expectNoProblems(await auditPage(page, 'billing-plan-change-preview'));

    await panel.getByRole('button', { name: `Confirm and pay ${charged}` }).click();
    await page.getByText(`You are now on yearly billing. ${charged} was charged.`).waitFor();
    await page.getByText('Pro · Yearly').waitFor();
    expect(await mainText(page)).toContain('Switch to monthly billing');
    expectNoProblems(await auditPage(page, 'billing-plan-changed'));
  });
});
