import { defineConfig } from 'vitest/config';
import { patience } from './test/helpers/patience';

// Two projects: unit tests run in parallel workers; integration tests create network
// namespaces and start real daemons, so they run one file at a time in a single worker.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Backstops only: a wait on an event fails first, with its own message (test/helpers/patience.ts).
          testTimeout: patience(20_000),
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          fileParallelism: false,
          maxWorkers: 1,
          testTimeout: patience(60_000),
          hookTimeout: patience(60_000),
        },
      },
    ],
  },
});
