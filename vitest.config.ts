import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real sockets and child processes: two workers match the two cores CI has.
    pool: 'forks',
    maxWorkers: 2,
  },
});
