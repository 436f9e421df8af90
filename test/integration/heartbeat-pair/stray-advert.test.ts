// Issue 15 on two real daemons (the bundle) with the serial heartbeat alive — pair mode — and a
// third host on the LAN sending crafted VRRPv2 adverts for the pair's VRID (correct checksum,
// TTL 255, from 10.77.0.50):
//   (1) one advert, priority 254, an address list that is not ours;
//   (2) the same once a second for 30 s;
//   (3) once a second for 30 s with OUR address list and priority 254 (the case that also moves
//       keepalived), in the same 30 s as (2);
//   flood: 20,000 such adverts as fast as they go: every one is counted (read = accepted +
//       dropped on each box; on the master read + kernel drops = what was sent);
//   (4) a neighbouring keepalived 2.2.7 pair configured on our VRID with other VIPs.
// In every case the VIP never leaves the master: the time without a VIP holder, from
// `ip monitor address` events in both boxes, is 0 ms; no transition; vrid-conflict is raised
// with the source; the adverts are counted under drop.not-twin. In (4) the keepalived pair keeps
// its VIP on its master too (its backup flaps briefly: keepalived's behaviour, see the test).
import { requestOnce } from '../../../src/control';
import { patience } from '../../helpers/patience';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { NetnsLab, type LabProcess, type Netns } from '../helpers/netns';
import { RogueSender, type RogueAdvert } from '../helpers/rogue-sender';
import { type Box, PairLab, VIP } from './pair-lab';
import { AddrMonitor, presence } from './vip-watch';

const VRID = 77;
const ROGUE = '10.77.0.50';
const FOREIGN: RogueAdvert = { vrid: VRID, priority: 254, addresses: ['10.88.0.200'] };
const OURS: RogueAdvert = { vrid: VRID, priority: 254, addresses: [VIP] };
const MINUTE_HALF = 30_000;

let p: PairLab;
let rogue: RogueSender;
let monA: AddrMonitor;
let monB: AddrMonitor;

async function vrrpCounters(box: Box): Promise<Record<string, number>> {
  const r = await requestOnce(box.socket, 'status', undefined, { timeoutMs: 5000 });
  if (!r.ok || r.response.status !== 'ok') throw new Error(`status of ${box.id} failed`);
  return (r.response.data as { counters: Record<string, Record<string, number>> }).counters.vrrp ?? {};
}

/** Watching time: the assertion is about what does NOT happen in this window. */
const observe = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ms in [from, to] during which neither box held the VIP, from the address events. */
function noHolderMs(from: number, to: number): number {
  const held = [...presence(true, monA.eventsFor(VIP), from, to), ...presence(false, monB.eventsFor(VIP), from, to)].sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let end = from;
  for (const [a, b] of held) {
    const s = Math.max(a, end);
    if (b > s) covered += b - s;
    end = Math.max(end, b);
  }
  return to - from - covered;
}

/** The VIP stayed on a: no address event for it in either box, a MASTER and b BACKUP, no transition. */
async function vipNeverMoved(from: number, becameMaster: { a: number; b: number }): Promise<void> {
  const to = Date.now();
  expect(monA.eventsFor(VIP), `VIP events on a${p.logs()}`).toEqual([]);
  expect(monB.eventsFor(VIP), `VIP events on b${p.logs()}`).toEqual([]);
  expect(noHolderMs(from, to)).toBe(0);
  expect(await p.state(p.a)).toBe('MASTER');
  expect(await p.state(p.b)).toBe('BACKUP');
  expect((await vrrpCounters(p.a))['VI_1.becameMaster']).toBe(becameMaster.a);
  expect((await vrrpCounters(p.b))['VI_1.becameMaster']).toBe(becameMaster.b);
  expect(p.a.log()).not.toMatch(/VI_1: MASTER -> /);
}

async function mastership(): Promise<{ a: number; b: number }> {
  return { a: (await vrrpCounters(p.a))['VI_1.becameMaster'] ?? 0, b: (await vrrpCounters(p.b))['VI_1.becameMaster'] ?? 0 };
}

const notTwin = async (box: Box) => (await vrrpCounters(box))['VI_1.drop.not-twin'] ?? 0;

beforeAll(async () => {
  if (!NetnsLab.available()) return;
  p = await PairLab.startPair({ before: (q) => q.lab.addr(q.c, 'lc', `${ROGUE}/24`) });
  await p.masterIs(p.a, p.b);
  // Pair mode is on once each box has the other's addresses from a heartbeat.
  for (const box of [p.a, p.b]) {
    await p.waitFor(async () => {
      const hb = (await p.heartbeat(box)) as unknown as { pair?: { instances: { twin_only: boolean }[] } } | null;
      return hb?.pair?.instances[0]?.twin_only === true;
    }, `pair mode on ${box.id}${p.logs()}`);
  }
  monA = await AddrMonitor.start(p, p.a.ns);
  monB = await AddrMonitor.start(p, p.b.ns);
  rogue = RogueSender.open(p.c, 'lc', ROGUE);
}, patience(90_000));

afterAll(async () => {
  rogue?.close();
  await p?.cleanup();
}, patience(60_000));

describeRequiring([...NetnsLab.prerequisites, needsProgram('socat'), needsProgram('keepalived')], 'pair mode: a stray advert never takes the VIP down', () => {
  it('(1) one advert, priority 254, another address list: ignored by both boxes, counted, vrid-conflict raised with the source', async () => {
    const from = Date.now();
    const before = await mastership();
    expect(rogue.send(FOREIGN)).toBe(true);
    for (const box of [p.a, p.b]) {
      await p.waitFor(async () => (await notTwin(box)) === 1, `drop.not-twin = 1 on ${box.id}`);
      await p.waitFor(
        () => /VI_1: alarm vrid-conflict: VRID 77\/IPv4: advert for VRID 77 from 10\.77\.0\.50 \(priority 254, addresses \[10\.88\.0\.200\]\), which is not the twin/.test(box.log()),
        `vrid-conflict on ${box.id}${p.logs()}`,
      );
    }
    // Plain VRRP would have moved the VIP by now, or within Master_Down_Interval (3.6 s).
    await observe(4000);
    await vipNeverMoved(from, before);
    const hb = (await p.heartbeat(p.b)) as unknown as { pair: { instances: { conflicts: { source: string; priority: number; addresses: string[]; count: number; first_seen_ms_ago: number }[] }[] } };
    expect(hb.pair.instances[0]!.conflicts).toEqual([
      expect.objectContaining({ source: ROGUE, priority: 254, addresses: ['10.88.0.200'], count: 1 }),
    ]);
  });

  // (2) and (3) share one 30 s window: the rogue sends both streams, each once a second, so the
  // window the issue names is watched once (30 s less per run). Each box must count every advert
  // of both streams as not the twin's: had either stream reached the state machine instead (our
  // own list looks like a legitimate master's), the count would stay at the other's half.
  it('(2) the foreign list and (3) our own address list, each with priority 254 once a second for 30 s: the VIP never leaves the master, 0 ms without a holder', async () => {
    const from = Date.now();
    const before = await mastership();
    const n0 = { a: await notTwin(p.a), b: await notTwin(p.b) };
    const sent = { foreign: 0, ours: 0 };
    const tick = () => {
      if (rogue.send(FOREIGN)) sent.foreign++;
      if (rogue.send(OURS)) sent.ours++;
    };
    tick();
    const timer = setInterval(tick, 1000);
    try {
      await observe(MINUTE_HALF);
    } finally {
      clearInterval(timer);
    }
    expect(Math.min(sent.foreign, sent.ours), 'adverts of each stream sent in the 30 s').toBeGreaterThanOrEqual(25);
    // Every advert of both streams dropped as not the twin's, on both boxes.
    const total = sent.foreign + sent.ours;
    await p.waitFor(async () => (await notTwin(p.a)) - n0.a >= total && (await notTwin(p.b)) - n0.b >= total, () => `the ${total} adverts of both streams counted`);
    await vipNeverMoved(from, before);
    // The state machine never saw them: the backup's master is still the twin.
    const r = await requestOnce(p.b.socket, 'status', undefined, { timeoutMs: 5000 });
    const data = r.ok && r.response.status === 'ok' ? (r.response.data as { instances: { master: { address: string } | null }[] }) : null;
    expect(data?.instances[0]?.master?.address).toBe('10.77.0.1');
  }, patience(90_000));

  it('flood of 20,000 hostile adverts: every one counted once; on the master read + kernel drops = sent; no transition', async () => {
    const from = Date.now();
    const before = await mastership();
    const c0 = { a: await vrrpCounters(p.a), b: await vrrpCounters(p.b) };
    const n = 20_000;
    expect(await rogue.flood(n, FOREIGN)).toBe(n);
    const got = (c: Record<string, number>, c0x: Record<string, number>, k: string) => (c[k] ?? 0) - (c0x[k] ?? 0);
    // The master hears nothing else (the backup is silent, its own adverts do not loop back).
    await p.waitFor(async () => {
      const c = await vrrpCounters(p.a);
      return got(c, c0.a, 'la.read') + got(c, c0.a, 'la.kernel_drops') >= n;
    }, 'the master read or lost every advert', 60_000);
    const a = await vrrpCounters(p.a);
    const b = await vrrpCounters(p.b);
    for (const [c, ifname] of [[a, 'la'], [b, 'lb']] as const) {
      expect(c[`${ifname}.read`], `${ifname}: read = accepted + dropped`).toBe((c[`${ifname}.accepted`] ?? 0) + (c[`${ifname}.dropped`] ?? 0));
    }
    expect(got(a, c0.a, 'la.read') + got(a, c0.a, 'la.kernel_drops')).toBe(n);
    expect(got(a, c0.a, 'VI_1.drop.not-twin') + got(a, c0.a, 'la.kernel_drops')).toBe(n);
    // The backup also reads the master's adverts: what it read or lost beyond the flood are those.
    await p.waitFor(async () => {
      const c = await vrrpCounters(p.b);
      return got(c, c0.b, 'VI_1.drop.not-twin') + got(c, c0.b, 'lb.kernel_drops') >= n;
    }, 'the backup read or lost every advert', 60_000);
    const b2 = await vrrpCounters(p.b);
    const extra = got(b2, c0.b, 'lb.read') + got(b2, c0.b, 'lb.kernel_drops') - n - got(b2, c0.b, 'VI_1.accepted');
    const masterAdverts = got(await vrrpCounters(p.a), c0.a, 'VI_1.advertsSent');
    expect(extra).toBeGreaterThanOrEqual(0);
    expect(extra).toBeLessThanOrEqual(masterAdverts);
    console.log(
      `flood of ${n}: master read ${got(a, c0.a, 'la.read')}, kernel drops ${got(a, c0.a, 'la.kernel_drops')}; backup read ${got(b2, c0.b, 'lb.read')}, kernel drops ${got(b2, c0.b, 'lb.kernel_drops')}, ${Date.now() - from} ms`,
    );
    await vipNeverMoved(from, before);
  }, patience(120_000));

  it('(4) a neighbouring keepalived pair on our VRID with other VIPs: both groups keep serving their own VIPs', async () => {
    const from = Date.now();
    const before = await mastership();
    const ka: { ns: Netns; proc: LabProcess }[] = [];
    for (const [role, addr, prio] of [['k1', '10.77.0.31', 200], ['k2', '10.77.0.32', 100]] as const) {
      const ns = await p.lab.namespace(role);
      await p.lab.vethToBridge(ns, `l${role}`, p.s, 'br0');
      await p.lab.addr(ns, `l${role}`, `${addr}/24`);
      const conf = `${p.dir}/${role}.conf`;
      await import('node:fs/promises').then((fs) =>
        fs.writeFile(conf, `global_defs {\n  router_id ${role}\n}\nvrrp_instance OTHER {\n  state BACKUP\n  interface l${role}\n  virtual_router_id ${VRID}\n  priority ${prio}\n  advert_int 1\n  virtual_ipaddress {\n    10.77.0.200/24\n  }\n}\n`),
      );
      ka.push({ ns, proc: ns.spawn('keepalived', ['-n', '-l', '-D', '-P', '-R', '-f', conf, '-p', `${p.dir}/${role}.pid`, '-r', `${p.dir}/${role}-vrrp.pid`]) });
    }
    const holds = async (ns: Netns, ifname: string, addr: string) =>
      (await ns.ipJson<{ addr_info: { local: string }[] }[]>(['addr', 'show', 'dev', ifname])).some((i) => i.addr_info.some((x) => x.local === addr));
    try {
      await p.waitFor(() => /Entering MASTER STATE/.test(ka[0]!.proc.stdout + ka[0]!.proc.stderr), `k1 MASTER\n${ka[0]!.proc.stdout}`, 20_000);
      await p.waitFor(() => holds(ka[0]!.ns, 'lk1', '10.77.0.200'), 'k1 holds 10.77.0.200');
      for (const box of [p.a, p.b]) {
        await p.waitFor(() => /VI_1: alarm vrid-conflict: .* from 10\.77\.0\.31 \(priority 200, addresses \[10\.77\.0\.200\]\)/.test(box.log()), `vrid-conflict naming k1 on ${box.id}`);
      }
      await observe(10_000);
      // Our group: nothing moved. Theirs: k1 never left MASTER and kept its VIP.
      await vipNeverMoved(from, before);
      expect(await holds(ka[0]!.ns, 'lk1', '10.77.0.200')).toBe(true);
      const k1 = ka[0]!.proc.stdout + ka[0]!.proc.stderr;
      const k2 = ka[1]!.proc.stdout + ka[1]!.proc.stderr;
      expect(k1.match(/Entering MASTER STATE/g), k1).toHaveLength(1);
      expect(k1).not.toMatch(/Entering BACKUP STATE(?! \(init\))/);
      // keepalived's own rule keeps it from following twinvip's adverts...
      expect(k1 + k2).toMatch(/ip address associated with VRID 77 not present in MASTER advert: 10\.77\.0\.200/);
      // ...but keepalived 2.2.7 restarts its master's advert timer on every packet it reads for
      // the instance, dropped ones included (vrrp_scheduler.c vrrp_dispatcher_read ->
      // vrrp_init_instance_sands): twinvip's adverts, one a second, starve k1's, so k2 times out
      // now and then and is sent back at once. Recorded, not ours to fix: each time k2 yields
      // to k1 in the same second.
      const k2Master = k2.match(/Entering MASTER STATE/g)?.length ?? 0;
      expect(k2.match(/Master received advert from 10\.77\.0\.31 with higher priority 200, ours 100/g)?.length ?? 0).toBe(k2Master);
    } finally {
      for (const k of ka) await k.proc.kill();
    }
  }, patience(120_000));
});
