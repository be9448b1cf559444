import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'stripe-emulator', include: ['test/**/*.test.ts'], testTimeout: 30000 },
});
