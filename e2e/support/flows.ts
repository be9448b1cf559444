import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { linkFromEmail, PASSWORD } from './browser.ts';

/** Signs up through the form and lands on the dashboard. */
export async function registerThroughUi(page: Page, email: string, name: string): Promise<void> {
  await page.goto('/register');
  await page.getByLabel('Name').fill(name);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { level: 1, name: /Welcome back/ }).waitFor();
}

export async function verifyEmailThroughLink(page: Page, appUrl: string, email: string): Promise<void> {
  const link = await linkFromEmail(appUrl, email, '/verify-email?token=');
  await page.goto(link);
  await page.getByRole('heading', { level: 1, name: 'Email verified' }).waitFor();
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
