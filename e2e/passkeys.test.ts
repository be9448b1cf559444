import type { CDPSession } from '@playwright/test';
import { auditPage, uniqueEmail } from './support/browser.ts';
import { expectNoProblems, registerThroughUi } from './support/flows.ts';
import { expect, inject, test } from './support/test.ts';

/**
 * Passkeys in a real Chromium, with its virtual authenticator (the DevTools protocol's WebAuthn
 * domain) standing in for the platform one: a signed-in user adds a passkey in Settings, signs
 * out, and signs in with it alone.
 */
test('passkeys', async ({ page }) => {
  const appUrl = inject('appUrl');
  const email = uniqueEmail('passkey');
  // WebAuthn needs a secure context: http://localhost is one.
  expect(new URL(appUrl).hostname).toBe('localhost');
  const cdp: CDPSession = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  const storedCredentials = async () =>
    (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;

  await test.step('a signed-in user adds a passkey in Settings', async () => {
    await registerThroughUi(page, email, 'Grace Hopper');
    await page.goto('/settings');
    const card = page.getByRole('region', { name: 'Passkeys' });
    await card.getByText('You have no passkeys yet.').waitFor();
    await card.getByLabel('Name for a new passkey').fill('This laptop');
    await card.getByRole('button', { name: 'Add a passkey' }).click();
    await card.getByText('Passkey “This laptop” added.').waitFor();
    await card.getByText('never used').waitFor();
    expectNoProblems(await auditPage(page, 'settings-passkeys'));

    // The authenticator holds a discoverable credential for this site, made for this user.
    const credentials = await storedCredentials();
    expect(credentials).toHaveLength(1);
    expect(credentials[0]).toMatchObject({ isResidentCredential: true, rpId: 'localhost' });
  });

  await test.step('after signing out, the passkey alone signs the user back in', async () => {
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();

    await page.goto('/login');
    const button = page.getByRole('button', { name: 'Use a passkey' });
    await button.waitFor();
    expectNoProblems(await auditPage(page, 'login-with-passkey'));
    await button.click();
    await page.getByRole('heading', { level: 1, name: /Welcome back, Grace/ }).waitFor();
    // The authenticator signed (its counter moved), and Settings shows the use.
    const [credential] = await storedCredentials();
    expect(credential?.signCount).toBeGreaterThan(0);
    await page.goto('/settings');
    const card = page.getByRole('region', { name: 'Passkeys' });
    await card.getByText(/last used/).waitFor();
  });

  await test.step('a deleted passkey no longer signs in', async () => {
    const card = page.getByRole('region', { name: 'Passkeys' });
    await card.getByRole('button', { name: 'Delete This laptop' }).click();
    await card.getByText('You have no passkeys yet.').waitFor();
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('link', { name: 'Sign in' }).first().waitFor();

    await page.goto('/login');
    await page.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('alert').filter({ hasText: 'This passkey could not be verified.' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');
  });
});
