// The prerequisite helper (test/helpers/prerequisites.ts): a missing prerequisite fails a suite
// with its reason, unless TWINVIP_ALLOW_SKIP=1. The decision is checked as a function, then end
// to end in a vitest of its own on a fixture whose prerequisite is hidden.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../helpers/bundle';
import { makeTempDir } from '../../helpers/tmp';
import { findProgram, missingPrerequisites, needsProgram, needsRoot, verdict } from '../../helpers/prerequisites';

describe('verdict', () => {
  it('runs when nothing is missing, whatever the environment', () => {
    expect(verdict([], {})).toEqual({ action: 'run' });
    expect(verdict([], { TWINVIP_ALLOW_SKIP: '1' })).toEqual({ action: 'run' });
  });

  it('fails with every reason when something is missing: by default, under CI=true, and with any value but 1', () => {
    for (const env of [{}, { CI: 'true' }, { TWINVIP_ALLOW_SKIP: '0' }, { TWINVIP_ALLOW_SKIP: 'yes' }, { TWINVIP_ALLOW_SKIP: '' }]) {
      expect(verdict(['not root', 'no keepalived'], env), JSON.stringify(env)).toEqual({ action: 'fail', reason: 'not root; no keepalived' });
    }
  });

  it('skips, still with the reason, only with TWINVIP_ALLOW_SKIP=1 (also under CI=true)', () => {
    expect(verdict(['not root'], { TWINVIP_ALLOW_SKIP: '1' })).toEqual({ action: 'skip', reason: 'not root' });
    expect(verdict(['not root'], { CI: 'true', TWINVIP_ALLOW_SKIP: '1' })).toEqual({ action: 'skip', reason: 'not root' });
  });
});

describe('prerequisites', () => {
  it('a program: found on PATH or in the sbin directories a non-root PATH lacks; missing names its package and the fix', () => {
    expect(findProgram('sh', '')).toMatch(/^\/(usr\/)?bin\/sh$/);
    expect(needsProgram('sh')()).toBeUndefined();
    expect(needsProgram('twinvip-no-such-program', 'twinvip-pkg')()).toBe('twinvip-no-such-program is not installed (Debian package twinvip-pkg): run make deps-system');
  });

  it('root: names the uid when it is not 0', () => {
    const r = needsRoot();
    if (process.getuid?.() === 0) expect(r).toBeUndefined();
    else expect(r).toMatch(/^not root \(uid \d+\)/);
  });

  it('missingPrerequisites lists only the missing ones, in order', () => {
    expect(missingPrerequisites([() => undefined, () => 'a', () => undefined, () => 'b'])).toEqual(['a', 'b']);
  });
});

interface JsonReport {
  success: boolean;
  testResults: { assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

/** vitest on the fixture (test/fixtures/prerequisites), with only the variables given. */
function runFixture(extraEnv: Record<string, string>): Promise<{ code: number | null; report: JsonReport; output: string }> {
  const dir = join(REPO_ROOT, 'test', 'fixtures', 'prerequisites');
  const tmp = makeTempDir('tv-prereq-');
  const reportFile = tmp.file('report.json');
  // A clean environment: the parent's VITEST_* variables must not leak into the nested run.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1', ...extraEnv };
  const args = [join(REPO_ROOT, 'node_modules', '.bin', 'vitest'), 'run', '--configLoader', 'runner', '--config', join(dir, 'vitest.config.ts'), '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        resolve({ code, report: JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport, output });
      } catch {
        reject(new Error(`no JSON report (exit ${code}):\n${output}`));
      } finally {
        tmp.remove();
      }
    });
  });
}

function results(report: JsonReport): Record<string, { status: string; message: string }> {
  return Object.fromEntries(report.testResults.flatMap((f) => f.assertionResults.map((a) => [a.fullName, { status: a.status, message: a.failureMessages.join('\n') }])));
}

describe('a suite whose prerequisite is hidden, in a vitest of its own', () => {
  it('fails with the reason under CI=true, and the suite body never runs', async () => {
    const { code, report } = await runFixture({ CI: 'true' });
    expect(code).toBe(1);
    expect(report.success).toBe(false);
    const r = results(report);
    expect(Object.keys(r).sort()).toEqual(['suite needing the hidden prerequisite has its prerequisites', 'suite with its prerequisite runs', 'test needing the hidden prerequisite']);
    expect(r['suite needing the hidden prerequisite has its prerequisites']!.status).toBe('failed');
    expect(r['suite needing the hidden prerequisite has its prerequisites']!.message).toMatch(/missing prerequisite: the fixture prerequisite is hidden\. This suite did not run\. .*TWINVIP_ALLOW_SKIP=1/);
    expect(r['test needing the hidden prerequisite']!.message).toMatch(/missing prerequisite: the fixture prerequisite is hidden\. This test did not run\./);
    expect(r['suite with its prerequisite runs']!.status).toBe('passed');
    expect(JSON.stringify(report)).not.toContain('ran although its prerequisite is missing');
  }, 60_000);

  it('skips, naming the reason, with TWINVIP_ALLOW_SKIP=1', async () => {
    const { code, report, output } = await runFixture({ CI: 'true', TWINVIP_ALLOW_SKIP: '1' });
    expect(code).toBe(0);
    const r = results(report);
    expect(r['suite with its prerequisite runs']!.status).toBe('passed');
    const skipped = Object.entries(r).filter(([, v]) => v.status === 'skipped' || v.status === 'pending').map(([k]) => k);
    expect(skipped.sort()).toEqual([
      'suite needing the hidden prerequisite [skipped: the fixture prerequisite is hidden] never runs',
      'test needing the hidden prerequisite [skipped: the fixture prerequisite is hidden]',
    ]);
    expect(output).toContain('SKIPPED "suite needing the hidden prerequisite" (TWINVIP_ALLOW_SKIP=1): the fixture prerequisite is hidden');
  }, 60_000);
});
