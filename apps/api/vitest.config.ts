import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Tests run the emulator from its TypeScript source, as tsx and tsc do (tsconfig.base.json `paths`),
 * so they never need its dist/ built; the built server loads dist/ through the package's exports.
 */
export const emulatorSource = {
  find: /^@tierbase\/stripe-emulator$/,
  replacement: fileURLToPath(new URL('../../packages/stripe-emulator/src/index.ts', import.meta.url)),
};

export default defineConfig({
  resolve: { alias: [emulatorSource] },
  test: {
    name: 'api',
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
