import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Each workspace owns its own vitest.config.ts; this file only lists them.
export default defineConfig({
  test: {
    projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts'],
    // Vitest's default is one worker fewer than the cores: a single worker on a 2-core machine,
    // where most test files wait on child processes, sockets and timers rather than the CPU.
    // Two at least took a 2-core run of the suite from 12 to 8 minutes.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
