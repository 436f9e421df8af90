// The one script policy against the attacks it exists for, through all three things that
// execute: a notify script (NotifyRunner), a script check (scriptProbe) and the fence command
// (runFence). Real files, real owners (uid 65534 plays the local attacker), real processes.
// Each attack script would `touch` a marker if it ever ran: the marker must never appear.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runFence } from '../../../src/ha/heartbeat/fence';
import { runProgram, ScriptPolicy } from '../../../src/exec';
import { NotifyRunner, type JobOutcome } from '../../../src/notify';
import { scriptProbe } from '../../../src/track';
import { describeRequiring, needsRoot } from '../../helpers/prerequisites';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { waitFor } from '../../helpers/wait';

const NOBODY = 65534;
let tmp: TempDir;
let n = 0;
const children: ChildProcess[] = [];

beforeAll(() => {
  tmp = makeTempDir('tv-sp-');
  // Traversable by the attacker (and by script_user runs), writable by root only.
  chmodSync(tmp.path, 0o755);
});
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});
afterAll(() => tmp.remove());

/** A fresh root-owned 0755 directory under the test dir. */
function dir(name: string, mode = 0o755, uid = 0): string {
  const d = tmp.file(`${name}-${++n}`);
  mkdirSync(d);
  chmodSync(d, mode);
  chownSync(d, uid, uid);
  return d;
}

function script(path: string, body: string, mode = 0o755, uid = 0): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  chownSync(path, uid, uid);
  return path;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

type Kind = 'notify' | 'check' | 'fence';
interface Ran {
  ok: boolean;
  detail: string;
}

/** Runs argv as the given kind of job, through the given policy, and says how it went. */
async function runAs(kind: Kind, argv: string[], policy: ScriptPolicy, timeoutMs = 5000, user?: string): Promise<Ran> {
  if (kind === 'notify') {
    const r = new NotifyRunner({ timeoutMs, killGraceMs: 200, scriptSecurity: policy.security, policy, log: quiet });
    let outcome: JobOutcome | undefined;
    r.onOutcome((o) => (outcome = o));
    r.enqueue({ key: 'k', argv, label: 'VI_T notify' });
    await r.idle();
    return { ok: outcome?.result === 'ok', detail: `${outcome?.result}: ${outcome?.detail}` };
  }
  if (kind === 'check') {
    const probe = scriptProbe({ argv, policy, ...(user ? { user } : {}) });
    return probe(AbortSignal.timeout(timeoutMs));
  }
  const r = await runFence({ argv, timeoutMs, policy, ...(user ? { user } : {}) });
  return { ok: r.ok, detail: r.detail };
}

const KINDS: Kind[] = ['notify', 'check', 'fence'];
const secure = () => new ScriptPolicy({ security: true });

describeRequiring([needsRoot], 'one script policy for notify scripts, script checks and the fence (attacks fail)', () => {
  it.each(KINDS)('%s: a world-writable script owned by another user is not run as root', async (kind) => {
    const d = dir('a1');
    const marker = `${d}/ran`;
    const s = script(`${d}/evil.sh`, `touch ${marker}`, 0o777, NOBODY);
    const r = await runAs(kind, [s], secure());
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/enable_script_security: .*evil\.sh is owned by uid 65534, not root/);
    expect(existsSync(marker)).toBe(false);
  });

  it.each(KINDS)('%s: a root-owned script that others may write is not run', async (kind) => {
    const d = dir('a1b');
    const marker = `${d}/ran`;
    const s = script(`${d}/open.sh`, `touch ${marker}`, 0o757);
    const r = await runAs(kind, [s], secure());
    expect(r.detail).toMatch(/open\.sh is writable by others/);
    expect(existsSync(marker)).toBe(false);
  });

  it.each(KINDS)('%s: a safe script in a directory others may write (no sticky bit) is not run', async (kind) => {
    const d = dir('a2', 0o777);
    const marker = `${tmp.path}/a2-ran-${kind}`;
    const s = script(`${d}/check.sh`, `touch ${marker}`);
    const r = await runAs(kind, [s], secure());
    expect(r.detail).toMatch(/a2-\d+ is writable by others/);
    expect(existsSync(marker)).toBe(false);
    // The same for a directory owned by the attacker, even 0755: the owner can rename the script away.
    const d2 = dir('a2b', 0o755, NOBODY);
    const s2 = script(`${d2}/check.sh`, `touch ${marker}`);
    expect((await runAs(kind, [s2], secure())).detail).toMatch(/a2b-\d+ is owned by uid 65534, not root/);
    expect(existsSync(marker)).toBe(false);
  });

  it.each(KINDS)('%s: a symlink on the way through a directory the attacker owns is refused, even when its target is safe', async (kind) => {
    // safe/entry -> attacker/link -> safe/good.sh: the configured path and its real path are both
    // root's (keepalived checks only those two), but the attacker can re-point attacker/link.
    const safe = dir('a3');
    const attacker = dir('a3x', 0o755, NOBODY);
    const good = script(`${safe}/good.sh`, 'exit 0');
    symlinkSync(good, `${attacker}/link`);
    symlinkSync(`${attacker}/link`, `${safe}/entry`);
    const r = await runAs(kind, [`${safe}/entry`], secure());
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/a3x-\d+ is owned by uid 65534, not root/);
  });

  it('symlink swap race: an attacker flipping a link between a good script and another root program never gets the other one run', async () => {
    const safe = dir('race');
    const attacker = dir('racex', 0o755, NOBODY);
    const goodMarker = `${safe}/good-ran`;
    const evilMarker = `${safe}/evil-ran`;
    script(`${safe}/good.sh`, `touch ${goodMarker}`);
    // A root-owned, perfectly safe program the attacker would like root to run with our arguments.
    script(`${safe}/other.sh`, `touch ${evilMarker}`);
    symlinkSync(`${safe}/good.sh`, `${attacker}/link`);
    // The attacker, as uid 65534, swaps the link as fast as it can (rename is atomic, so the
    // link always exists and points at one of the two).
    const flipper = spawn('/bin/sh', ['-c', `while :; do ln -sfn ${safe}/other.sh ${attacker}/t1 && mv -T ${attacker}/t1 ${attacker}/link; ln -sfn ${safe}/good.sh ${attacker}/t2 && mv -T ${attacker}/t2 ${attacker}/link; done`], { uid: NOBODY, gid: NOBODY, stdio: 'ignore' });
    children.push(flipper);
    const policy = secure();
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) for (const kind of KINDS) outcomes.push((await runAs(kind, [`${attacker}/link`], policy)).detail);
    flipper.kill('SIGKILL');
    expect(existsSync(evilMarker)).toBe(false);
    // Refused every time, with the reason, rather than "sometimes the right one".
    expect(outcomes.every((d) => /racex-\d+ is owned by uid 65534, not root/.test(d))).toBe(true);
    expect(existsSync(goodMarker)).toBe(false);
  });

  it('what runs is the file that was checked: re-pointing a link after the check does not change it', async () => {
    const safe = dir('swap');
    script(`${safe}/good.sh`, `echo good > ${safe}/out`);
    script(`${safe}/other.sh`, `echo other > ${safe}/out`);
    symlinkSync(`${safe}/good.sh`, `${safe}/link`);
    const prepared = await secure().prepare([`${safe}/link`]);
    expect(prepared.ok).toBe(true);
    if (!prepared.ok) return;
    expect(prepared.program.file).toBe(`${safe}/good.sh`);
    // Between the check and exec the link moves (only root could do it here: the directory is root's).
    symlinkSync(`${safe}/other.sh`, `${safe}/link2`);
    renameSync(`${safe}/link2`, `${safe}/link`);
    const r = await runProgram(prepared.program, { timeoutMs: 5000, killGraceMs: 0, killGroupOnExit: true }).done;
    expect(r).toMatchObject({ outcome: 'exited', code: 0 });
    expect(readFileSync(`${safe}/out`, 'utf8')).toBe('good\n');
  });

  it.each(['check', 'fence'] as const)('%s: a grandchild forked by the program dies with it at the timeout (no orphan left to PID 1)', async (kind) => {
    const d = dir('gc');
    const pidFile = `${d}/grandchild.pid`;
    const s = script(`${d}/hang.sh`, `sleep 300 & echo $! > ${pidFile}; sleep 300`);
    const r = await runAs(kind, [s], secure(), 400);
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/timed out/);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(1);
    await waitFor(() => !alive(pid), { what: `grandchild ${pid} to be killed`, timeoutMs: 5000 });
  });

  it('notify: a grandchild forked by the script dies with it at the timeout', async () => {
    const d = dir('gcn');
    const pidFile = `${d}/grandchild.pid`;
    const s = script(`${d}/hang.sh`, `sleep 300 & echo $! > ${pidFile}; sleep 300`);
    const r = await runAs('notify', [s], secure(), 400);
    expect(r.detail).toMatch(/^timeout/);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => !alive(pid), { what: `grandchild ${pid} to be killed`, timeoutMs: 5000 });
  });

  it.each(['check', 'fence'] as const)('%s: what the program leaves behind when it exits is killed too (one run, nothing piles up)', async (kind) => {
    const d = dir('left');
    const pidFile = `${d}/left.pid`;
    const s = script(`${d}/leave.sh`, `sleep 300 & echo $! > ${pidFile}; exit 0`);
    const r = await runAs(kind, [s], secure());
    expect(r.ok).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => !alive(pid), { what: `left-behind ${pid} to be killed`, timeoutMs: 5000 });
  });

  it.each(KINDS)('%s: a numeric script_user works (uid 65534), as a name does', async (kind) => {
    const out = dir('uid', 0o777);
    const s = script(`${dir('uids')}/id.sh`, `id -u > ${out}/${kind}.uid`);
    const r = await runAs(kind, [s], new ScriptPolicy({ security: true, defaultUser: '65534' }));
    expect(r.ok, r.detail).toBe(true);
    expect(readFileSync(`${out}/${kind}.uid`, 'utf8').trim()).toBe('65534');
    if (kind !== 'notify') {
      // The job's own user (check.user, fence.user) wins over script_user, numeric too.
      const own = await runAs(kind, [s], new ScriptPolicy({ security: true, defaultUser: 'root' }), 5000, '65534');
      expect(own.ok, own.detail).toBe(true);
      expect(readFileSync(`${out}/${kind}.uid`, 'utf8').trim()).toBe('65534');
    }
    const unknown = await runAs(kind, [s], new ScriptPolicy({ security: true, defaultUser: 'no-such-user-tv' }));
    expect(unknown.ok).toBe(false);
    expect(unknown.detail).toMatch(/script user 'no-such-user-tv' does not exist/);
  });

  it.each(KINDS)('%s: run as a non-root user, a script that user may change is allowed (it cannot gain anything)', async (kind) => {
    const out = dir('nr', 0o777);
    const d = dir('nrs', 0o755, NOBODY);
    const s = script(`${d}/mine.sh`, `touch ${out}/${kind}.ran`, 0o755, NOBODY);
    const r = await runAs(kind, [s], new ScriptPolicy({ security: true, defaultUser: 'nobody' }));
    expect(r.ok, r.detail).toBe(true);
    expect(existsSync(`${out}/${kind}.ran`)).toBe(true);
  });

  it('a set-uid root program in an unsafe place is refused even for a non-root script_user', async () => {
    const d = dir('suid', 0o777);
    copyFileSync('/bin/true', `${d}/suid-true`);
    chmodSync(`${d}/suid-true`, 0o4755);
    const r = await runAs('check', [`${d}/suid-true`], new ScriptPolicy({ security: true, defaultUser: 'nobody' }));
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/suid-\d+ is writable by others/);
  });

  it('enable_script_security false: the unsafe script runs (as keepalived does) and the finding is reported', async () => {
    const d = dir('off', 0o777);
    const s = script(`${d}/loose.sh`, `touch ${d}/ran`);
    const warnings: string[] = [];
    const probe = scriptProbe({ argv: [s], policy: new ScriptPolicy({ security: false }), onInsecure: (m) => warnings.push(m) });
    expect((await probe(AbortSignal.timeout(5000))).ok).toBe(true);
    expect((await probe(AbortSignal.timeout(5000))).ok).toBe(true);
    expect(existsSync(`${d}/ran`)).toBe(true);
    // Reported once per finding, not once per run.
    expect(warnings).toEqual([expect.stringMatching(/runs although unsafe \(enable_script_security is off\): .*off-\d+ is writable by others/)]);
  });
});
