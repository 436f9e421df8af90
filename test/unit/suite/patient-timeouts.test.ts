// Every test and hook timeout of an integration file goes through patience() (test/helpers/
// patience.ts): a bare `}, 90_000);` is what a quiet machine needs and fails on a loaded one
// (heartbeat-pair/stray-advert (3): "Test timed out in 90000ms" under stress-ng, 2026-12-03).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/bundle';

/** The closing `}, <number>)` of an it/beforeAll/afterAll/describe whose timeout is a bare number. */
const BARE_TIMEOUT = /^\s*\}\s*,\s*[\d_]+\s*\)/;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return testFiles(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

function bareTimeouts(text: string): number[] {
  return text.split('\n').flatMap((line, i) => (BARE_TIMEOUT.test(line) ? [i + 1] : []));
}

describe('integration timeouts go through patience()', () => {
  it('the pattern catches a bare timeout and leaves a patient one alone', () => {
    for (const bad of ['}, 90_000);', '  }, 120000);', '}, 60_000); // why']) expect(bareTimeouts(bad), bad).toEqual([1]);
    for (const good of ['}, patience(90_000));', '  }, patience(120_000)); // why', '});', 'f(a, 10);']) expect(bareTimeouts(good), good).toEqual([]);
  });

  it('no integration test file has a bare test or hook timeout', () => {
    const offenders = testFiles(join(REPO_ROOT, 'test', 'integration')).flatMap((f) =>
      bareTimeouts(readFileSync(f, 'utf8')).map((line) => `${relative(REPO_ROOT, f)}:${line}`),
    );
    expect(offenders, 'write }, patience(N)); (test/helpers/patience.ts)').toEqual([]);
  });
});
