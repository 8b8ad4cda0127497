import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Two cores: the process-level suites (crash, cluster, browser) each start several processes.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'wallcast', include: ['test/**/*.test.ts'] } },
      {
        // Issue 20: the stream suites again, against a machine of two workers (test/support/server-under-test.ts).
        extends: true,
        test: {
          name: 'two workers',
          include: ['test/e2e/stream.test.ts', 'test/e2e/multi-wall.test.ts'],
          env: { WALLCAST_TEST_WORKERS: '2' },
        },
      },
    ],
  },
});
