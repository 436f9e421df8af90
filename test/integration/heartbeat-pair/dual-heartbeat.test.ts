// Two twinvip daemons (the bundle) in namespaces, LAN through a bridge namespace, serial through a
// socat pty pair: the rows of DESIGN.md's decision table on real sockets, a real pty and real
// processes. Timing targets live in bench/; here every wait polls an observable state with a
// generous deadline, and each case asserts the cause of a transition, which is what tells the
// heartbeat path from plain VRRP timers.
import { expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { PairLab, pairLabHooks, type Box } from './pair-lab';
import { describeRequiring } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';

let p: PairLab;

/**
 * A box's state by its status. A control request that fails (3 s without an answer from a box the
 * loaded machine has not scheduled) is asked again: no answer is not a state.
 */
const stateOf = (box: Box) => p.waitFor(() => p.state(box), () => `status of ${box.id}\n${p.logs()}`);
const heartbeatOf = (box: Box) => p.waitFor(() => p.heartbeat(box), () => `heartbeat view of ${box.id}\n${p.logs()}`);

/** Polls both boxes for `ms` and returns every sample; fails as soon as both are MASTER. */
async function watchPair(ms: number): Promise<{ a: string; b: string; vipA: boolean; vipB: boolean }[]> {
  const samples: { a: string; b: string; vipA: boolean; vipB: boolean }[] = [];
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const [a, b, vipA, vipB] = await Promise.all([stateOf(p.a), stateOf(p.b), p.hasVip(p.a), p.hasVip(p.b)]);
    samples.push({ a, b, vipA, vipB });
    if ((a === 'MASTER' && b === 'MASTER') || (vipA && vipB)) {
      throw new Error(`dual master after ${samples.length} samples: ${JSON.stringify(samples.slice(-3))}\n--- a ---\n${p.a.log()}\n--- b ---\n${p.b.log()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return samples;
}

pairLabHooks(() => PairLab.startPair(), (lab) => (p = lab));

describeRequiring(NetnsLab.prerequisites, 'dual heartbeat: two twinvip daemons, serial pty pair and a bridged LAN', () => {
  it('(a) normal: one MASTER, both channels up on both boxes, the twin answers a status request over serial', async () => {
    await p.masterIs(p.a, p.b);
    const samples = await watchPair(3000);
    expect(samples.every((s) => s.a === 'MASTER' && s.b === 'BACKUP' && s.vipA && !s.vipB)).toBe(true);
    await p.waitFor(async () => {
      const hb = await p.heartbeat(p.b);
      return hb?.serial.ok && hb.ethernet[0]?.ok && hb.peer?.node_id === '1' && hb.peer.instances[0]?.state === 'MASTER';
    }, 'b hears a on both channels and sees it MASTER');
    const hbA = await heartbeatOf(p.a);
    expect(hbA.serial.ok).toBe(true);
    expect(hbA.peer?.node_id).toBe('2');
    expect(hbA.peer?.config_matches).toBe(false); // the two boxes' configs differ (priority, device)
    expect(hbA.peer?.instances[0]).toMatchObject({ state: 'BACKUP', priority: 100, hears_our_adverts: true });
    // The serial request/response path: b asks a for its status over the pty.
    const asked = (await p.heartbeat(p.b, { request: 'status' })) as unknown as { from: string; body: { node: string; instances: { state: string }[] } };
    expect(asked.from).toBe('peer');
    expect(asked.body.node).toBe('box-a');
    expect(asked.body.instances[0]?.state).toBe('MASTER');
  }, patience(90_000));

  it('(c) LAN path cut with both links UP, serial alive: the backup stays BACKUP for the whole cut; alarm ethernet-heartbeat-lost', async () => {
    await p.cutLan(p.a);
    try {
      // The box's own link stays up: this is a path fault, not a link fault (no FAULT state).
      const link = await p.a.ns.ipJson<{ flags: string[] }[]>(['link', 'show', 'dev', 'la']);
      expect(link[0]!.flags).toContain('LOWER_UP');
      // Plain VRRP would take over after 3 x 1 s + skew (3.6 s); watch well past that.
      const samples = await watchPair(8000);
      expect(samples.every((s) => s.b === 'BACKUP' && !s.vipB)).toBe(true);
      expect(samples.every((s) => s.a === 'MASTER' && s.vipA)).toBe(true);
      await p.waitFor(() => /alarm ethernet-heartbeat-lost/.test(p.b.log()), () => `b alarm ethernet-heartbeat-lost\n${p.b.log()}`);
      const hb = await heartbeatOf(p.b);
      expect(hb.ethernet[0]!.ok).toBe(false);
      expect(hb.serial.ok).toBe(true);
      expect(hb.alarms.map((x) => x.id)).toContain('ethernet-heartbeat-lost');
      // a learns over serial that b no longer hears its adverts.
      const hbA = await heartbeatOf(p.a);
      expect(hbA.peer?.instances[0]?.hears_our_adverts).toBe(false);
    } finally {
      await p.healLan(p.a);
    }
    await p.waitFor(() => /alarm cleared ethernet-heartbeat-lost/.test(p.b.log()), () => `b clears ethernet-heartbeat-lost\n${p.b.log()}`);
    expect(await stateOf(p.a)).toBe('MASTER');
    expect(await stateOf(p.b)).toBe('BACKUP');
  }, patience(90_000));

  it('(f) master loses its own LAN link, serial alive: it goes FAULT, releases over serial, and the backup takes over on the release', async () => {
    const before = p.b.log().length;
    await p.a.ns.run('ip', ['link', 'set', 'dev', 'la', 'down']);
    try {
      await p.waitFor(async () => (await p.state(p.b)) === 'MASTER', () => `b MASTER\n${p.b.log()}`);
      const after = p.b.log().slice(before);
      // Not plain VRRP's Master_Down: the release frame the FAULTed master sent over serial
      // (no skew: the twin is the only other router of the VRID).
      expect(after).toMatch(/VI_1: BACKUP -> MASTER \(twin released/);
      expect(p.a.log()).toMatch(/MASTER -> FAULT .*release sent to the twin over serial/);
      expect(await stateOf(p.a)).toBe('FAULT');
      await p.waitFor(() => p.hasVip(p.b), 'VIP on b');
      expect(await p.hasVip(p.a)).toBe(false);
    } finally {
      await p.a.ns.run('ip', ['link', 'set', 'dev', 'la', 'up']);
    }
    // Link back: a leaves FAULT and preempts (150 > 100) in one exchange over serial (its
    // request after the hold-down, b's release): a routine handover, no dual-master alarm.
    const aBefore = p.a.log().length;
    await p.masterIs(p.a, p.b);
    expect(p.a.log().slice(aBefore)).toMatch(/VI_1: BACKUP -> MASTER \(twin released/);
    expect(p.a.log().slice(aBefore)).not.toMatch(/alarm dual-master/);
  }, patience(120_000));

  it('(e) master stopped gracefully: the backup takes over on the release / priority 0 path, not on Master_Down', async () => {
    const before = p.b.log().length;
    await p.a.proc!.kill();
    expect(p.a.proc!.exitCode).toBe(0);
    await p.waitFor(async () => (await p.state(p.b)) === 'MASTER', () => `b MASTER\n${p.b.log()}`);
    const after = p.b.log().slice(before);
    expect(after).toMatch(/VI_1: BACKUP -> MASTER \((twin released|priority 0 from master)/);
    expect(after).not.toMatch(/BACKUP -> MASTER \(master down/);
    expect(await p.hasVip(p.b)).toBe(true);
    expect(await p.hasVip(p.a)).toBe(false);
    // a comes back and preempts (150 > 100).
    p.start(p.a);
    await p.masterIs(p.a, p.b);
  }, patience(120_000));

  it('(d) master killed hard (SIGKILL): the backup takes over because both channels went silent', async () => {
    const before = p.b.log().length;
    p.a.proc!.child.kill('SIGKILL');
    await p.a.proc!.exited;
    await p.waitFor(async () => (await p.state(p.b)) === 'MASTER', () => `b MASTER\n${p.b.log()}`);
    const after = p.b.log().slice(before);
    // The arbiter's row 5: the serial link silent, and nothing listening for the probe on the
    // twin (its kernel, up, refuses it: ICMP port unreachable).
    expect(after).toMatch(/VI_1: BACKUP -> MASTER \(twin dead, serial silent \d+ ms, the twin's kernel at [\d.]+ refused the probe/);
    // Before the serial dead time (2 s here): the probe decided, not the serial alarm.
    expect(after).toMatch(/probe of the twin \(serial link silent for \d+ ms\): the twin's kernel at [\d.]+ refused the probe/);
    await p.waitFor(() => p.hasVip(p.b), 'VIP on b');
    // a restarts: it removes the VIP it left behind (killed hard) and preempts back.
    p.start(p.a);
    await p.masterIs(p.a, p.b);
    expect(await p.hasVip(p.b)).toBe(false);
  }, patience(120_000));

  it('(b) serial cable cut (socat killed): alarm serial-heartbeat-lost on both, still exactly one MASTER', async () => {
    const beforeA = p.a.log().length;
    const beforeB = p.b.log().length;
    await p.serial!.kill();
    await p.waitFor(() => /alarm serial-heartbeat-lost/.test(p.a.log().slice(beforeA)) && /alarm serial-heartbeat-lost/.test(p.b.log().slice(beforeB)),
      () => `serial-heartbeat-lost on both\n--- a ---\n${p.a.log()}\n--- b ---\n${p.b.log()}`);
    const samples = await watchPair(6000);
    expect(samples.every((s) => s.a === 'MASTER' && s.b === 'BACKUP' && s.vipA && !s.vipB)).toBe(true);
    const hb = await heartbeatOf(p.b);
    expect(hb.serial.ok).toBe(false);
    expect(hb.ethernet[0]!.ok).toBe(true);
    expect(hb.alarms.map((x) => x.id)).toContain('serial-heartbeat-lost');
    // The link keeps trying to reopen the vanished port (counted), and the daemon lives on.
    const r = await heartbeatOf(p.a);
    expect(r.serial.port_open).toBe(false);
  }, patience(90_000));
});
