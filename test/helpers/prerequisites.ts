/**
 * What a test suite needs from the machine (root, `ip netns`, a program), and what happens when
 * something is missing. A missing prerequisite FAILS the suite with the reason, so a run without
 * root can never look green; only an explicit TWINVIP_ALLOW_SKIP=1 (a developer on a machine
 * without root) turns it into a skip, still named with the reason. CI (CI=true) and `make test`
 * therefore fail loudly unless that variable is set on purpose.
 *
 *   import { describeRequiring, itRequiring, needsRoot, needsProgram } from '../../helpers/prerequisites';
 *   describeRequiring([needsRoot, needsProgram('keepalived')], 'suite name', () => { ... });
 *   itRequiring([needsProgram('ping')], 'test name', async () => { ... });
 *   missingPrerequisites([needsRoot])      // the reasons, [] when all are there
 *
 * A prerequisite is a function returning the reason it is missing (with the fix), or undefined.
 * Use these instead of describe.skipIf/it.skipIf: test/unit/suite/no-hidden-skips.test.ts
 * refuses a bare skip anywhere under test/.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, it } from 'vitest';

export type Prerequisite = () => string | undefined;

export type Verdict = { action: 'run' } | { action: 'skip' | 'fail'; reason: string };

/** The opt-in that lets a missing prerequisite skip instead of fail. */
export const ALLOW_SKIP_VAR = 'TWINVIP_ALLOW_SKIP';

export const needsRoot: Prerequisite = () => {
  const uid = process.getuid?.();
  return uid === 0 ? undefined : `not root (uid ${uid ?? 'unknown'}): network namespaces, raw sockets and daemons in them need root`;
};

// The sbin directories are searched even when PATH lacks them (a non-root PATH often does).
const EXTRA_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Where `name` is found as an executable on PATH or in the usual bin/sbin directories. */
export function findProgram(name: string, path = process.env.PATH ?? ''): string | undefined {
  const dirs = [...path.split(delimiter).filter(Boolean), ...EXTRA_DIRS];
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

/** `program` installed; `pkg` names the Debian package in the reason. */
export function needsProgram(program: string, pkg = program): Prerequisite {
  return () => (findProgram(program) ? undefined : `${program} is not installed (Debian package ${pkg}): run make deps-system`);
}

/** Root and `ip` (iproute2): what every network-namespace lab needs. */
export const needsNetns: Prerequisite[] = [needsRoot, needsProgram('ip', 'iproute2')];

export function missingPrerequisites(prereqs: readonly Prerequisite[]): string[] {
  return prereqs.map((p) => p()).filter((r): r is string => r !== undefined);
}

/** Run, skip or fail, from the missing prerequisites' reasons and the environment. */
export function verdict(reasons: readonly string[], env: NodeJS.ProcessEnv = process.env): Verdict {
  if (reasons.length === 0) return { action: 'run' };
  const reason = reasons.join('; ');
  return env[ALLOW_SKIP_VAR] === '1' ? { action: 'skip', reason } : { action: 'fail', reason };
}

/** The error a suite fails with when a prerequisite is missing and skipping was not allowed. */
export function missingPrerequisiteMessage(reason: string, what: 'suite' | 'test' = 'suite'): string {
  return `missing prerequisite: ${reason}. This ${what} did not run. Fix the machine, or set ${ALLOW_SKIP_VAR}=1 to skip it deliberately.`;
}

const warned = new Set<string>();
function warnSkip(name: string, reason: string): void {
  const key = `${name}\0${reason}`;
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`SKIPPED "${name}" (${ALLOW_SKIP_VAR}=1): ${reason}`);
}

/** describe(name, fn) when every prerequisite is there; otherwise a failing (or, opted in, skipped) suite naming what is missing. */
export function describeRequiring(prereqs: readonly Prerequisite[], name: string, fn: () => void): void {
  const v = verdict(missingPrerequisites(prereqs));
  if (v.action === 'run') {
    describe(name, fn);
    return;
  }
  if (v.action === 'skip') {
    warnSkip(name, v.reason);
    describe.skip(`${name} [skipped: ${v.reason}]`, fn);
    return;
  }
  const message = missingPrerequisiteMessage(v.reason);
  describe(name, () => {
    it('has its prerequisites', () => {
      throw new Error(message);
    });
  });
}

/** it(name, fn) when every prerequisite is there; otherwise a failing (or, opted in, skipped) test naming what is missing. */
export function itRequiring(prereqs: readonly Prerequisite[], name: string, fn: () => unknown, timeoutMs?: number): void {
  const v = verdict(missingPrerequisites(prereqs));
  if (v.action === 'run') {
    it(name, fn, timeoutMs);
    return;
  }
  if (v.action === 'skip') {
    warnSkip(name, v.reason);
    it.skip(`${name} [skipped: ${v.reason}]`, fn);
    return;
  }
  const message = missingPrerequisiteMessage(v.reason, 'test');
  it(name, () => {
    throw new Error(message);
  });
}
