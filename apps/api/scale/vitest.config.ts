import { defineConfig } from 'vitest/config';
import { emulatorSource } from '../vitest.config.ts';

// `npm run test:scale` only: three built server processes behind nginx on the machine's PostgreSQL
// and Redis. Not one of the projects `npm test` runs (the root config lists apps/*/vitest.config.ts).
export default defineConfig({
  resolve: { alias: [emulatorSource] },
  test: {
    name: 'scale',
    root: new URL('.', import.meta.url).pathname,
    include: ['*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 120_000,
    // Figures are printed as they are measured, not buffered until the file ends.
    reporters: ['verbose'],
    // One file, one set of processes: nothing runs beside it.
    fileParallelism: false,
  },
});
