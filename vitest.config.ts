import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end suites start real servers on loopback; keep files in parallel but bounded.
    maxWorkers: 2,
  },
});
