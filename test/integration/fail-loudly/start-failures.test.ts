// Fail loudly (#18): a configured feature that cannot start ends the daemon with exit status 6
// (EXIT.FEATURE) and one line naming the feature, the call and the errno, on stderr and in the
// log; systemd never gets READY=1, and STATUS= carries the reason. Each failure is injected for
// real inside a namespace of our own: an interface that does not exist, a serial device path
// that is a directory, the raw socket refused by a capability drop (setpriv --bounding-set
// -net_raw), the multicast join refused (net.ipv4.igmp_max_memberships=0 in the namespace).
// The first test is the control: the same box with nothing injected sends READY=1.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BUNDLE, NODE, SpawnedProcess, buildBundle, type OutputLine } from '../../helpers/bundle';
import { NetnsLab, type Netns } from '../helpers/netns';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';

let lab: NetnsLab;
let box: Netns;
let dir: string;
let receiver: SpawnedProcess;
let notifySocket: string;
const spawned: SpawnedProcess[] = [];
let n = 0;

const msgIs = (re: RegExp) => (l: OutputLine) => typeof l.json?.msg === 'string' && re.test(l.json.msg as string);

beforeAll(async () => {
  if (!NetnsLab.available()) return;
  buildBundle();
  lab = await NetnsLab.create();
  box = await lab.namespace('box');
  const peer = await lab.namespace('peer');
  await lab.veth(box, 'lan0', peer, 'lan0p');
  await lab.addr(box, 'lan0', '10.68.0.1/24');
  dir = await lab.tmpdir();
  notifySocket = join(dir, 'notify.sock');
  receiver = new SpawnedProcess(spawn('python3', [join(import.meta.dirname, '..', 'image', 'notify-receiver.py'), notifySocket], { stdio: ['ignore', 'pipe', 'pipe'] }));
  spawned.push(receiver);
  await receiver.waitForLine((l) => l.json?.listening === notifySocket, { what: 'the notify receiver to listen' });
});

afterAll(async () => {
  for (const p of spawned) await p.stop();
  await lab?.cleanup();
});

/** Writes a config for the box (VI_1 on lan0, plus `extra`) and returns its path. */
async function config(extra: Record<string, unknown> = {}, instance: Record<string, unknown> = {}): Promise<string> {
  const i = ++n;
  const path = join(dir, `box-${i}.json`);
  await writeFile(
    path,
    JSON.stringify({
      node: { name: `box-${i}`, state_dir: join(dir, `state-${i}`) },
      control: { socket: join(dir, `ctl-${i}.sock`) },
      logging: { format: 'json' },
      instances: { VI_1: { interface: 'lan0', vrid: 68, priority: 100, advert_int: 1, vips: ['10.68.0.100/24'], ...instance } },
      ...extra,
    }),
  );
  return path;
}

/** Runs the daemon in the box's namespace with NOTIFY_SOCKET, `wrap` before node (setpriv ...). */
function run(cfg: string, wrap: string[] = []): SpawnedProcess {
  const p = new SpawnedProcess(
    spawn('ip', ['netns', 'exec', box.name, 'env', `NOTIFY_SOCKET=${notifySocket}`, ...wrap, NODE, BUNDLE, 'run', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  spawned.push(p);
  return p;
}

/** `twinvip selftest --json` (or `check --host --json`) in the box's namespace, `wrap` before node. */
async function selftestIn(cfg: string, wrap: string[] = [], cmd: string[] = ['selftest']): Promise<{ code: number | null; out: { ok: boolean; probes?: { what: string; ok: boolean; detail?: string; errno?: string }[]; selftest?: unknown[] }; text: string }> {
  const p = new SpawnedProcess(spawn('ip', ['netns', 'exec', box.name, ...wrap, NODE, BUNDLE, ...cmd, '--json', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] }));
  spawned.push(p);
  const exit = await p.exited;
  const text = p.lines.map((l) => l.text).join('\n');
  return { code: exit.code, out: JSON.parse(text), text: p.transcript() };
}

/** The daemon must exit 6 with exactly one stderr line matching `line`, log it with feature/call/errno, and never send READY=1. */
async function expectFatal(p: SpawnedProcess, from: number, line: RegExp, fields: { feature: string; call: RegExp; errno: string }): Promise<void> {
  const exit = await p.exited;
  expect(exit.code, p.transcript()).toBe(6);
  const stderr = p.stderr.trim().split('\n');
  expect(stderr, p.transcript()).toHaveLength(1);
  expect(stderr[0]).toMatch(new RegExp(`^twinvip: feature '${fields.feature}' cannot start: ${line.source}$`));
  const logged = p.lines.find(msgIs(/cannot start/));
  expect(logged?.json, p.transcript()).toMatchObject({ level: 'error', feature: fields.feature, errno: fields.errno, call: expect.stringMatching(fields.call) });
  expect(p.lines.some(msgIs(/^started: node/))).toBe(false);
  // sd_notify: STATUS= with the reason, and no READY=1 from this pid.
  const status = await receiver.waitForLine((l) => l.json?.pid === p.pid && /^STATUS=feature /.test(String(l.json?.msg)), { from, what: 'STATUS= with the reason' });
  expect(status.json!.msg).toBe(`STATUS=${stderr[0]!.slice('twinvip: '.length)}`);
  expect(receiver.lines.slice(from).some((l) => l.json?.pid === p.pid && /READY=1/.test(String(l.json?.msg)))).toBe(false);
}

describeRequiring([...NetnsLab.prerequisites, needsProgram('setpriv', 'util-linux'), needsProgram('python3')], 'a configured feature that cannot start is fatal', () => {
  it('control: with nothing injected the same box sends READY=1', async () => {
    const from = receiver.mark();
    const p = run(await config());
    const ready = await receiver.waitForLine((l) => /^READY=1\n/.test(String(l.json?.msg)), { from, what: 'READY=1' });
    expect(ready.json!.pid).toBe(p.pid);
    expect(ready.json!.msg).toMatch(/STATUS=box-\d+: VI_1 BACKUP \(100\)/);
    expect((await p.stop()).code).toBe(0);
  });

  it('an interface that does not exist: exit 6, "interface eth9: ... ENODEV"', async () => {
    const from = receiver.mark();
    const p = run(await config({}, { interface: 'eth9' }));
    await expectFatal(p, from, /interface eth9: RTM_GETLINK ENODEV \(no such interface in this namespace\)/, { feature: 'vrrp', call: /RTM_GETLINK/, errno: 'ENODEV' });
  });

  it('under systemd the exit waits a growing back-off (1 s, 2 s, ...) that READY=1 resets; SIGTERM ends the wait at once', async () => {
    const stateDir = join(dir, 'state-backoff');
    const bad = await config({ node: { name: 'box-bo', state_dir: stateDir } }, { interface: 'eth9' });
    for (const [n, ms] of [[1, 1000], [2, 2000]] as const) {
      const from = receiver.mark();
      const p = run(bad);
      await p.waitForLine(msgIs(new RegExp(`^restart back-off: start failure ${n} in a row, exiting in ${ms} ms$`)), { what: `back-off ${n}` });
      await receiver.waitForLine((l) => l.json?.pid === p.pid && new RegExp(`\\(start failure ${n} in a row; exiting in ${ms / 1000} s\\)$`).test(String(l.json?.msg)), { from, what: 'STATUS= with the back-off' });
      expect((await p.exited).code).toBe(6);
    }
    // The third wait (4 s) is cut short by a stop.
    const p = run(bad);
    await p.waitForLine(msgIs(/^restart back-off: start failure 3 in a row, exiting in 4000 ms$/), { what: 'back-off 3' });
    const signalled = Date.now();
    p.signal('SIGTERM');
    expect((await p.exited).code).toBe(6);
    // Sooner than the 4 s the wait had left: the stop cut it short.
    expect(Date.now() - signalled).toBeLessThan(4000);
    // Every feature running resets the count.
    const good = await config({ node: { name: 'box-bo', state_dir: stateDir } });
    const from = receiver.mark();
    const ok = run(good);
    await receiver.waitForLine((l) => l.json?.pid === ok.pid && /^READY=1\n/.test(String(l.json?.msg)), { from, what: 'READY=1' });
    await ok.stop();
    expect(existsSync(join(stateDir, 'start-failures'))).toBe(false);
  });

  it('a serial heartbeat device path that is a directory: exit 6, "open ... EISDIR"', async () => {
    const device = join(dir, 'not-a-tty');
    mkdirSync(device);
    const from = receiver.mark();
    const p = run(await config({ heartbeat: { serial: { device, node_id: 1, key: 'k'.repeat(32) } } }));
    const esc = device.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    await expectFatal(p, from, new RegExp(`serial heartbeat ${esc}: open ${esc} EISDIR \\(Is a directory\\)`), { feature: 'heartbeat', call: /^open /, errno: 'EISDIR' });
    // VRRP had started before the heartbeat: it was stopped, not left running.
    expect(p.lines.some((l) => l.json?.instance === 'VI_1' && /^\w+ -> INIT \(shutdown\)$/.test(String(l.json.msg))), p.transcript()).toBe(true);
  });

  it('the raw socket refused by a capability drop (setpriv --bounding-set -net_raw): exit 6, "socket EPERM"', async () => {
    const from = receiver.mark();
    const p = run(await config(), ['setpriv', '--bounding-set', '-net_raw']);
    await expectFatal(p, from, /lan0: VRRP socket \(IPv4\): socket EPERM \(Operation not permitted\)/, { feature: 'vrrp', call: /^socket$/, errno: 'EPERM' });
  });

  it('the multicast join refused (igmp_max_memberships 0): exit 6, "setsockopt IP_ADD_MEMBERSHIP ENOBUFS"', async () => {
    await box.run('sysctl', ['-q', '-w', 'net.ipv4.igmp_max_memberships=0']);
    try {
      const from = receiver.mark();
      const p = run(await config());
      await expectFatal(p, from, /lan0: VRRP socket \(IPv4\): setsockopt IP_ADD_MEMBERSHIP ENOBUFS \(No buffer space available\)/, {
        feature: 'vrrp',
        call: /^setsockopt IP_ADD_MEMBERSHIP$/,
        errno: 'ENOBUFS',
      });
    } finally {
      await box.run('sysctl', ['-q', '-w', 'net.ipv4.igmp_max_memberships=20']);
    }
  });

  it('selftest tries the same calls and names each FAIL with its errno; check --host includes it', async () => {
    const device = join(dir, 'also-not-a-tty');
    mkdirSync(device);
    const cfg = await config({ heartbeat: { serial: { device, node_id: 1, key: 'k'.repeat(32) } } });
    const fine = await selftestIn(await config());
    expect(fine.code, fine.text).toBe(0);
    expect(fine.out.probes!.map((p) => `${p.ok ? 'OK' : 'FAIL'} ${p.what}`)).toEqual([
      'OK netlink: rtnetlink socket for link events',
      'OK lan0: raw VRRP socket (IPv4, protocol 112) with its options',
      'OK lan0: multicast join 224.0.0.18',
      'OK lan0: AF_PACKET socket for gratuitous ARP / NA',
    ]);
    const bad = await selftestIn(cfg, ['setpriv', '--bounding-set', '-net_raw']);
    expect(bad.code, bad.text).toBe(1);
    const fails = bad.out.probes!.filter((p) => !p.ok).map((p) => `${p.what}: ${p.errno ?? p.detail}`);
    expect(fails).toEqual([
      'lan0: raw VRRP socket (IPv4, protocol 112) with its options: EPERM',
      'lan0: multicast join 224.0.0.18: not tried: no socket',
      'lan0: AF_PACKET socket for gratuitous ARP / NA: EPERM',
      `serial heartbeat ${device}: EISDIR`,
    ]);
    await box.run('sysctl', ['-q', '-w', 'net.ipv4.igmp_max_memberships=0']);
    try {
      const host = await selftestIn(await config(), [], ['check', '--host']);
      expect(host.code, host.text).toBe(1);
      expect(host.out.ok).toBe(false);
      expect(JSON.stringify(host.out)).toMatch(/selftest: lan0: multicast join 224\.0\.0\.18: FAIL setsockopt IP_ADD_MEMBERSHIP ENOBUFS/);
    } finally {
      await box.run('sysctl', ['-q', '-w', 'net.ipv4.igmp_max_memberships=20']);
    }
  });
});
