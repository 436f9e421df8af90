// Pair mode on a fake clock: the twin's addresses come with its heartbeat; an advert for our VRID
// from any other source is filtered (twinFilter), recorded with source, priority, address list,
// first and last seen, raises vrid-conflict once per source and clears after a quiet time; it
// never refreshes the Ethernet channel ("the master is alive"). A mixed group keeps plain rules.
import { describe, expect, it } from 'vitest';
import { CONFLICT_QUIET_MS, MAX_CONFLICT_SOURCES, twinAddressesOf, VridConflicts } from '../../../src/heartbeat/vrid-conflict';
import { Harness } from './arbiter-harness';
import { hb, inst } from './fixtures';

const stray = (at: { source?: string; priority?: number; addresses?: string[] } = {}) => ({
  type: 'foreign-advert' as const,
  vrid: 51,
  family: 4 as const,
  source: at.source ?? '192.168.10.50',
  priority: at.priority ?? 254,
  addresses: at.addresses ?? ['10.88.0.200'],
});

describe('pair mode: the twin and everyone else', () => {
  it("the twin's addresses are each instance's primary address and the frame's own-address list, canonical", () => {
    const f = { kind: 'heartbeat' as const, nodeId: 'b', bootId: 'aaaaaaaaaaaaaaaa', seq: 1, ...hb({ instances: [inst(), inst({ vrid: 52, family: 6, address: 'FE80:0::1' })], addresses: ['192.168.10.2', '192.168.20.2', '2001:db8::2'] }) };
    expect([...twinAddressesOf(f)].sort()).toEqual(['192.168.10.2', '192.168.20.2', '2001:db8::2', 'fe80::1']);
  });

  it('no filter before the first heartbeat (twin unknown: plain VRRP), then only the twin', () => {
    const h = new Harness();
    h.local('BACKUP');
    expect(h.arbiter.twinFilter(51, 4)).toBeUndefined();
    h.heartbeat({ state: 'MASTER' });
    expect([...h.arbiter.twinFilter(51, 4)!.twin]).toEqual(['192.168.10.2']);
    expect(h.arbiter.twinFilter(99, 4)).toBeUndefined();
    // The serial link going quiet does not forget the twin: a stray advert stays stray.
    h.advanceTo(10_000);
    expect(h.arbiter.view(h.now).serialOk).toBe(false);
    expect([...h.arbiter.twinFilter(51, 4)!.twin]).toEqual(['192.168.10.2']);
  });

  it('a foreign advert raises vrid-conflict once per source with priority and address list; first/last seen and count in the view; cleared after the quiet time', () => {
    const h = new Harness();
    h.local('MASTER', 150);
    h.heartbeat({ state: 'BACKUP', effectivePriority: 100 });
    h.now = 1000;
    h.feed(stray());
    for (let t = 2000; t <= 30_000; t += 1000) {
      h.advanceTo(t);
      h.feed(stray());
    }
    h.advanceTo(31_000);
    h.feed(stray({ source: '192.168.10.51', priority: 1, addresses: [] }));
    const raised = h.alarms('vrid-conflict');
    expect(raised).toHaveLength(2);
    expect(raised[0]).toMatchObject({ at: 1000, detail: expect.stringMatching(/^VRID 51\/IPv4: advert for VRID 51 from 192\.168\.10\.50 \(priority 254, addresses \[10\.88\.0\.200\]\), which is not the twin: ignored \(pair mode/) });
    expect(raised[1]).toMatchObject({ at: 31_000, detail: expect.stringContaining('192.168.10.51 (priority 1, addresses [])') });
    const conflicts = h.arbiter.view(h.now).instances[0]!.conflicts!;
    expect(conflicts).toEqual([
      { source: '192.168.10.50', priority: 254, addresses: ['10.88.0.200'], firstSeen: 1000, lastSeen: 30_000, count: 30 },
      { source: '192.168.10.51', priority: 1, addresses: [], firstSeen: 31_000, lastSeen: 31_000, count: 1 },
    ]);
    expect(h.arbiter.view(h.now).instances[0]!.alarms).toContain('vrid-conflict');
    // Quiet: cleared CONFLICT_QUIET_MS after the last foreign advert, with the episode's length.
    h.advanceTo(31_000 + CONFLICT_QUIET_MS + 1000);
    expect(h.alarms('vrid-conflict-resolved')).toEqual([
      { at: 31_000 + CONFLICT_QUIET_MS, name: 'vrid-conflict-resolved', vrid: 51, family: 4, durationMs: 30_000, detail: expect.stringContaining('192.168.10.50 x30, 192.168.10.51 x1') },
    ]);
    expect(h.arbiter.view(h.now).instances[0]!.conflicts).toEqual([]);
    // Nothing of this touched the election: no VRRP event, no release, no Ethernet verdict.
    expect(h.of('vrrp').filter((v) => v.out.type === 'vrrp' && v.out.event.type !== 'peer-claim')).toEqual([]);
    expect(h.of('send-release')).toEqual([]);
  });

  it('an accepted advert from anyone but the twin never counts as the master alive (Ethernet channel stays silent)', () => {
    const h = new Harness({ instances: [{ vrid: 51, family: 4, advertIntervalCs: 100, mixedGroup: true }] });
    h.local('BACKUP');
    h.heartbeat({ state: 'MASTER' });
    // A mixed group: a third router's adverts reach VRRP (no filter) but say nothing of the twin.
    expect(h.arbiter.twinFilter(51, 4)).toBeUndefined();
    for (let t = 0; t <= 3000; t += 1000) {
      h.advanceTo(t);
      h.feed({ type: 'advert', vrid: 51, family: 4, priority: 200, advertIntervalCs: 100, address: '192.168.10.77' });
    }
    expect(h.arbiter.view(h.now).instances[0]!.lastAdvertAt).toBeNull();
    expect(h.arbiter.hearsPeerAdverts(51, 4, h.now)).toBe(false);
    h.advert();
    expect(h.arbiter.view(h.now).instances[0]!.lastAdvertAt).toBe(h.now);
    // ...and no conflict is recorded for a mixed group.
    h.feed(stray());
    expect(h.alarms('vrid-conflict')).toEqual([]);
  });

  it('a reload that sets or clears mixed_group switches pair mode for that instance', () => {
    const h = new Harness();
    h.local('BACKUP');
    h.heartbeat({ state: 'MASTER' });
    expect(h.arbiter.twinFilter(51, 4)).toBeDefined();
    h.arbiter.setInstances([{ vrid: 51, family: 4, advertIntervalCs: 100, mixedGroup: true }], h.now);
    expect(h.arbiter.twinFilter(51, 4)).toBeUndefined();
    h.arbiter.setInstances([{ vrid: 51, family: 4, advertIntervalCs: 100 }], h.now);
    expect([...h.arbiter.twinFilter(51, 4)!.twin]).toEqual(['192.168.10.2']);
  });

  it('sources are bounded per instance (spoofed floods): the least recently heard is forgotten', () => {
    const c = new VridConflicts();
    for (let i = 0; i < MAX_CONFLICT_SOURCES + 4; i++) c.heard({ vrid: 1, family: 4, source: `10.0.0.${i + 1}`, priority: 100, addresses: [] }, i);
    const s = c.sources(1, 4);
    expect(s).toHaveLength(MAX_CONFLICT_SOURCES);
    expect(s[0]!.source).toBe('10.0.0.5');
    expect(c.nextDeadline()).toBe(MAX_CONFLICT_SOURCES + 3 + CONFLICT_QUIET_MS);
  });
});
