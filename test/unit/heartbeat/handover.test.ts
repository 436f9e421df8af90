// Handover without skew (issue 21): a release by the twin makes this BACKUP MASTER at once when
// the twin is the only other router of the VRID; RFC skew whenever a third router may be there
// (mixed group declared, a foreign router heard, or the twin not known yet). Fake clock.
import { describe, expect, it } from 'vitest';
import { CONFLICT_QUIET_MS } from '../../../src/heartbeat/vrid-conflict';
import { Harness } from './arbiter-harness';

const release = { kind: 'release' as const, nodeId: 'gw-a', bootId: 'aaaaaaaaaaaaaaaa', seq: 10_000, vrid: 51, family: 4 as const };
const releases = (h: Harness) => h.vrrp('peer-release').map((r) => (r.out.type === 'vrrp' && r.out.event.type === 'peer-release' ? r.out.event.immediate : null));

describe('handover without skew', () => {
  it('pair mode, no other router: the release frame is immediate', () => {
    const h = new Harness();
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    h.feed({ type: 'serial-frame', frame: release });
    expect(releases(h)).toEqual([true]);
  });

  it('the twin not known yet (no heartbeat before the release): RFC skew', () => {
    const h = new Harness();
    h.local('BACKUP');
    h.feed({ type: 'serial-frame', frame: release });
    expect(releases(h)).toEqual([false]);
  });

  it('mixed group declared: RFC skew, whether or not the third router was heard (its backup never advertises)', () => {
    const h = new Harness({ instances: [{ vrid: 51, family: 4, advertIntervalCs: 100, mixedGroup: true }] });
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    h.feed({ type: 'serial-frame', frame: release });
    expect(releases(h)).toEqual([false]);
  });

  it('a foreign router heard on the VRID: RFC skew until its conflict episode has been quiet', () => {
    const h = new Harness();
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    h.feed({ type: 'foreign-advert', vrid: 51, family: 4, source: '192.168.10.50', priority: 90, addresses: ['10.0.0.1'] });
    h.feed({ type: 'serial-frame', frame: { ...release, seq: 10_001 } });
    expect(releases(h)).toEqual([false]);
    // Quiet for the conflict time: the twin is alone again.
    h.local('MASTER');
    h.local('BACKUP');
    h.run(1100, 1000 + CONFLICT_QUIET_MS + 200, { e: true, s: true });
    h.feed({ type: 'serial-frame', frame: { ...release, seq: 20_000 } });
    expect(releases(h)).toEqual([false, true]);
  });

  it('row 4 (Ethernet silent, the twin reports FAULT over serial) is immediate as well', () => {
    const h = new Harness();
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    h.run(1100, 3000, { e: false, s: true, report: { state: 'FAULT' } });
    expect(h.vrrp('peer-release').map((r) => r.at)).toEqual([2200]);
    expect(releases(h)).toEqual([true]);
  });

  it('another instance of the same pair keeps its own verdict', () => {
    const h = new Harness({ instances: [{ vrid: 51, family: 4, advertIntervalCs: 100 }, { vrid: 52, family: 4, advertIntervalCs: 100, mixedGroup: true }] });
    h.local('BACKUP');
    h.feed({ type: 'local-state', vrid: 52, family: 4, state: 'BACKUP', priority: 100 });
    h.run(0, 1000, { e: true, s: true });
    h.feed({ type: 'serial-frame', frame: release });
    h.feed({ type: 'serial-frame', frame: { ...release, seq: 10_001, vrid: 52 } });
    const got = h.of('vrrp').filter((v) => v.out.event.type === 'peer-release').map((v) => [v.out.vrid, v.out.event.type === 'peer-release' && v.out.event.immediate]);
    expect(got).toEqual([[51, true], [52, false]]);
  });
});
