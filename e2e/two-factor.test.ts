import { base32 } from '@better-auth/utils/base32';
import { createOTP } from '@better-auth/utils/otp';
import { auditPage, PASSWORD, uniqueEmail } from './support/browser.ts';
import { expectNoProblems, registerThroughUi } from './support/flows.ts';
import { expect, inject, test } from './support/test.ts';

/** What the user's authenticator app shows for the key they typed in. */
function authenticatorCode(secret: string): Promise<string> {
  return createOTP(base32.decode(secret), { digits: 6, period: 30 }).totp();
}

/** A 6-digit code the app is not showing now. */
async function wrongCode(secret: string): Promise<string> {
  return (await authenticatorCode(secret)) === '000000' ? '111111' : '000000';
}

test('two-factor authentication', async ({ page }) => {
  const appUrl = inject('appUrl');
  const email = uniqueEmail('totp');
  let secret = '';
  let backupCodes: string[] = [];
  async function signOut() {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();
  }

  async function passwordStep() {
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
  }

  await test.step('a user turns it on in Settings: QR code, typed key, backup codes, first code', async () => {
    const problems: string[] = [];
    await registerThroughUi(page, email, 'Grace Hopper');
    await page.goto('/settings');
    const card = page.getByRole('region', { name: 'Two-factor authentication' });
    await card.getByText('Two-factor authentication is off.').waitFor();
    await card.getByLabel('Your password, to set up two-factor').fill(PASSWORD);
    await card.getByRole('button', { name: 'Set up two-factor authentication' }).click();

    const qr = card.getByRole('img', { name: /QR code/ });
    await qr.waitFor();
    // The QR code is a real image the browser drew.
    expect(await qr.evaluate((image: HTMLImageElement) => image.complete && image.naturalWidth > 0)).toBe(
      true,
    );
    secret = (await card.getByTestId('two-factor-key').textContent())?.trim() ?? '';
    expect(secret).toMatch(/^[A-Z2-7]{16,}=*$/);
    backupCodes = await card
      .getByRole('list', { name: 'Backup codes' })
      .getByRole('listitem')
      .allTextContents();
    expect(backupCodes).toHaveLength(10);
    problems.push(...(await auditPage(page, 'two-factor-setup')));

    const download = page.waitForEvent('download');
    await card.getByRole('button', { name: 'Download codes' }).click();
    expect((await download).suggestedFilename()).toBe('tierbase-backup-codes.txt');

    const codeField = card.getByLabel('Enter the 6-digit code the app shows');
    await codeField.fill(await wrongCode(secret));
    await card.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await card.getByText(/That code is not valid/).waitFor();
    await codeField.fill(await authenticatorCode(secret));
    await card.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await card.getByText('Two-factor authentication is now on.').waitFor();
    expect(await card.getByText(backupCodes[0] ?? 'none').count()).toBe(0);
    problems.push(...(await auditPage(page, 'two-factor-on')));
    expectNoProblems(problems);
  });

  await test.step('signing in then asks for the code after the password', async () => {
    const problems: string[] = [];
    await signOut();
    await passwordStep();
    // No session yet: the app still treats the visitor as signed out.
    expect((await page.request.get(`${appUrl}/api/profile/`)).status()).toBe(401);
    problems.push(...(await auditPage(page, 'login-two-factor')));

    await page.getByLabel('Authentication code').fill(await wrongCode(secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'That code is not valid.' }).waitFor();
    problems.push(...(await auditPage(page, 'login-two-factor-wrong')));

    await page.getByLabel('Authentication code').fill(await authenticatorCode(secret));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { level: 1, name: /Welcome back, Grace/ }).waitFor();
    expectNoProblems(problems);
  });

  await test.step('a backup code signs in once', async () => {
    const backupCode = backupCodes[0] ?? '';
    await signOut();
    await passwordStep();
    await page.getByRole('button', { name: 'Use a backup code' }).click();
    await page.getByLabel('Backup code').fill(backupCode);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { level: 1, name: /Welcome back, Grace/ }).waitFor();

    await signOut();
    await passwordStep();
    await page.getByRole('button', { name: 'Use a backup code' }).click();
    await page.getByLabel('Backup code').fill(backupCode);
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'That code is not valid.' }).waitFor();
    expectNoProblems(await auditPage(page, 'login-backup-code-used'));
  });

  await test.step('it can be turned off in Settings with the password and a code', async () => {
    await page.getByLabel('Backup code').fill(backupCodes[1] ?? '');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { level: 1, name: /Welcome back, Grace/ }).waitFor();
    await page.goto('/settings');
    const card = page.getByRole('region', { name: 'Two-factor authentication' });
    await card.getByLabel('Your password', { exact: true }).fill(PASSWORD);
    await card.getByLabel('Code from your app, or a backup code').fill(await authenticatorCode(secret));
    await card.getByRole('button', { name: 'Turn off two-factor authentication' }).click();
    await card.getByText('Two-factor authentication is off.').waitFor();

    await signOut();
    await page.goto('/login');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: /Welcome back, Grace/ }).waitFor();
  });
});
