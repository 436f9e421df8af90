import { defineConfig } from 'vitest/config';
import { patience } from './test/helpers/patience';

/** Integration files at once: TWINVIP_INTEGRATION_WORKERS (default 2; 1 = one file at a time). */
function integrationWorkers(value: string | undefined): number {
  if (value === undefined || value === '') return 2;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`TWINVIP_INTEGRATION_WORKERS must be an integer >= 1, got ${JSON.stringify(value)}`);
  return n;
}

// Two projects, both in parallel workers. Unit tests: one worker per CPU. Integration tests
// create network namespaces (a unique prefix per lab) and start real daemons; they mostly wait
// on timers (advert intervals, dead times, observation windows), so TWINVIP_INTEGRATION_WORKERS
// files (default 2) run at once: the integration project took 647 s instead of 1157 s on 2 busy cores
// (load 13-17, test/README.md). Everything a file creates
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
