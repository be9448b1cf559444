import { defineProject } from 'vitest/config';

// End-to-end: one real server (built), one real browser; files run one after another.
export default defineProject({
  test: {
    name: 'e2e',
    include: ['*.test.ts'],
    globalSetup: ['global-setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
  },
});
