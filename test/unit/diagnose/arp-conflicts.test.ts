// The gatherer's address conflicts (issue 22): passive, so an idle box runs no `arping` at all;
// a received ARP that claims one of our addresses from another MAC is a conflict at once (the
// diagnosis told), held ARP_HOLD_MS and confirmed by a probe every ARP_CONFIRM_MS meanwhile;
// active RFC 5227 probes otherwise only on demand and when an instance becomes MASTER.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ARP_CONFIRM_MS, ARP_HOLD_MS, EvidenceGatherer, type GatherInputs, type OpenArpWatch } from '../../../src/diagnose/gather';
import type { ArpSighting } from '../../../src/net/arp-watch';
import type { InstanceView } from '../../../src/ha/vrrp/runner';

const VIP = '10.0.0.100';
const OWN = '10.0.0.1';
const STRANGER = '52:54:00:00:00:99';

function view(state: 'MASTER' | 'BACKUP'): InstanceView {
  return {
    plan: {
      name: 'VI_1', interface: 'eth0', family: 4, unicast: false, destinations: [], multicastGroup: '224.0.0.18', authType: 0,
      params: { vrid: 7, primaryAddress: OWN, version: 3, advertIntervalCs: 100 },
      advertised: [VIP], expectation: { ownAddresses: [] },
    },
    snapshot: { state },
    sentAt: [],
    drops: {},
  } as unknown as InstanceView;
}

function lab(arpingOut: () => string = () => '') {
  let now = 0;
  const arping: string[][] = [];
  const watches = new Map<string, { ips: string[]; on: (s: ArpSighting) => void; closed: boolean }>();
  const open: OpenArpWatch = (ifname, on) => {
    const w = { ips: [] as string[], on, closed: false };
    watches.set(ifname, w);
    return { setAddresses: (ips: readonly string[]) => void (w.ips = [...ips]), close: () => void (w.closed = true), error: '', counters: { frames: 0, floods: 0, errors: 0 } };
  };
  const g = new EvidenceGatherer(
    async (file, args) => {
      if (file === 'arping') arping.push(args);
      return { code: 0, stdout: file === 'arping' ? arpingOut() : '{"nftables":[]}', stderr: '' };
    },
    '/nonexistent-sysfs',
    () => ({ stop: () => undefined }),
    open,
    () => now,
  );
  let told = 0;
  const inputs = (state: 'MASTER' | 'BACKUP'): GatherInputs => ({ node: 'a', nodeId: '1', uptimeMs: now, runnerNow: now, views: [view(state)], heartbeat: { enabled: false }, counters: {}, now });
  const sight = (ip: string, mac = STRANGER) => watches.get('eth0')!.on({ op: 'request', senderMac: mac, senderIp: ip, targetMac: 'ff:ff:ff:ff:ff:ff', targetIp: ip, interface: 'eth0', at: now });
  return { g, arping, watches, inputs, sight, told: () => told, tell: () => told++, advance: (ms: number) => (now += ms) };
}

describe('EvidenceGatherer address conflicts', () => {
  afterEach(() => void vi.useRealTimers());

  it('idle: the own address and the MASTER VIPs are watched passively, and no arping runs at all', async () => {
    const l = lab();
    l.g.start(l.tell);
    for (let i = 0; i < 30; i++) {
      const e = await l.g.gather(l.inputs('MASTER'));
      expect(e.conflicts).toEqual([]);
      l.advance(1000);
    }
    await l.g.settled();
    expect(l.arping).toEqual([]);
    expect(l.watches.get('eth0')!.ips).toEqual([OWN, VIP]);
    await l.g.gather(l.inputs('BACKUP'));
    expect(l.watches.get('eth0')!.ips).toEqual([OWN]);
    l.g.stop();
    expect(l.watches.get('eth0')!.closed).toBe(true);
  });

  it('a foreign MAC claiming the VIP: a conflict at once (diagnosis told), held ARP_HOLD_MS and confirmed by probes meanwhile; our own MAC is not one', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const l = lab();
    l.g.start(l.tell);
    await l.g.gather(l.inputs('MASTER'));
    const before = l.told();
    l.sight(VIP);
    expect(l.told()).toBe(before + 1);
    const e = await l.g.gather(l.inputs('MASTER'));
    expect(e.conflicts).toEqual([{ ip: VIP, mac: STRANGER, interface: 'eth0', kind: 'vip', instance: 'VI_1' }]);
    // While held: one confirmation probe of the conflicted address each ARP_CONFIRM_MS.
    l.advance(ARP_CONFIRM_MS);
    await vi.advanceTimersByTimeAsync(ARP_CONFIRM_MS);
    await l.g.settled();
    expect(l.arping).toEqual([['-D', '-I', 'eth0', '-c', '1', '-w', '1', VIP]]);
    // No answer and no new sighting: gone after ARP_HOLD_MS, and the probes stop.
    l.advance(ARP_HOLD_MS);
    const later = await l.g.gather(l.inputs('MASTER'));
    expect(later.conflicts).toEqual([]);
    const n = l.arping.length;
    await vi.advanceTimersByTimeAsync(ARP_CONFIRM_MS * 3);
    expect(l.arping.length).toBe(n);
    l.g.stop();
  });

  it('the VIP given up (BACKUP): its conflict is no longer ours to report', async () => {
    const l = lab();
    l.g.start(l.tell);
    await l.g.gather(l.inputs('MASTER'));
    l.sight(VIP);
    expect((await l.g.gather(l.inputs('BACKUP'))).conflicts).toEqual([]);
    l.g.stop();
  });

  it('becoming MASTER: one probe round at the next gather; its answer is a conflict', async () => {
    const l = lab(() => `ARPING ${VIP} from 0.0.0.0 eth0\nUnicast reply from ${VIP} [52:54:00:00:00:AA]  0.6ms\n`);
    l.g.start(l.tell);
    await l.g.gather(l.inputs('BACKUP'));
    l.g.probeSoon();
    await l.g.gather(l.inputs('MASTER'));
    await l.g.settled();
    expect(l.arping.map((a) => a.at(-1))).toEqual([OWN, VIP]);
    const e = await l.g.gather(l.inputs('MASTER'));
    expect(e.conflicts.map((c) => `${c.ip} ${c.mac}`)).toEqual([`${OWN} 52:54:00:00:00:aa`, `${VIP} 52:54:00:00:00:aa`]);
    l.g.stop();
  });

  it('on demand (not started, TWINVIP_DIAGNOSE=off): probeNow probes and the next evidence has the answer; no watch is opened', async () => {
    const l = lab(() => `Unicast reply from ${VIP} [52:54:00:00:00:bb]  0.6ms\n`);
    await l.g.gather(l.inputs('MASTER'));
    await l.g.probeNow();
    expect(l.arping).toHaveLength(2);
    expect((await l.g.gather(l.inputs('MASTER'))).conflicts.map((c) => c.mac)).toContain('52:54:00:00:00:bb');
    expect(l.watches.size).toBe(0);
  });
});
