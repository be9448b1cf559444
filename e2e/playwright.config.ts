import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH, DESKTOP } from './support/chromium.ts';

/**
 * End-to-end: one real server (built, started by global-setup.ts), Debian's Chromium, one journey
 * per test with its stages as `test.step`. Files run one after another in one worker: they share
 * the server, and two browsers on two cores would only make each other slow.
 */
export default defineConfig({
  testDir: '.',
  testMatch: '*.test.ts',
  globalSetup: './global-setup.ts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  // A journey is one test: its stages used to be tests of three minutes each.
  timeout: 600_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  outputDir: 'artifacts/test-results',
  use: {
    viewport: DESKTOP,
    actionTimeout: 15_000,
    navigationTimeout: 15_000,
    screenshot: 'only-on-failure',
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
  },
});
