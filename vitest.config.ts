import { defineConfig } from 'vitest/config';

// Four projects: pure unit tests, time-boxed fuzz properties replaying their stored corpus first
// (docs/testing.md), integration tests against real PostgreSQL and Redis (prepared once by the
// global setup; each file then makes its own database and key prefix), and the hot-path
// integration files once more against a local 3-master Redis Cluster (scripts/redis-cluster.sh).
const onClusterFiles = [
  'test/integration/core-concurrency.test.ts',
  'test/integration/core-payments.test.ts',
  'test/integration/core-commit-failure.test.ts',
  'test/integration/core-backpressure.test.ts',
  'test/integration/core-crash.test.ts',
  'test/integration/transit-taps.test.ts',
  'test/integration/topups.test.ts',
  'test/integration/jobs-checks.test.ts',
  'test/integration/scale-ownership.test.ts',
  'test/integration/scale-processes.test.ts',
  'test/integration/scale-cluster.test.ts',
];
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'fuzz', include: ['test/fuzz/**/*.fuzz.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: ['test/integration/scale-cluster.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: onClusterFiles,
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 60_000,
          env: { TEST_REDIS_CLUSTER: '1' },
        },
      },
    ],
  },
});
