import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = path.resolve(here, '../artifacts/screenshots');

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 375, height: 812 };

/** Debian's Chromium (CI installs it with apt-get); `npx playwright install` cannot run here. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export async function newUserPage(
  browser: Browser,
  baseURL: string,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ baseURL, viewport: DESKTOP });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  return { context, page };
}

/**
 * A browser and a fresh (signed-out) page on the app for the tests of one describe block: opened
 * before them, photographed when one fails, closed after. Call it at the top of the block.
 */
export function usePage(baseURL: string): { readonly page: Page } {
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page | undefined;
  beforeAll(async () => {
    browser = await launchBrowser();
    ({ context, page } = await newUserPage(browser, baseURL));
  });
  afterEach(async (test) => {
    await screenshotOnFailure(page, test.task);
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
  });
  return {
    get page() {
      if (!page) throw new Error('usePage: the page opens in beforeAll');
      return page;
    },
  };
}

/** A unique address per run, so reruns against a kept database never collide. */
export function uniqueEmail(label: string): string {
  return `${label}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`;
}

/** A password the server's strength check accepts. */
export const PASSWORD = 'Correct-Horse-Battery-42';

interface OutboxMessage {
  to: string;
  subject: string;
  template: string;
  text: string;
  createdAt: string;
}

/** The newest email to `to` whose text contains a link to `pathPart`, read from the dev outbox. */
export async function linkFromEmail(appUrl: string, to: string, pathPart: string): Promise<string> {
  const pattern = new RegExp(`https?://[^\\s)>\\]"]*${pathPart.replace(/[/?]/g, '\\$&')}[^\\s)>\\]"]*`);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${appUrl}/dev/mail/messages?to=${encodeURIComponent(to)}`);
    const body = (await response.json()) as { data: { messages: OutboxMessage[] } };
    for (const message of body.data.messages) {
      const match = pattern.exec(message.text);
      if (match) return match[0];
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no email to ${to} with a ${pathPart} link arrived in 20 s`);
}

export interface AxeViolationSummary {
  id: string;
  impact: string | null | undefined;
  help: string;
  targets: string[];
}

/** axe-core against WCAG 2.1 A/AA; returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolationSummary[]> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return result.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      targets: violation.nodes.slice(0, 5).map((node) => node.target.join(' ')),
    }));
}

/**
 * Checks the page as it is now at desktop and at 375 px (light), and at 375 px dark: no serious or
 * critical axe violation, no horizontal scrolling on the phone, and a full-page screenshot of each
 * written as an artifact.
 * Returns the problems found (empty when clean) so one test can report every page at once.
 */
export async function auditPage(page: Page, name: string): Promise<string[]> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const problems: string[] = [];
  const original = page.viewportSize() ?? DESKTOP;
  // From the top: a full-page shot taken while scrolled paints the sticky header mid-page.
  await page.evaluate(() => window.scrollTo(0, 0));
  for (const [label, size] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await page.setViewportSize(size);
    await page.waitForTimeout(150);
    for (const violation of await seriousViolations(page)) {
      problems.push(
        `${name} (${label}): ${violation.impact} ${violation.id}: ${violation.help} at ${violation.targets.join(', ')}`,
      );
    }
    if (label === 'phone') {
      const overflow = await page.evaluate(() => {
        const by = document.documentElement.scrollWidth - window.innerWidth;
        if (by <= 1) return null;
        // Name the outermost elements that stick out, so the report says what to fix.
        const culprits = [...document.body.querySelectorAll('*')]
          .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1)
          .filter(
            (element) =>
              !element.parentElement ||
              element.parentElement.getBoundingClientRect().right <= window.innerWidth + 1,
          )
          .slice(0, 3)
          .map(
            (element) => `<${element.tagName.toLowerCase()} class="${element.getAttribute('class') ?? ''}">`,
          );
        return { by, culprits };
      });
      if (overflow) {
        problems.push(
          `${name} (phone): the page scrolls sideways by ${overflow.by}px: ${overflow.culprits.join(', ')}`,
        );
      }
    }
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${label}.png`), fullPage: true });
  }
  // The dark theme follows the system: the same checks with the system asking for dark.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForTimeout(100);
  for (const violation of await seriousViolations(page)) {
    problems.push(
      `${name} (phone, dark): ${violation.impact} ${violation.id}: ${violation.help} at ${violation.targets.join(', ')}`,
    );
  }
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-phone-dark.png`), fullPage: true });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize(original);
  return problems;
}

/** When a test failed, a screenshot of where the page was, named after the test. */
export async function screenshotOnFailure(
  page: Page | undefined,
  task: { name: string; result?: { state?: string } },
): Promise<void> {
  if (!page || task.result?.state !== 'fail') return;
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const name = task.name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60);
  await page
    .screenshot({ path: path.join(SCREENSHOTS, `FAILED-${name}.png`), fullPage: true })
    .catch(() => {});
  console.log(`[e2e] failed at ${page.url()}`);
}
