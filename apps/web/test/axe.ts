import axe from 'axe-core';
import { expect } from 'vitest';

/**
 * axe-core (WCAG 2.1 A/AA) on what is rendered now. jsdom has no layout or stylesheet, so colour
 * contrast is left to the e2e tests, which run axe in Chromium.
 */
export async function expectNoAxeViolations(root: Element = document.body): Promise<void> {
  const result = await axe.run(root, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    rules: { 'color-contrast': { enabled: false } },
  });
  expect(
    result.violations.map(
      (violation) =>
        `${violation.id}: ${violation.help} at ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
    ),
  ).toEqual([]);
}
