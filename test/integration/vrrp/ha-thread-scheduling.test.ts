// The HA thread's scheduling (config `scheduling`, keepalived's vrrp_rt_priority / vrrp_priority /
// vrrp_rlimit_rttime): read back from the kernel (/proc/PID/task/TID/sched, stat, limits) of a
// daemon running one instance in its own namespace. Only that thread is real-time; the main
// thread and every other thread stay SCHED_OTHER. Without CAP_SYS_NICE the daemon still runs, and
// says so loudly. A runaway HA thread (a debug busy loop) is put back to normal scheduling by the
// RLIMIT_RTTIME safety net instead of holding a core (or the kernel killing the daemon).
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { requestOnce } from '../../../src/control';
import { statNumber } from '../../../src/lib/proc-stat';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { BUNDLE, NODE, Twinvip, VrrpLab, useVrrpLab } from './lab';

const VIP = '10.66.0.121';
const lab = useVrrpLab(['a']);
process.env.TWINVIP_DEBUG_BUSY = '1';

interface TaskSched {
  tid: number;
  policy: number;
  prio: number;
  nice: number;
}

/** Every thread of `pid`: policy (0 SCHED_OTHER, 2 SCHED_RR) and prio from .../sched, nice from .../stat. */
async function tasks(pid: number): Promise<TaskSched[]> {
  const out: TaskSched[] = [];
  for (const t of await readdir(`/proc/${pid}/task`)) {
    try {
      const sched = await readFile(`/proc/${pid}/task/${t}/sched`, 'utf8');
      const stat = await readFile(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const field = (name: string) => Number(new RegExp(`^${name}\\s+:\\s+(-?\\d+)`, 'm').exec(sched)?.[1]);
      out.push({ tid: Number(t), policy: field('policy'), prio: field('prio'), nice: Number(statNumber(stat, 19)) });
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out;
}

interface Status {
  features: Record<string, { state: string; detail?: string }>;
  counters: Record<string, Record<string, number>>;
  instances: { name: string; state: string }[];
}

async function status(t: Twinvip): Promise<Status | undefined> {
  return (await t.status()) as unknown as Status | undefined;
}

async function waitMaster(t: Twinvip): Promise<Status> {
  return lab().waitFor(async () => {
    const s = await status(t);
    return s?.instances.find((i) => i.name === 'VI_1')?.state === 'MASTER' && s.counters.ha_thread?.tid ? s : undefined;
  }, { timeoutMs: 20_000, what: () => `VI_1 MASTER with the ha_thread counters\n${t.out()}` });
}

const INSTANCE = { VI_1: { vrid: 121, priority: 150, state: 'MASTER', advert_int: 1, vips: [`${VIP}/24`] } };

describeRequiring([...VrrpLab.prerequisites, needsProgram('setpriv', 'util-linux'), needsProgram('chrt', 'util-linux')], 'HA thread scheduling', () => {
  it('by default the HA thread alone runs SCHED_RR 10 at nice -10 under RLIMIT_RTTIME 200 ms; a reload to rt_priority 0 puts it back', async () => {
    const t = await lab().twinvip('a', INSTANCE);
    const s = await waitMaster(t);
    const pid = t.proc.child.pid!;
    const tid = s.counters.ha_thread!.tid!;
    expect(s.counters.ha_thread).toMatchObject({ realtime: 1, rt_priority: 10, nice: -10, refused: 0, rt_suspended: 0 });
    expect(s.features.ha_thread).toMatchObject({ state: 'running', detail: expect.stringMatching(/^SCHED_RR 10, RLIMIT_RTTIME 200 ms, nice -10 \(tid \d+\)$/) });
    expect(t.out()).toMatch(new RegExp(`HA thread \\(tid ${tid}\\) scheduling: SCHED_RR 10`));

    const all = await tasks(pid);
    const ha = all.find((x) => x.tid === tid);
    // The kernel's prio of an RR thread is 99 - its rt priority.
    expect(ha, JSON.stringify(all)).toMatchObject({ policy: 2, prio: 89, nice: -10 });
    // Nothing else is real-time, nor reniced: the main thread (tid = pid), libuv's pool, V8's helpers.
    const others = all.filter((x) => x.tid !== tid);
    expect(others.length).toBeGreaterThan(3);
    expect(others.filter((x) => x.policy !== 0 || x.nice !== 0), JSON.stringify(others)).toEqual([]);
    // The safety net, process-wide as the kernel keeps it: soft half, hard whole.
    expect(await readFile(`/proc/${pid}/limits`, 'utf8')).toMatch(/^Max realtime timeout\s+100000\s+200000\s+us/m);

    // A reload that turns real-time off applies to the running thread.
    const cfg = JSON.parse(await readFile(t.configFile, 'utf8')) as Record<string, unknown>;
    await writeFile(t.configFile, JSON.stringify({ ...cfg, scheduling: { rt_priority: 0, nice: -5 } }));
    t.proc.child.kill('SIGHUP');
    await lab().waitFor(async () => {
      const x = (await tasks(pid)).find((y) => y.tid === tid);
      return x?.policy === 0 && x.nice === -5;
    }, { timeoutMs: 15_000, what: () => `HA thread back to SCHED_OTHER nice -5\n${t.out()}` });
    expect((await status(t))?.features.ha_thread?.detail).toMatch(/^SCHED_OTHER, nice -5 \(tid \d+\)$/);
  });

  it('without CAP_SYS_NICE the daemon runs anyway, logs why at error and shows ha_thread degraded', async () => {
    const l = lab();
    const file = join(l.dir, 'nocap.json');
    const sock = join(l.dir, 'nocap.sock');
    await writeFile(file, JSON.stringify({
      node: { name: 'box-a', state_dir: join(l.dir, 'nocap') },
      control: { socket: sock },
      logging: { level: 'info', format: 'text' },
      instances: { VI_1: { ...INSTANCE.VI_1, interface: 'lan' } },
    }));
    // Root without CAP_SYS_NICE (and RLIMIT_RTPRIO 0, the default): as a unit without the capability.
    const p = l.box('a').ns.spawn('setpriv', ['--bounding-set=-sys_nice', NODE, BUNDLE, 'run', '-c', file]);
    const t = new Twinvip(l, p, sock, file);
    const s = await waitMaster(t);
    expect(s.counters.ha_thread).toMatchObject({ realtime: 0, refused: 2 });
    expect(s.features.ha_thread).toMatchObject({ state: 'degraded', detail: expect.stringMatching(/real-time refused: sched_setscheduler\(SCHED_RR\) EPERM.*nice -10 refused: setpriority EACCES/) });
    expect(t.out()).toMatch(/error.*HA thread \(tid \d+\): real-time scheduling SCHED_RR 10 not set: sched_setscheduler\(SCHED_RR\) EPERM \(Operation not permitted\); the thread runs at normal scheduling .* Needs CAP_SYS_NICE/);
    const x = (await tasks(p.child.pid!)).find((y) => y.tid === s.counters.ha_thread!.tid);
    expect(x).toMatchObject({ policy: 0, nice: 0 });
  });

  it('started real-time as the unit starts it (CPUSchedulingPolicy=rr, reset on fork): after the start only the HA thread keeps it, with the start boost or without it', async () => {
    const l = lab();
    for (const boost of ['1', '0']) {
      const file = join(l.dir, `chrt-${boost}.json`);
      const sock = join(l.dir, `chrt-${boost}.sock`);
      await writeFile(file, JSON.stringify({
        node: { name: 'box-a', state_dir: join(l.dir, `chrt-${boost}`) },
        control: { socket: sock },
        logging: { level: 'info', format: 'text' },
        instances: { VI_1: { ...INSTANCE.VI_1, interface: 'lan' } },
      }));
      const p = l.box('a').ns.spawn('env', [`TWINVIP_START_BOOST=${boost}`, 'chrt', '-R', '-r', '10', NODE, BUNDLE, 'run', '-c', file]);
      const t = new Twinvip(l, p, sock, file);
      try {
        const s = await waitMaster(t);
        const tid = s.counters.ha_thread!.tid!;
        const all = await tasks(p.child.pid!);
        expect(all.find((x) => x.tid === tid), `boost ${boost}: ${JSON.stringify(all)}`).toMatchObject({ policy: 2, prio: 89 });
        // The main thread (tid = pid) dropped the policy it was started with; nothing else has it.
        expect(all.filter((x) => x.tid !== tid && x.policy !== 0), `boost ${boost}: ${JSON.stringify(all)}`).toEqual([]);
        expect(all.find((x) => x.tid === p.child.pid)).toMatchObject({ policy: 0 });
      } finally {
        await p.kill();
      }
    }
  });

  it('a runaway HA thread is put back to normal scheduling at half of rlimit_rttime, reported, and the daemon lives on', async () => {
    const t = await lab().twinvip('a', INSTANCE, { scheduling: { rlimit_rttime: 40_000 } });
    const s = await waitMaster(t);
    const pid = t.proc.child.pid!;
    const tid = s.counters.ha_thread!.tid!;
    expect((await tasks(pid)).find((y) => y.tid === tid)).toMatchObject({ policy: 2 });
    const r = await requestOnce(t.socket, 'debug-ha-spin', { ms: 400 }, { timeoutMs: 10_000 });
    expect(r.ok && r.response.status, JSON.stringify(r)).toBe('ok');
    await t.waitLog(/HA thread \(tid \d+\) ran 20 ms on the CPU without sleeping \(half of scheduling.rlimit_rttime\): put back to normal scheduling/, 15_000);
    const after = await lab().waitFor(async () => {
      const x = await status(t);
      return x?.counters.ha_thread?.rt_suspended === 1 ? x : undefined;
    }, { timeoutMs: 10_000, what: () => `rt_suspended 1\n${t.out()}` });
    expect(after.features.ha_thread).toMatchObject({ state: 'degraded', detail: expect.stringMatching(/real-time suspended by RLIMIT_RTTIME until/) });
    expect(after.counters.ha_thread).toMatchObject({ realtime: 0 });
    // Normal scheduling, nice kept; the process was not killed (the hard limit is never reached).
    expect((await tasks(pid)).find((y) => y.tid === tid)).toMatchObject({ policy: 0, nice: -10 });
    expect(t.proc.running).toBe(true);
    expect(after.instances.find((i) => i.name === 'VI_1')?.state).toBe('MASTER');
  });
});
