import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real sockets and child processes: two workers match the two cores CI has.
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/**/*.e2e.test.ts'], sequence: { groupOrder: 0 } },
      },
      {
        // End-to-end suites measure real time (toxic latencies with stated tolerances, delivery
        // delays); they run after the unit tests, one file at a time, so the CPU-heavy unit
        // tests never skew their clocks.
        extends: true,
        test: { name: 'e2e', include: ['test/**/*.e2e.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
