import { defineConfig } from 'vitest/config';

// Two projects: pure unit tests, and integration tests against real PostgreSQL and Redis
// (prepared once by the global setup; each file then makes its own database and key prefix).
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
