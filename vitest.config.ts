import { defineConfig } from 'vitest/config';
import { patience } from './test/helpers/patience';

/** Integration files at once: TWINVIP_INTEGRATION_WORKERS (default 1: the project's rule is namespace tests in one worker). */
function integrationWorkers(value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`TWINVIP_INTEGRATION_WORKERS must be an integer >= 1, got ${JSON.stringify(value)}`);
  return n;
}

// Two projects, both in parallel workers. Unit tests: one worker per CPU. Integration tests
// create network namespaces (a unique prefix per lab) and start real daemons; they mostly wait
// on timers (advert intervals, dead times, observation windows). The project's standard is one
// worker for namespace tests (timing-sensitive assertions must not share the CPUs with another
// lab), so files run one at a time; TWINVIP_INTEGRATION_WORKERS=2 is a developer's shortcut
// (647 s instead of 1157 s on 2 busy cores, test/README.md), not what CI runs. Everything a file creates
// is its own (namespaces, temp dirs, loopback ports from the kernel); the bundle is built once
// per run before any file starts (test/helpers/build-bundle.global.ts).
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
          globalSetup: ['test/helpers/build-bundle.global.ts'],
          maxWorkers: integrationWorkers(process.env.TWINVIP_INTEGRATION_WORKERS),
          testTimeout: patience(60_000),
          hookTimeout: patience(60_000),
        },
      },
    ],
  },
});
