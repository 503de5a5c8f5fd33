import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Wire tests spawn workers and sockets; two cores, so keep parallelism modest.
    maxWorkers: 2,
  },
});
