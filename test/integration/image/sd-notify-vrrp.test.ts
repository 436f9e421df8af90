// sd_notify with a real VRRP instance, in a network namespace of its own: a stale VIP left on
// the interface (as after a SIGKILL) is gone by READY=1, READY's STATUS shows the instance in
// BACKUP, a STATUS= update follows the transition to MASTER, STOPPING=1 on SIGTERM. The notify
// receiver is a path socket in a temp dir (path sockets reach across network namespaces;
// abstract ones would not).
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BUNDLE, NODE, SpawnedProcess, buildBundle } from '../../helpers/bundle';
import { NetnsLab, type Netns } from '../helpers/netns';
import { describeRequiring } from '../../helpers/prerequisites';

const VIP = '10.67.0.100';

let lab: NetnsLab;
let a: Netns;
let dir: string;
const spawned: SpawnedProcess[] = [];

async function hasVip(): Promise<boolean> {
  const addrs = await a.ipJson<{ addr_info: { local: string }[] }[]>(['addr', 'show', 'dev', 'va']);
  return addrs.some((i) => i.addr_info.some((x) => x.local === VIP));
}

const msgIs = (re: RegExp) => (l: { json?: Record<string, unknown> }) => typeof l.json?.msg === 'string' && re.test(l.json.msg as string);

beforeAll(async () => {
  if (!NetnsLab.available()) return;
  buildBundle();
  lab = await NetnsLab.create();
  a = await lab.namespace('a');
  const b = await lab.namespace('b');
  await lab.veth(a, 'va', b, 'vb');
  await lab.addr(a, 'va', '10.67.0.1/24');
  dir = await lab.tmpdir();
});

afterAll(async () => {
  for (const p of spawned) await p.stop();
  await lab?.cleanup();
});

describeRequiring(NetnsLab.prerequisites, 'sd_notify with a VRRP instance', () => {
  it('stale VIP removed before READY=1; STATUS follows BACKUP -> MASTER; STOPPING=1 on SIGTERM', async () => {
    await a.run('ip', ['addr', 'add', `${VIP}/24`, 'dev', 'va']);
    expect(await hasVip()).toBe(true);

    const notify = join(dir, 'notify.sock');
    const rx = new SpawnedProcess(spawn('python3', [join(import.meta.dirname, 'notify-receiver.py'), notify], { stdio: ['ignore', 'pipe', 'pipe'] }));
    spawned.push(rx);
    await rx.waitForLine((l) => l.json?.listening === notify, { what: 'the receiver to listen' });

    const cfg = join(dir, 'twinvip.json');
    await writeFile(
      cfg,
      JSON.stringify({
        node: { name: 'box-v', state_dir: dir },
        control: { socket: join(dir, 'ctl.sock') },
        logging: { format: 'json' },
        // advert_int 3: Master_Down_Interval about 9.4 s, a wide window in which the box is
        // BACKUP after READY, so "no VIP at READY" cannot be confused with a later release.
        instances: { VI_1: { interface: 'va', vrid: 67, priority: 150, advert_int: 3, vips: [`${VIP}/24`] } },
      }),
    );
    // ip netns exec and env both exec: the daemon keeps the PID spawned here (NotifyAccess=main).
    const daemon = new SpawnedProcess(
      spawn('ip', ['netns', 'exec', a.name, 'env', `NOTIFY_SOCKET=${notify}`, 'WATCHDOG_USEC=2000000', NODE, BUNDLE, 'run', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    spawned.push(daemon);

    const ready = await rx.waitForLine(msgIs(/^READY=1\n/), { what: 'READY=1', timeoutMs: 20_000 });
    const staleGoneAtReady = !(await hasVip());
    expect(ready.json!.pid).toBe(daemon.pid);
    expect(ready.json!.msg).toMatch(/\nSTATUS=box-v: VI_1 BACKUP \(150\); config \S+$/);
    expect(staleGoneAtReady).toBe(true);
    // The daemon's stdout is another pipe: wait for the line rather than assume it came first.
    await daemon.waitForLine(msgIs(/removed stale VIP 10\.67\.0\.100\/24 from va/), { what: 'the stale VIP log line' });

    const master = await rx.waitForLine(msgIs(/^STATUS=box-v: VI_1 MASTER \(150\); config \S+$/), { what: 'STATUS after BACKUP -> MASTER', timeoutMs: 30_000 });
    expect(master.json!.pid).toBe(daemon.pid);
    await lab.waitFor(() => hasVip(), { timeoutMs: 5000, what: 'the VIP on the new MASTER' });
    // Watchdog pings ran meanwhile (every second with WATCHDOG_USEC = 2 s).
    expect(rx.lines.filter(msgIs(/^WATCHDOG=1$/)).length).toBeGreaterThanOrEqual(2);

    const from = rx.mark();
    daemon.signal('SIGTERM');
    await rx.waitForLine(msgIs(/^STOPPING=1\nSTATUS=stopping \(SIGTERM\)$/), { from, what: 'STOPPING=1' });
    expect((await daemon.exited).code).toBe(0);
    expect(await hasVip()).toBe(false);
  });
});
