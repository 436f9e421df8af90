import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { NO_NETNS_ENV, splitIntegrationFiles } from './test/helpers/integration-projects';
import { patience } from './test/helpers/patience';

/** Files at once in a project: the env var's value (default 1). */
function workers(name: string, value: string | undefined): number {
  if (value === undefined || value === '') return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be an integer >= 1, got ${JSON.stringify(value)}`);
  return n;
}

// Three projects. `unit`: the core with a fake clock, one worker per CPU. The integration files are
// split by what they create (test/helpers/integration-projects.ts reads each file and what it
// imports; no hand list):
//   `integration`: files that create network namespaces (labs of real daemons on protocol
//     timers). The project's standard is one worker for namespace tests (two labs sharing two
//     cores make each other's timing), so they run one at a time; TWINVIP_INTEGRATION_WORKERS=2
//     is a developer's shortcut, not what CI runs.
//   `integration-local`: files that create none (ptys, loopback ports, brokers, nginx, the
//     tarballs). They run in their own worker; `make test` runs the three projects as three
//     `vitest run`s at the same time (one `vitest run` of several projects runs projects with
//     different worker counts one after the other). NetnsLab refuses a namespace here.
// Everything a file creates is its own (namespaces under a unique prefix, temp dirs, loopback
// ports from the kernel, tarballs under a lock); the bundle is built before any file starts, once
// (test/helpers/build-bundle.global.ts, under a lock when two runs start together).
const split = splitIntegrationFiles(dirname(fileURLToPath(import.meta.url)));
const integration = {
  globalSetup: ['test/helpers/build-bundle.global.ts'],
  testTimeout: patience(60_000),
  hookTimeout: patience(60_000),
};

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
          include: split.namespace,
          maxWorkers: workers('TWINVIP_INTEGRATION_WORKERS', process.env.TWINVIP_INTEGRATION_WORKERS),
          ...integration,
        },
      },
      {
        test: {
          name: 'integration-local',
          include: split.local,
          maxWorkers: workers('TWINVIP_LOCAL_WORKERS', process.env.TWINVIP_LOCAL_WORKERS),
          env: { [NO_NETNS_ENV]: '1' },
          ...integration,
        },
      },
    ],
  },
});
