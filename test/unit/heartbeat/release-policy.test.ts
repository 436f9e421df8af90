import { describe, expect, it } from 'vitest';
import { ReleaseTracker } from '../../../src/heartbeat/release-policy';

describe('release on the gateway rule: when the demotion is lifted', () => {
  const base = { gatewayOk: false, serialOk: true, peerMaster: () => true };

  it('stays demoted while the twin serves and our gateway is still unreachable', () => {
    const t = new ReleaseTracker(5000);
    t.release('VI_1', 0);
    expect(t.review(1000, base)).toEqual([]);
    expect(t.review(60_000, base)).toEqual([]);
    expect(t.has('VI_1')).toBe(true);
  });

  it('lifted once our gateway is reachable again', () => {
    const t = new ReleaseTracker(5000);
    t.release('VI_1', 0);
    expect(t.review(100, { ...base, gatewayOk: true })).toEqual([{ instance: 'VI_1', reason: 'gateway reachable again' }]);
    expect(t.has('VI_1')).toBe(false);
    expect(t.review(200, { ...base, gatewayOk: true })).toEqual([]);
  });

  it('lifted when the serial channel is lost (no view of the twin any more)', () => {
    const t = new ReleaseTracker(5000);
    t.release('VI_1', 0);
    expect(t.review(100, { ...base, serialOk: false })).toEqual([{ instance: 'VI_1', reason: 'serial heartbeat lost' }]);
  });

  it('lifted when the twin never reported MASTER within the grace time; kept when it did at any point', () => {
    const t = new ReleaseTracker(5000);
    t.release('VI_1', 0);
    t.release('VI_2', 0);
    const peerMaster = (n: string) => n === 'VI_2';
    expect(t.review(4999, { ...base, peerMaster })).toEqual([]);
    expect(t.review(5000, { ...base, peerMaster })).toEqual([{ instance: 'VI_1', reason: 'twin did not take over' }]);
    // VI_2's twin took over earlier; a later BACKUP report does not lift it on the grace rule.
    expect(t.review(9000, { ...base, peerMaster: () => false })).toEqual([]);
    expect([...t.names()]).toEqual(['VI_2']);
  });
});
