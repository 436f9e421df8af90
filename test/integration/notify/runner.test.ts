import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBus, CounterRegistry, type DaemonContext } from '../../../src/daemon';
import { Logger, memorySink } from '../../../src/log';
import { NotifyExtension, NotifyRunner, type JobOutcome } from '../../../src/notify';
import { parseConfigText } from '../../../src/config';
import { makeTempDir } from '../../helpers/tmp';
import { itRequiring, needsRoot } from '../../helpers/prerequisites';
import { waitFor } from '../../helpers/wait';

const tmp = makeTempDir('tv-nr-');
afterAll(() => tmp.remove());

function script(name: string, body: string, mode = 0o755): string {
  const path = tmp.file(name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}

const lines: string[] = [];
const log = { info: (m: string) => void lines.push(`info ${m}`), warn: (m: string) => void lines.push(`warn ${m}`), error: (m: string) => void lines.push(`error ${m}`) };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

describe('NotifyRunner with real processes', () => {
  it('passes argv exactly, without a shell ($, ;, spaces stay literal)', async () => {
    const out = tmp.file('args.out');
    const s = script('args.sh', `for a in "$@"; do printf '%s\\n' "$a"; done > ${out}`);
    const r = new NotifyRunner({ timeoutMs: 10_000, scriptSecurity: false, log });
    const outcomes: JobOutcome[] = [];
    r.onOutcome((o) => outcomes.push(o));
    r.enqueue({ key: 'VI_1', argv: [s, 'a b', '$HOME;id', 'INSTANCE', 'VI_1', 'MASTER', '150'], label: 'VI_1 notify' });
    await r.idle();
    expect(readFileSync(out, 'utf8')).toBe('a b\n$HOME;id\nINSTANCE\nVI_1\nMASTER\n150\n');
    expect(outcomes.map((o) => o.result)).toEqual(['ok']);
    expect(r.counters).toMatchObject({ started: 1, succeeded: 1, failed: 0 });
  });

  it('keeps order per instance and never blocks the caller', async () => {
    const out = tmp.file('order.out');
    const s = script('order.sh', `sleep 0.2; echo "$1" >> ${out}`);
    const r = new NotifyRunner({ timeoutMs: 10_000, scriptSecurity: false, log });
    const t0 = performance.now();
    for (const st of ['BACKUP', 'MASTER', 'FAULT', 'BACKUP']) r.enqueue({ key: 'VI_1', argv: [s, st], label: 'VI_1' });
    const enqueueMs = performance.now() - t0;
    expect(enqueueMs).toBeLessThan(200); // four 200 ms scripts: enqueue did not wait for them
    await r.idle();
    expect(readFileSync(out, 'utf8').trim().split('\n')).toEqual(['BACKUP', 'MASTER', 'FAULT', 'BACKUP']);
  });

  it('bounds the queue: the oldest waiting job is dropped and counted', async () => {
    const s = script('slow.sh', 'sleep 0.3');
    const r = new NotifyRunner({ timeoutMs: 10_000, scriptSecurity: false, log, maxQueue: 2 });
    for (let i = 0; i < 5; i++) r.enqueue({ key: 'VI_Q', argv: [s, String(i)], label: `job${i}` });
    await r.idle();
    expect(r.counters.dropped).toBe(2);
    expect(r.counters.succeeded).toBe(3);
  });

  it('kills the whole process group on timeout', async () => {
    const pidFile = tmp.file('child.pid');
    const s = script('hang.sh', `sleep 300 & echo $! > ${pidFile}; wait`);
    const r = new NotifyRunner({ timeoutMs: 500, killGraceMs: 500, scriptSecurity: false, log });
    const outcomes: JobOutcome[] = [];
    r.onOutcome((o) => outcomes.push(o));
    r.enqueue({ key: 'VI_T', argv: [s], label: 'VI_T notify_master' });
    const childPid = await waitFor(() => existsSync(pidFile) && Number(readFileSync(pidFile, 'utf8')), { what: 'grandchild pid' });
    await r.idle();
    expect(outcomes[0]?.result).toBe('timeout');
    expect(r.counters.timed_out).toBe(1);
    await waitFor(() => !alive(childPid), { what: `grandchild ${childPid} to die`, timeoutMs: 5000 });
    expect(lines.some((l) => /VI_T notify_master: killed after 500 ms timeout/.test(l))).toBe(true);
  });

  it('a failing script is logged with its exit status and stderr, and counted', async () => {
    const s = script('fail.sh', 'echo "no route" >&2; exit 3');
    const r = new NotifyRunner({ timeoutMs: 10_000, scriptSecurity: false, log });
    r.enqueue({ key: 'VI_F', argv: [s], label: 'VI_F notify_fault' });
    await r.idle();
    expect(r.counters.failed).toBe(1);
    expect(lines.some((l) => /warn VI_F notify_fault: failed \(exit status 3, \d+ ms\): no route/.test(l))).toBe(true);
  });

  it('a missing command is refused with a reason', async () => {
    const r = new NotifyRunner({ timeoutMs: 1000, scriptSecurity: false, log });
    r.enqueue({ key: 'k', argv: ['no-such-command-tv'], label: 'VI_M notify' });
    await r.idle();
    expect(r.counters.refused).toBe(1);
    expect(lines.some((l) => /error VI_M notify: not run: no-such-command-tv: not found in PATH/.test(l))).toBe(true);
  });

  itRequiring([needsRoot], 'enable_script_security refuses a world-writable script when running as root, and says why', async () => {
    const marker = tmp.file('insecure.ran');
    const s = script('insecure.sh', `touch ${marker}`, 0o777);
    const r = new NotifyRunner({ timeoutMs: 5000, scriptSecurity: true, log });
    r.enqueue({ key: 'VI_S', argv: [s], label: 'VI_S notify_master' });
    await r.idle();
    expect(existsSync(marker)).toBe(false);
    expect(r.counters.refused).toBe(1);
    expect(lines.some((l) => /VI_S notify_master: not run: enable_script_security: .*insecure\.sh is writable by others/.test(l))).toBe(true);
    const ok = script('secure.sh', `touch ${marker}`, 0o755);
    r.enqueue({ key: 'VI_S', argv: [ok], label: 'VI_S notify_master' });
    await r.idle();
    expect(existsSync(marker)).toBe(true);
  });

  itRequiring([needsRoot], 'script_user runs the script as that user (setuid through execFile)', async () => {
    const dir = tmp.file('shared');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    chmodSync(tmp.path, 0o755);
    const out = `${dir}/id.out`;
    const s = script('whoami.sh', `id -u > ${out}`);
    const r = new NotifyRunner({ timeoutMs: 5000, scriptSecurity: false, scriptUser: 'nobody', log });
    r.enqueue({ key: 'VI_U', argv: [s], label: 'VI_U notify' });
    await r.idle();
    expect(readFileSync(out, 'utf8').trim()).toBe('65534');
    const bad = new NotifyRunner({ timeoutMs: 5000, scriptSecurity: false, scriptUser: 'no-such-user-tv', log });
    bad.enqueue({ key: 'VI_U', argv: [s], label: 'VI_U notify' });
    await bad.idle();
    expect(bad.counters.refused).toBe(1);
  });
});

describe('NotifyExtension on bus notify events', () => {
  it('runs the instance and sync group scripts with keepalived arguments, the state and priority as the VRRP core gave them', async () => {
    const out = tmp.file('ext.out');
    const s = script('rec.sh', `echo "$*" >> ${out}`);
    const text = JSON.stringify({
      notify: { timeout: 10 },
      instances: {
        VI_1: { interface: 'lan0', vrid: 1, priority: 150, vips: ['192.0.2.1/24'], notify: { master: [s, 'm'], notify: s } },
        VI_2: { interface: 'wan0', vrid: 2, vips: ['192.0.2.2/24'] },
      },
      sync_groups: { VG: { instances: ['VI_1', 'VI_2'], notify: { notify: s, backup: [s, 'group-backup'] } } },
    });
    const parsed = parseConfigText(text);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const bus = new EventBus();
    const logger = new Logger({ sink: memorySink() });
    const counters = new CounterRegistry();
    const ctx = {
      config: parsed.config, configHash: parsed.hash, configPath: '/x', logger, bus, counters, startedAt: 0,
    } as unknown as DaemonContext;
    const ext = new NotifyExtension();
    ext.start(ctx);
    // As the VRRP runner puts them on the bus: each transition, then the core's notify action.
    bus.emit('transition', { instance: 'VI_1', from: 'INIT', to: 'BACKUP', cause: 'start', at: 1 });
    bus.emit('notify', { instance: 'VI_1', state: 'BACKUP', priority: 140, cause: 'start', at: 1 });
    bus.emit('transition', { instance: 'VI_2', from: 'INIT', to: 'BACKUP', cause: 'start', at: 2 });
    bus.emit('notify', { instance: 'VI_2', state: 'BACKUP', priority: 100, cause: 'start', at: 2 });
    bus.emit('transition', { instance: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'master down, 1204 ms', at: 3 });
    bus.emit('notify', { instance: 'VI_1', state: 'MASTER', priority: 140, cause: 'master down, 1204 ms', at: 3 });
    // A script has written its line before it exits; the counters move on exit.
    await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').trim().split('\n').length >= 5, { what: 'five notify lines' });
    await waitFor(() => (counters.snapshot().notify?.succeeded ?? 0) + (counters.snapshot().notify?.failed ?? 0) >= 5, { what: 'five scripts finished' });
    const snap = counters.snapshot().notify;
    await ext.stop();
    const got = readFileSync(out, 'utf8').trim().split('\n');
    // Per key the order holds; instance and group lanes run independently.
    expect(got.filter((l) => l.includes('VI_1') || l === 'm')).toEqual(['INSTANCE VI_1 BACKUP 140', 'm', 'INSTANCE VI_1 MASTER 140']);
    expect(got.filter((l) => l.includes('group') || l.includes('GROUP'))).toEqual(['group-backup', 'GROUP VG BACKUP 0']);
    expect(snap).toMatchObject({ succeeded: 5, failed: 0 });
  });
});
