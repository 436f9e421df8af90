// Issue 5's fence hook (heartbeat.fence) on real daemons: b, the backup, has a fence script that
// records when it ran. The master a is killed hard (SIGKILL: no priority 0, no release, both
// channels simply go silent), which is the one case the fence exists for.
//  - fence exits 0: it runs (and finishes) before b takes over, and b takes over on the
//    heartbeat's "twin dead" path (serial silent, no answer to the probe);
//  - fence exits 1: alarm fence-failed, no fast takeover; b still takes over, but only when plain
//    VRRP's Master_Down timer expires (3 x 1 s + skew).
// The script takes 300 ms on purpose (a real fence power-cycles a box): a daemon that did not
// wait for it would take over before its "end" record.
import { existsSync } from 'node:fs';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { type Box, PairLab } from './pair-lab';
import { describeRequiring } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';

let p: PairLab;
let script: string;
let record: string;
let mode: string;

const logs = (): string => p.logs();

interface FenceCall { start: number; end: number; instances: string; rc: number }

async function fenceCalls(): Promise<FenceCall[]> {
  if (!existsSync(record)) return [];
  const calls: FenceCall[] = [];
  for (const l of (await readFile(record, 'utf8')).split('\n')) {
    const s = /^start (\d+) (.*)$/.exec(l);
    if (s) calls.push({ start: Number(s[1]), end: NaN, instances: s[2]!, rc: NaN });
    const e = /^end (\d+) (\d+)$/.exec(l);
    if (e && calls.length > 0) Object.assign(calls.at(-1)!, { end: Number(e[1]), rc: Number(e[2]) });
  }
  return calls;
}

/** Wall-clock ms of the first log line (ISO timestamp first) matching `re`. */
function lineAt(text: string, re: RegExp): number {
  const line = text.split('\n').find((l) => re.test(l));
  expect(line, `a log line matching ${re}`).toBeDefined();
  return Date.parse(line!.split(' ')[0]!);
}

/** Restarts a (and the socat cable if the kill took it down) and waits for the normal state. */
async function restoreA(): Promise<void> {
  if (!existsSync(p.serial!.a) || !existsSync(p.serial!.b)) {
    await p.serial!.kill();
    await p.serial!.start();
  }
  p.start(p.a);
  await p.masterIs(p.a, p.b);
  await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, () => `serial up on both${logs()}`);
}

beforeAll(async () => {
  if (!NetnsLab.available()) return;
  p = await PairLab.startPair({
    before: async (q) => {
      record = join(q.dir, 'fence.record');
      mode = join(q.dir, 'fence.rc');
      script = join(q.dir, 'fence.sh');
      // The temp dir is 0700 and root's; the script is 0700 too: nobody else can swap the fence.
      await writeFile(
        script,
        `#!/bin/sh\n` +
          `echo "start $(date +%s%3N) $TWINVIP_INSTANCES" >> ${record}\n` +
          `sleep 0.3\n` +
          `rc=$(cat ${mode})\n` +
          `echo "end $(date +%s%3N) $rc" >> ${record}\n` +
          `exit "$rc"\n`,
      );
      await chmod(script, 0o700);
      await writeFile(mode, '0\n');
    },
    options: (box) => (box.id === 'b' ? { fence: { command: [script], timeout: 5 } } : {}),
  });
}, patience(60_000));

afterAll(async () => {
  await p?.cleanup();
}, patience(60_000));

describeRequiring(NetnsLab.prerequisites, 'fence hook before a takeover on both channels lost', () => {
  it('(f1) master SIGKILLed, fence exits 0: the fence runs to its end before the backup takes over', async () => {
    await p.masterIs(p.a, p.b);
    await p.waitFor(async () => (await p.heartbeat(p.b))?.serial.ok, 'serial up on b');
    const mark = p.b.log().length;
    // Only the fence runs caused by this kill: b may have run the fence once at start-up already,
    // when a's daemon came up later than b's on a busy machine (both channels silent since start).
    const calls0 = (await fenceCalls()).length;
    const c0 = (await p.counters(p.b))!;
    p.a.proc!.child.kill('SIGKILL');
    await p.a.proc!.exited;
    await p.waitFor(async () => (await p.state(p.b)) === 'MASTER', () => `b MASTER${logs()}`);
    const after = p.b.log().slice(mark);

    const calls = (await fenceCalls()).slice(calls0);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ instances: 'VI_1', rc: 0 });
    const tookOver = lineAt(after, /VI_1: BACKUP -> MASTER \(twin dead, serial silent/);
    // The order that matters: fence started, fence finished, then the takeover.
    expect(calls[0]!.start).toBeLessThanOrEqual(calls[0]!.end);
    expect(calls[0]!.end).toBeLessThanOrEqual(tookOver);
    expect(lineAt(after, /running fence/)).toBeLessThanOrEqual(lineAt(after, /fence succeeded/));
    expect(after.indexOf('fence succeeded')).toBeLessThan(after.indexOf('BACKUP -> MASTER'));
    const c1 = (await p.counters(p.b))!;
    expect(c1.fences_run).toBe(c0.fences_run! + 1);
    expect(c1.fences_failed).toBe(c0.fences_failed);
    console.log(`(f1) fence ran ${calls[0]!.end - calls[0]!.start} ms; b took over ${tookOver - calls[0]!.end} ms after it ended`);
    await p.waitFor(() => p.hasVip(p.b), 'VIP on b');
  }, patience(90_000));

  it('(f2) master SIGKILLed, fence exits 1: alarm fence-failed, no fast takeover, Master_Down decides', async () => {
    await restoreA();
    await writeFile(mode, '1\n');
    const mark = p.b.log().length;
    const calls0 = (await fenceCalls()).length;
    const c0 = (await p.counters(p.b))!;
    p.a.proc!.child.kill('SIGKILL');
    await p.a.proc!.exited;
    await p.waitFor(async () => (await p.state(p.b)) === 'MASTER', () => `b MASTER${logs()}`, 30_000);
    const after = p.b.log().slice(mark);

    const calls = (await fenceCalls()).slice(calls0);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.rc).toBe(1);
    expect(after).toMatch(/fence failed in \d+ ms \(exit 1/);
    expect(after).toMatch(/alarm fence-failed: fence hook failed: exit 1.*plain VRRP timers decide/);
    // Not the heartbeat's fast path: VRRP's own Master_Down (3 x 1 s + skew, RFC 3768 §6.1).
    expect(after).not.toMatch(/BACKUP -> MASTER \(twin dead/);
    const m = /VI_1: BACKUP -> MASTER \(master down, (\d+) ms without advert\)/.exec(after);
    expect(m, `b's takeover on Master_Down${logs()}`).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(3000);
    expect(calls[0]!.end).toBeLessThanOrEqual(lineAt(after, /BACKUP -> MASTER/));
    const c1 = (await p.counters(p.b))!;
    expect(c1.fences_failed).toBe(c0.fences_failed! + 1);
    const hb = (await p.heartbeat(p.b))!;
    expect(hb.alarms.map((x) => x.id)).toContain('fence-failed');
    console.log(`(f2) failing fence; b took over on Master_Down after ${m![1]} ms without advert`);
    await p.waitFor(() => p.hasVip(p.b), 'VIP on b');
  }, patience(90_000));
});
