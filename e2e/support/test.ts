import { test as base } from '@playwright/test';

/** What global-setup.ts started, handed to the tests through the environment of the worker. */
export interface E2eContext {
  /** The app's origin, e.g. http://localhost:43121 */
  appUrl: string;
  /** The Stripe emulator's origin (its control API moves test clocks). */
  emulatorUrl: string;
  /** A staff account made with the CLI's create-admin before the server started. */
  staffEmail: string;
  staffPassword: string;
  /** The address the local OpenID provider (standing in for Google) signs in with. */
  oidcEmail: string;
}

export const CONTEXT_VARIABLE = 'TIERBASE_E2E_CONTEXT';

/** One value global-setup.ts provided (the name and role of Vitest's `inject`). */
export function inject<K extends keyof E2eContext>(key: K): E2eContext[K] {
  const raw = process.env[CONTEXT_VARIABLE];
  if (!raw)
    throw new Error(`${CONTEXT_VARIABLE} is not set: run the e2e tests with \`npx playwright test -c e2e\``);
  return (JSON.parse(raw) as E2eContext)[key];
}

/** Playwright's test, with every page opening on the app started by global-setup.ts. */
export const test = base.extend({
  baseURL: async ({ baseURL }, use) => {
    await use(baseURL ?? inject('appUrl'));
  },
});

export { expect } from '@playwright/test';
