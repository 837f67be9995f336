import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Database tests start servers on loopback ports; files run in parallel processes.
    pool: 'forks',
    fileParallelism: true,
  },
});
