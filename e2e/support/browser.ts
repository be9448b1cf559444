import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';
import { DESKTOP, PHONE } from './chromium.ts';

export { DESKTOP, PHONE };

const here = path.dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = path.resolve(here, '../artifacts/screenshots');

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
  const find = async (): Promise<string | undefined> => {
    const response = await fetch(`${appUrl}/dev/mail/messages?to=${encodeURIComponent(to)}`);
    const body = (await response.json()) as { data: { messages: OutboxMessage[] } };
    for (const message of body.data.messages) {
      const match = pattern.exec(message.text);
      if (match) return match[0];
    }
    return undefined;
  };
  let link: string | undefined;
  await expect
    .poll(async () => (link = await find()), {
      message: `an email to ${to} with a ${pathPart} link`,
      timeout: 20_000,
      intervals: [250],
    })
    .toBeDefined();
  return link as string;
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
 * Waits until the page has laid itself out again (two frames) and its finite CSS transitions and
 * animations have finished, so axe and the screenshot see the final colours after a resize or a
 * theme change.
 */
async function settled(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const finite = document
      .getAnimations()
      .filter((animation) => animation.effect?.getComputedTiming().iterations !== Number.POSITIVE_INFINITY);
    await Promise.all(finite.map((animation) => animation.finished.catch(() => undefined)));
  });
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
    await settled(page);
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
  await settled(page);
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
