// A twinvip pair with the serial heartbeat and a THIRD router in the same VRRP group — a
// keepalived 2.2.7 box with the same VRID and VIP, as during a migration from keepalived:
// - declared (`mixed_group: true`): RFC 3768 / keepalived behaviour, and a release over serial
//   waits Skew_Time (a third backup may be better than the twin). keepalived (200) preempts
//   the twinvip master (150), and hands back with priority 0 when stopped; a crafted advert with
//   our address list and priority 254 moves the master, as it moves keepalived (issue 15, case 3
//   in mixed-group mode; the times side by side are in bench/README.md);
// - not declared (pair mode): the third router is not the twin. twinvip ignores it (vrid-conflict
//   names it) and both hold the VIP: why the switch exists; declaring it by a reload (SIGHUP)
//   ends the conflict by the RFC rules.
import { writeFile } from 'node:fs/promises';
import { patience } from '../../helpers/patience';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { NetnsLab, type LabProcess, type Netns } from '../helpers/netns';
import { RogueSender } from '../helpers/rogue-sender';
import { PairLab, VIP } from './pair-lab';

const VRID = 77;
let p: PairLab;
let k: Netns;

async function configure(mixed: boolean): Promise<void> {
  for (const box of [p.a, p.b]) {
    await p.writeConfig(box, {
      instances: { VI_1: { interface: box.ifname, vrid: VRID, priority: box.priority, advert_int: 1, vips: [`${VIP}/24`], mixed_group: mixed } },
    });
  }
}

async function startKeepalived(priority: number): Promise<LabProcess> {
  const conf = `${p.dir}/k-${priority}.conf`;
  await writeFile(
    conf,
    `global_defs {\n  router_id k\n}\nvrrp_instance VI_1 {\n  state BACKUP\n  interface lk\n  virtual_router_id ${VRID}\n  priority ${priority}\n  advert_int 1\n  virtual_ipaddress {\n    ${VIP}/24\n  }\n}\n`,
  );
  return k.spawn('keepalived', ['-n', '-l', '-D', '-P', '-R', '-f', conf, '-p', `${p.dir}/k.pid`, '-r', `${p.dir}/k-vrrp.pid`]);
}

async function kHolds(): Promise<boolean> {
  const j = await k.ipJson<{ addr_info: { local: string }[] }[]>(['addr', 'show', 'dev', 'lk']);
  return j.some((i) => i.addr_info.some((x) => x.local === VIP));
}

async function restartPair(mixed: boolean): Promise<void> {
  for (const box of [p.a, p.b]) await box.proc?.kill();
  await configure(mixed);
  p.start(p.a);
  p.start(p.b);
  await p.masterIs(p.a, p.b);
}

beforeAll(async () => {
  if (!NetnsLab.available()) return;
  p = await PairLab.create();
  await p.lab.addr(p.c, 'lc', '10.77.0.50/24');
  k = await p.lab.namespace('k');
  await p.lab.vethToBridge(k, 'lk', p.s, 'br0');
  await p.lab.addr(k, 'lk', '10.77.0.3/24');
  await p.startSerial();
}, patience(90_000));

afterAll(async () => {
  await p?.cleanup();
}, patience(60_000));

describeRequiring([...NetnsLab.prerequisites, needsProgram('socat'), needsProgram('keepalived')], 'a third router in the group: mixed_group', () => {
  it('mixed_group: keepalived (200) preempts the twinvip master and hands back with priority 0, by the RFC rules', async () => {
    await restartPair(true);
    const ka = await startKeepalived(200);
    try {
      await p.waitFor(() => /VI_1: MASTER -> BACKUP \(higher priority advert, from 10\.77\.0\.3 \(200\), ours 150\)/.test(p.a.log()), `a yields to keepalived${p.logs()}\n${ka.stdout}`, 30_000);
      await p.waitFor(async () => (await kHolds()) && !(await p.hasVip(p.a)) && !(await p.hasVip(p.b)), 'VIP on keepalived only');
      expect(await p.state(p.b)).toBe('BACKUP');
      expect(p.a.log() + p.b.log()).not.toMatch(/vrid-conflict/);
      await ka.kill(); // SIGTERM: priority 0
      await p.waitFor(() => /VI_1: BACKUP -> MASTER \(priority 0 from master, 10\.77\.0\.3\)/.test(p.a.log()), `a takes over on priority 0${p.logs()}`);
      await p.masterIs(p.a, p.b);
    } finally {
      await ka.kill();
    }
  }, patience(120_000));

  it('mixed_group: a master that goes FAULT releases over serial and the twin takes over after Skew_Time (RFC), not at once: the third router is a backup too', async () => {
    await restartPair(true);
    const ka = await startKeepalived(50);
    const before = p.b.log().length;
    try {
      await p.waitFor(() => /Entering BACKUP STATE/.test(ka.stdout + ka.stderr), 'keepalived BACKUP', 30_000);
      await p.a.ns.run('ip', ['link', 'set', 'dev', 'la', 'down']);
      await p.waitFor(async () => (await p.state(p.b)) === 'MASTER', () => `b MASTER${p.logs()}`);
      const after = p.b.log().slice(before);
      expect(after).toMatch(/VI_1: BACKUP -> MASTER \(peer released, over the serial channel\)/);
      expect(after).not.toMatch(/twin released/);
      await p.waitFor(async () => (await p.hasVip(p.b)) && !(await kHolds()), 'VIP on b, not on keepalived');
    } finally {
      await p.a.ns.run('ip', ['link', 'set', 'dev', 'la', 'up']);
      await ka.kill();
    }
    await p.masterIs(p.a, p.b);
  }, patience(120_000));

  it('mixed_group: a crafted advert with our address list and priority 254 moves the master, as it moves keepalived', async () => {
    const rogue = RogueSender.open(p.c, 'lc', '10.77.0.50');
    try {
      await p.masterIs(p.a, p.b);
      expect(rogue.send({ vrid: VRID, priority: 254, addresses: [VIP] })).toBe(true);
      await p.waitFor(() => /VI_1: MASTER -> BACKUP \(higher priority advert, from 10\.77\.0\.50 \(254\), ours 150\)/.test(p.a.log()), `a yields to the stray advert${p.logs()}`);
      // Then nobody advertises: the Master_Down_Interval decides (a: 3 s + skew 414 ms).
      await p.waitFor(() => /VI_1: BACKUP -> MASTER \(master down/.test(p.a.log().split('higher priority advert, from 10.77.0.50')[1] ?? ''), `a back${p.logs()}`, 20_000);
      await p.masterIs(p.a, p.b);
    } finally {
      rogue.close();
    }
  }, patience(60_000));

  it('without mixed_group (pair mode) the third router is not the twin: ignored, vrid-conflict names it, and it holds the VIP too; mixed_group set by a reload makes the master yield to it', async () => {
    await restartPair(false);
    const since = p.a.log().length;
    await p.waitFor(async () => ((await p.heartbeat(p.a)) as unknown as { pair?: { instances: { twin_only: boolean }[] } } | null)?.pair?.instances[0]?.twin_only === true, 'pair mode on a');
    const ka = await startKeepalived(200);
    try {
      await p.waitFor(() => /VI_1: alarm vrid-conflict: .* from 10\.77\.0\.3 \(priority 200, addresses \[10\.77\.0\.100\]\)/.test(p.a.log()), `vrid-conflict on a${p.logs()}`, 30_000);
      await p.waitFor(() => /Entering MASTER STATE/.test(ka.stdout + ka.stderr), 'keepalived MASTER (it preempts a lower-priority master it hears)', 30_000);
      await p.waitFor(kHolds, 'keepalived holds the VIP');
      expect(await p.state(p.a)).toBe('MASTER');
      expect(await p.hasVip(p.a)).toBe(true);
      expect(p.a.log().slice(since)).not.toMatch(/VI_1: MASTER -> /);

      // Declaring the group mixed by a reload (SIGHUP, no restart) ends the conflict the RFC way:
      // the twinvip master now hears keepalived (200) and yields to it.
      await configure(true);
      for (const box of [p.a, p.b]) box.proc!.child.kill('SIGHUP');
      await p.waitFor(() => /VI_1: MASTER -> BACKUP \(higher priority advert, from 10\.77\.0\.3 \(200\), ours 150\)/.test(p.a.log().slice(since)), `a yields after the reload${p.logs()}`, 30_000);
      await p.waitFor(async () => !(await p.hasVip(p.a)) && !(await p.hasVip(p.b)) && (await kHolds()), 'VIP on keepalived only');
      const hb = (await p.heartbeat(p.a)) as unknown as { pair: { instances: { mixed_group: boolean; twin_only: boolean }[] } };
      expect(hb.pair.instances[0]).toMatchObject({ mixed_group: true, twin_only: false });
    } finally {
      await ka.kill();
    }
  }, patience(120_000));
});
