// Every row of DESIGN.md's decision table, the MASTER mirror, the gateway rule, the fence hook
// and split-brain detection, each on a fake clock. Defaults: serial period 100 ms x 5 dead
// periods = 500 ms; Ethernet: advert interval 1 s + 200 ms margin = 1200 ms.
import { describe, expect, it } from 'vitest';
import { HeartbeatArbiter, type ArbiterOutput } from '../../../src/heartbeat/arbiter';
import type { HeartbeatFrame, InstanceReport } from '../../../src/heartbeat/frame';
import { Harness } from './arbiter-harness';

describe('decision table, seen from the BACKUP', () => {
  it('E ok, S ok: plain VRRP — no release, no takeover, no alarm; serial claims equal the adverts', () => {
    const h = new Harness();
    h.local('BACKUP');
    h.run(0, 10_000, { e: true, s: true });
    expect(h.vrrp('peer-release')).toEqual([]);
    expect(h.vrrp('peer-dead')).toEqual([]);
    expect(h.of('send-release')).toEqual([]);
    expect(h.alarms()).toEqual([]);
    const claims = h.vrrp('peer-claim');
    expect(claims.length).toBe(101);
    for (const c of claims) {
      expect(c.out).toEqual({ type: 'vrrp', vrid: 51, family: 4, event: { type: 'peer-claim', priority: 150, address: '192.168.10.2', advertIntervalCs: 100 } });
    }
  });

  it('E ok, S lost: plain VRRP, alarm serial-heartbeat-lost once, restored with its duration', () => {
    const h = new Harness();
    h.local('BACKUP');
    h.run(0, 2000, { e: true, s: true });
    h.run(2100, 8000, { e: true, s: false });
    expect(h.alarms()).toEqual([
      { at: 2500, name: 'serial-heartbeat-lost', detail: 'no heartbeat accepted for 500 ms' },
    ]);
    expect(h.vrrp('peer-dead')).toEqual([]);
    expect(h.vrrp('peer-release')).toEqual([]);
    h.run(8100, 8100, { e: true, s: true });
    expect(h.alarms('serial-heartbeat-restored')).toEqual([
      { at: 8100, name: 'serial-heartbeat-restored', detail: 'heartbeat from gw-a accepted again', durationMs: 6100 },
    ]);
  });

  it('E lost, S ok, peer MASTER and healthy: stays BACKUP — a claim every serial period, no takeover, alarm ethernet-heartbeat-lost', () => {
    const h = new Harness();
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    h.run(1100, 20_000, { e: false, s: true });
    expect(h.vrrp('peer-dead')).toEqual([]);
    expect(h.vrrp('peer-release')).toEqual([]);
    // Master_Down_Interval (3 x 1 s + skew) can never expire: the claims never pause.
    const times = h.vrrp('peer-claim').map((c) => c.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.max(...gaps)).toBe(100);
    expect(times.at(-1)).toBe(20_000);
    expect(h.alarms()).toEqual([
      { at: 2200, name: 'ethernet-heartbeat-lost', vrid: 51, family: 4, detail: 'VRID 51/IPv4: peer gw-a claims MASTER over serial but no advert heard' },
    ]);
    h.advert();
    expect(h.alarms('ethernet-heartbeat-restored')).toMatchObject([{ at: 20_000, durationMs: 19_000 }]);
  });

  for (const [label, report] of [
    ['FAULT', { state: 'FAULT' as const }],
    ['releasing', { state: 'MASTER' as const, releasing: true }],
    ['priority 0', { state: 'BACKUP' as const, effectivePriority: 0 }],
  ] as const) {
    it(`E lost, S ok, peer ${label}: takes over at once (one peer-release, no Master_Down wait)`, () => {
      const h = new Harness();
      h.local('BACKUP');
      h.run(0, 1000, { e: true, s: true });
      h.run(1100, 1500, { e: false, s: true });
      expect(h.vrrp('peer-release')).toEqual([]);
      h.run(1600, 3000, { e: false, s: true, report });
      // E is declared lost at 1000 + 1200 = 2200; the first heartbeat after that releases.
      expect(h.vrrp('peer-release').map((r) => r.at)).toEqual([2200]);
      expect(h.vrrp('peer-dead')).toEqual([]);
      // After the VRRP machine took over, nothing more.
      h.local('MASTER');
      h.run(3100, 5000, { e: false, s: true, report });
      expect(h.vrrp('peer-release').length).toBe(1);
    });
  }

  it('E ok, S ok, peer FAULT: no serial takeover while adverts still arrive (plain VRRP)', () => {
    const h = new Harness();
    h.local('BACKUP');
    h.run(0, 5000, { e: true, s: true, report: { state: 'FAULT' } });
    expect(h.vrrp('peer-release')).toEqual([]);
  });

  it('a release frame from the peer takes over at once', () => {
    const h = new Harness();
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    h.now = 1050;
    const out = h.feed({ type: 'serial-frame', frame: { kind: 'release', nodeId: 'gw-a', bootId: 'aaaaaaaaaaaaaaaa', seq: 999, vrid: 51, family: 4 } });
    // The twin is known and alone on the VRID: no skew.
    expect(out).toContainEqual({ type: 'vrrp', vrid: 51, family: 4, event: { type: 'peer-release', immediate: true } });
  });

  it('E lost, S lost: peer-dead only once S is silent 5 periods AND no advert for interval + margin', () => {
    // Serial dies first (at 1000 + 500), Ethernet later (last advert 1000 -> 2200).
    const h = new Harness();
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    h.advanceTo(10_000);
    expect(h.vrrp('peer-dead').map((d) => d.at)).toEqual([2200]);
    expect(h.alarms().map((a) => [a.at, a.name])).toEqual([[1500, 'serial-heartbeat-lost'], [2200, 'ethernet-heartbeat-lost']]);
  });

  it('E lost, S lost: when Ethernet dies first, peer-dead waits for the serial dead time', () => {
    const h = new Harness();
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    h.run(1100, 3000, { e: false, s: true });
    expect(h.vrrp('peer-dead')).toEqual([]);
    h.advanceTo(10_000);
    expect(h.vrrp('peer-dead').map((d) => d.at)).toEqual([3500]);
    // Far sooner than keepalived's 3 x interval + skew after the last advert (4000+ ms).
  });

  it('E lost, S lost while this node is MASTER: nothing to take over', () => {
    const h = new Harness();
    h.local('MASTER', 150);
    h.run(0, 1000, { e: false, s: true, report: { state: 'BACKUP', effectivePriority: 100 } });
    h.advanceTo(10_000);
    expect(h.vrrp('peer-dead')).toEqual([]);
    expect(h.alarms('ethernet-heartbeat-lost')).toEqual([]);
    expect(h.alarms('serial-heartbeat-lost').length).toBe(1);
  });
});

describe('the MASTER mirror', () => {
  it('a higher-priority MASTER claim over serial reaches a MASTER that hears no adverts at all', () => {
    const h = new Harness();
    h.local('MASTER', 100);
    h.run(0, 3000, { e: false, s: true, report: { state: 'MASTER', effectivePriority: 200, address: '192.168.10.3' } });
    const claims = h.vrrp('peer-claim');
    expect(claims.length).toBe(31);
    expect(claims[0]!.out).toEqual({ type: 'vrrp', vrid: 51, family: 4, event: { type: 'peer-claim', priority: 200, address: '192.168.10.3', advertIntervalCs: 100 } });
    expect(h.vrrp('peer-dead')).toEqual([]);
  });

  it('a peer reporting BACKUP, or a MASTER that is releasing, never produces a claim', () => {
    const h = new Harness();
    h.local('MASTER', 100);
    h.run(0, 2000, { e: false, s: true, report: { state: 'BACKUP', effectivePriority: 200 } });
    h.run(2100, 3000, { e: false, s: true, report: { state: 'MASTER', releasing: true } });
    expect(h.vrrp('peer-claim')).toEqual([]);
  });
});

describe('gateway rule (E lost, S ok): the holder releases', () => {
  const peerBackupBlind = { state: 'BACKUP' as const, effectivePriority: 100, hearsPeerAdverts: false };

  it('MASTER without gateway, peer BACKUP with gateway and no adverts from us: one send-release', () => {
    const h = new Harness();
    h.local('MASTER', 150);
    h.feed({ type: 'local-health', health: { uplink: true, gateway: false, nginx: true } });
    h.run(0, 3000, { e: false, s: true, report: peerBackupBlind });
    expect(h.of('send-release').map((r) => [r.at, r.out.vrid, r.out.family])).toEqual([[0, 51, 4]]);
  });

  for (const [label, health, report] of [
    ['our gateway is fine', { uplink: true, gateway: true, nginx: true }, peerBackupBlind],
    ['the peer still hears our adverts', { uplink: true, gateway: false, nginx: true }, { ...peerBackupBlind, hearsPeerAdverts: true }],
    ['the peer is in FAULT', { uplink: true, gateway: false, nginx: true }, { ...peerBackupBlind, state: 'FAULT' as const }],
  ] as const) {
    it(`no send-release when ${label}`, () => {
      const h = new Harness();
      h.local('MASTER', 150);
      h.feed({ type: 'local-health', health });
      h.run(0, 3000, { e: false, s: true, report });
      expect(h.of('send-release')).toEqual([]);
    });
  }

  it('no send-release when the peer lacks the gateway too', () => {
    const h = new Harness();
    h.local('MASTER', 150);
    h.feed({ type: 'local-health', health: { uplink: true, gateway: false, nginx: true } });
    for (let t = 0; t <= 2000; t += 100) {
      h.advanceTo(t);
      h.heartbeat(peerBackupBlind, { uplink: true, gateway: false, nginx: true });
    }
    expect(h.of('send-release')).toEqual([]);
  });

  it('two arbiters, Ethernet cut: only the holder acts, the backup takes over on the release frame', () => {
    // A: MASTER, lost its gateway. B: BACKUP, gateway fine, hears no adverts from A.
    const a = new HeartbeatArbiter({ instances: [{ vrid: 51, family: 4, advertIntervalCs: 100 }] }, 0);
    const b = new HeartbeatArbiter({ instances: [{ vrid: 51, family: 4, advertIntervalCs: 100 }] }, 0);
    a.handle({ type: 'local-state', vrid: 51, family: 4, state: 'MASTER', priority: 150 }, 0);
    b.handle({ type: 'local-state', vrid: 51, family: 4, state: 'BACKUP', priority: 100 }, 0);
    a.handle({ type: 'local-health', health: { uplink: true, gateway: false, nginx: true } }, 0);
    b.handle({ type: 'local-health', health: { uplink: true, gateway: true, nginx: true } }, 0);
    const outA: ArbiterOutput[] = [];
    const outB: ArbiterOutput[] = [];
    let seq = 0;
    const frame = (node: string, report: Pick<InstanceReport, 'state'> & Partial<InstanceReport>, gateway: boolean): HeartbeatFrame => ({
      kind: 'heartbeat' as const, nodeId: node, bootId: '0123456789abcdef', seq: ++seq, uptimeMs: 1, configHash: '',
      health: { uplink: true, gateway, nginx: true },
      instances: [{ vrid: 51, family: 4 as const, effectivePriority: 100, advertIntervalCs: 100, address: '10.0.0.1', ...report }],
    });
    for (let t = 1300; t <= 2000; t += 100) {
      // Each sends what its arbiter knows: B does not hear A's adverts after the cut.
      outB.push(...b.handle({ type: 'serial-frame', frame: frame('a', { state: 'MASTER', effectivePriority: 150 }, false) }, t));
      outA.push(...a.handle({ type: 'serial-frame', frame: frame('b', { state: 'BACKUP', hearsPeerAdverts: b.hearsPeerAdverts(51, 4, t) }, true) }, t));
    }
    expect(outB.filter((o) => o.type === 'send-release')).toEqual([]);
    expect(outB.filter((o) => o.type === 'vrrp' && o.event.type !== 'peer-claim')).toEqual([]);
    const release = outA.filter((o) => o.type === 'send-release');
    expect(release).toHaveLength(1);
    // The daemon sends the release frame; B takes over at once.
    const got = b.handle({ type: 'serial-frame', frame: { kind: 'release', nodeId: 'a', bootId: '0123456789abcdef', seq: ++seq, vrid: 51, family: 4 } }, 2050);
    expect(got).toContainEqual({ type: 'vrrp', vrid: 51, family: 4, event: { type: 'peer-release', immediate: true } });
  });
});

describe('fence hook before peer-dead', () => {
  function partitioned() {
    const h = new Harness({ fence: true });
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    h.advanceTo(2200);
    return h;
  }

  it('runs the fence once, then peer-dead on success', () => {
    const h = partitioned();
    expect(h.of('run-fence').map((f) => [f.at, f.out.instances])).toEqual([[2200, [{ vrid: 51, family: 4 }]]]);
    expect(h.vrrp('peer-dead')).toEqual([]);
    h.advanceTo(4000);
    expect(h.of('run-fence').length).toBe(1);
    h.feed({ type: 'fence-result', ok: true });
    expect(h.vrrp('peer-dead').map((d) => d.at)).toEqual([4000]);
  });

  it('a failed fence raises fence-failed and leaves the takeover to plain VRRP', () => {
    const h = partitioned();
    h.now = 2500;
    h.feed({ type: 'fence-result', ok: false, detail: 'exit 1' });
    h.advanceTo(10_000);
    expect(h.vrrp('peer-dead')).toEqual([]);
    expect(h.alarms('fence-failed')).toMatchObject([{ at: 2500 }]);
    expect(h.alarms('fence-failed-resolved')).toEqual([]);
  });

  it('fence-failed is cleared once the twin is heard again (or a later fence succeeds)', () => {
    const h = partitioned();
    h.now = 2500;
    h.feed({ type: 'fence-result', ok: false, detail: 'exit 1' });
    h.advanceTo(6000);
    h.heartbeat({ state: 'MASTER' });
    expect(h.alarms('fence-failed-resolved')).toMatchObject([{ at: 6000, durationMs: 3500 }]);
    h.run(6000, 7000, { e: true, s: true });
    expect(h.alarms('fence-failed-resolved').length).toBe(1);
  });

  it('the view names the decision-table row in force', () => {
    const h = partitioned();
    expect(h.arbiter.view(h.now).instances[0]!.decision).toBe('twin lost on both channels: fencing before taking over');
    h.heartbeat({ state: 'MASTER' });
    expect(h.arbiter.view(h.now).instances[0]!.decision).toBe('stay BACKUP: the twin is MASTER over serial, Ethernet path broken');
    h.advert();
    expect(h.arbiter.view(h.now).instances[0]!.decision).toBe('plain VRRP (both channels)');
  });

  it('a channel healing while the fence runs cancels the takeover', () => {
    const h = partitioned();
    h.now = 2300;
    h.heartbeat({ state: 'MASTER' });
    h.feed({ type: 'fence-result', ok: true });
    expect(h.vrrp('peer-dead')).toEqual([]);
  });
});

describe('split-brain', () => {
  function splitBrained(): Harness {
    // Both channels lost at 1000; this BACKUP takes over; the peer (alive) stayed MASTER.
    const h = new Harness();
    h.local('BACKUP', 100);
    h.run(0, 1000, { e: true, s: true });
    h.advanceTo(2200);
    expect(h.vrrp('peer-dead').map((d) => d.at)).toEqual([2200]);
    h.now = 2210;
    h.local('MASTER', 100);
    h.advanceTo(6000);
    return h;
  }

  it('detected on healing (serial) when both report MASTER; resolved when this node steps down', () => {
    const h = splitBrained();
    h.heartbeat({ state: 'MASTER', effectivePriority: 150 });
    expect(h.alarms('split-brain-detected')).toMatchObject([{ at: 6000, vrid: 51 }]);
    // The higher-priority claim reaches the VRRP machine, which steps down.
    expect(h.vrrp('peer-claim').at(-1)!.at).toBe(6000);
    h.now = 6050;
    h.local('BACKUP', 100);
    expect(h.alarms('split-brain-resolved')).toMatchObject([{ at: 6050, durationMs: 6050 - 2210, detail: 'VRID 51/IPv4: this node stepped down to BACKUP' }]);
    expect(h.of('garp')).toEqual([]);
  });

  it('detected on healing (Ethernet advert); when the peer steps down, this node re-announces with GARP', () => {
    const h = splitBrained();
    h.advert(150);
    expect(h.alarms('split-brain-detected')).toMatchObject([{ at: 6000 }]);
    h.now = 6100;
    h.heartbeat({ state: 'BACKUP', effectivePriority: 50 });
    expect(h.alarms('split-brain-resolved')).toMatchObject([{ at: 6100, durationMs: 6100 - 2210 }]);
    expect(h.of('garp').map((g) => [g.at, g.out.vrid])).toEqual([[6100, 51]]);
  });

  it('no split-brain when the healed peer reports BACKUP', () => {
    const h = splitBrained();
    h.heartbeat({ state: 'BACKUP' });
    h.advanceTo(8000);
    expect(h.alarms('split-brain-detected')).toEqual([]);
    expect(h.alarms('split-brain-resolved')).toEqual([]);
    // The peer may have stepped down before we ever saw it as MASTER (found in the namespace
    // test): we still hold the VIP after the partition, so we re-announce it once.
    expect(h.of('garp').map((g) => [g.at, g.out.vrid])).toEqual([[6000, 51]]);
  });
});

describe('start-up and housekeeping', () => {
  it('raises serial-heartbeat-lost when nothing is ever heard, and asks for ticks only at deadlines', () => {
    const h = new Harness();
    expect(h.arbiter.nextDeadline()).toBe(500);
    h.advanceTo(600);
    expect(h.alarms()).toEqual([{ at: 500, name: 'serial-heartbeat-lost', detail: 'no heartbeat accepted since start' }]);
    expect(h.arbiter.nextDeadline()).toBe(1200);
  });

  it('reports whether it hears the peer, for our own heartbeat and the console', () => {
    const h = new Harness();
    h.local('BACKUP');
    expect(h.arbiter.hearsPeerAdverts(51, 4, 0)).toBe(false);
    h.advert();
    h.heartbeat({ state: 'MASTER' });
    expect(h.arbiter.hearsPeerAdverts(51, 4, 1100)).toBe(true);
    expect(h.arbiter.hearsPeerAdverts(51, 4, 1200)).toBe(false);
    expect(h.arbiter.view(100)).toMatchObject({ serialOk: true, peerNodeId: 'gw-a', instances: [{ vrid: 51, ethernetOk: true, peer: { state: 'MASTER' } }] });
  });

  it('ignores inputs for unknown instances', () => {
    const h = new Harness();
    expect(h.feed({ type: 'advert', vrid: 9, family: 4, priority: 100, advertIntervalCs: 100, address: '10.0.0.9' })).toEqual([]);
  });
});

describe('instances changed by a reload', () => {
  it('an instance added by SIGHUP is arbitrated at once (a release frame for it reaches its VRRP machine); a kept one keeps its state', () => {
    const h = new Harness();
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    h.arbiter.setInstances([{ vrid: 51, family: 4, advertIntervalCs: 100 }, { vrid: 52, family: 4, advertIntervalCs: 100 }], h.now);
    expect(h.arbiter.view(h.now).instances.map((i) => [i.vrid, i.local])).toEqual([[51, 'BACKUP'], [52, 'INIT']]);
    expect(h.arbiter.view(h.now).instances[0]!.lastAdvertAt).toBe(1000);
    h.feed({ type: 'local-state', vrid: 52, family: 4, state: 'BACKUP', priority: 100 });
    h.feed({ type: 'serial-frame', frame: { kind: 'release', nodeId: 'gw-a', bootId: 'aaaaaaaaaaaaaaaa', seq: 1000, vrid: 52, family: 4 } });
    expect(h.of('vrrp').filter((v) => v.out.vrid === 52).map((v) => v.out.event.type)).toEqual(['peer-release']);
    h.arbiter.setInstances([{ vrid: 52, family: 4, advertIntervalCs: 100 }], h.now);
    expect(h.arbiter.view(h.now).instances.map((i) => i.vrid)).toEqual([52]);
  });
});
