import { expect, type Page } from '@playwright/test';
import { linkFromEmail, PASSWORD } from './browser.ts';

/** Fills and sends the sign-up form; the page then says to check the inbox (no one is signed in). */
export async function submitRegistration(page: Page, email: string, name: string): Promise<void> {
  await page.goto('/register');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { level: 1, name: 'Check your email' }).waitFor();
}

/**
 * Opens the verification link from the outbox (its token in the fragment), which signs the new
 * user in and lands on the dashboard, with the token gone from the address bar.
 */
export async function verifyEmailThroughLink(page: Page, email: string): Promise<void> {
  const appUrl = new URL(page.url()).origin;
  const link = await linkFromEmail(appUrl, email, '/verify-email#token=');
  await page.goto(link);
  await page.getByRole('heading', { level: 1, name: /Welcome back/ }).waitFor();
  expect(page.url()).not.toContain('token');
}

/** Signs up through the form and the emailed link, and lands on the dashboard. */
export async function registerThroughUi(page: Page, email: string, name: string): Promise<void> {
  await submitRegistration(page, email, name);
  await verifyEmailThroughLink(page, email);
}

/** From /pricing to Stripe's hosted Checkout and back, paying with `card`. */
export async function subscribeWithCard(page: Page, card: string): Promise<void> {
  await page.goto('/pricing');
  await page.getByRole('button', { name: /free trial|Upgrade to/ }).click();
  await page.getByLabel('Card number').waitFor();
  await page.getByLabel('Card number').fill(card);
  await page.getByLabel(/Expiration/).fill('12 / 34');
  await page.getByLabel('CVC').fill('123');
  await page.getByLabel('Name on card').fill('Ada Lovelace');
  await page.getByRole('button', { name: /Start trial|Subscribe/ }).click();
  await page.waitForURL(/\/checkout\/return\?session_id=/);
  await page.getByRole('heading', { level: 1, name: 'Welcome to Pro' }).waitFor();
}

/** The text of the page's main landmark, for assertions on what a user reads. */
export async function mainText(page: Page): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: rendered text on purpose; hidden layouts must not count
  return (await page.locator('main').innerText()).replace(/\s+/g, ' ');
}

export function expectNoProblems(problems: string[]): void {
  expect(problems, problems.join('\n')).toEqual([]);
}
