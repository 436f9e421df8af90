// The fleet monitor on a fake clock: pairs grouped by the state's pair id, and what only an
// outside view sees: split-brain (after a grace a routine handover never reaches), offline boxes,
// drift, an instance nobody holds.
import { describe, expect, it } from 'vitest';
import { FleetMonitor, problemKey } from '../../../src/fleet/monitor';

const doc = (node: string, states: Record<string, string>, o: { pair?: string; twin?: string; shared?: string; version?: string; updated?: number } = {}) => JSON.stringify({
  node, version: o.version ?? '1.0.0', config_hash: `h-${node}`, shared_config_hash: o.shared ?? 'same',
  pair: o.pair === undefined ? { id: node, twin: null, source: 'self' } : { id: o.pair, twin: o.twin ?? null, source: 'config' },
  instances: Object.fromEntries(Object.entries(states).map(([n, s]) => [n, { state: s }])),
  alarms: [], updated_at: new Date(o.updated ?? 0).toISOString(),
});

function fleet() {
  const m = new FleetMonitor({ splitGraceMs: 500, holderGraceMs: 5000 });
  const box = (node: string, states: Record<string, string>, o: Parameters<typeof doc>[2] = { pair: 'p1' }, now = 0) => {
    m.state(`twinvip/${node}/`, doc(node, states, o));
    m.status(`twinvip/${node}/`, 'online', now);
  };
  return { m, box };
}

describe('fleet monitor', () => {
  it('a healthy pair: one line, both boxes, the holder of each instance', () => {
    const { m, box } = fleet();
    box('gw-a', { VI_1: 'MASTER', VI_2: 'BACKUP' });
    box('gw-b', { VI_1: 'BACKUP', VI_2: 'MASTER' });
    const r = m.report(1000);
    expect(r.healthy).toBe(true);
    expect(r.pairs).toHaveLength(1);
    expect(r.pairs[0]).toMatchObject({ id: 'p1', healthy: true, instances: [{ name: 'VI_1', holders: ['gw-a'] }, { name: 'VI_2', holders: ['gw-b'] }] });
    expect(r.pairs[0]!.boxes.map((b) => b.node)).toEqual(['gw-a', 'gw-b']);
  });

  it('both MASTER: split-brain once it lasts the grace, with its duration; a crossing handover is not', () => {
    const { m, box } = fleet();
    box('gw-a', { VI_1: 'MASTER' });
    box('gw-b', { VI_1: 'BACKUP' });
    m.report(0);
    // A handover whose messages cross: b says MASTER 100 ms before a says BACKUP.
    m.state('twinvip/gw-b/', doc('gw-b', { VI_1: 'MASTER' }, { pair: 'p1' }));
    expect(m.report(1000).healthy).toBe(true);
    m.state('twinvip/gw-a/', doc('gw-a', { VI_1: 'BACKUP' }, { pair: 'p1' }));
    expect(m.report(1100).healthy).toBe(true);
    expect(m.report(5000).healthy).toBe(true);
    // Split-brain: a becomes MASTER again while b stays MASTER.
    m.state('twinvip/gw-a/', doc('gw-a', { VI_1: 'MASTER' }, { pair: 'p1' }));
    expect(m.report(6000).healthy).toBe(true);
    expect(m.report(6499).healthy).toBe(true);
    const r = m.report(6500);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'split-brain', pair: 'p1', instance: 'VI_1', since: 6000, durationMs: 500, severity: 'critical', message: 'VI_1: gw-a and gw-b both MASTER for 0.5 s' })]);
    expect(problemKey(r.problems[0]!)).toBe('p1/split-brain/VI_1');
    expect(m.report(9000).problems[0]!.durationMs).toBe(3000);
    m.state('twinvip/gw-b/', doc('gw-b', { VI_1: 'BACKUP' }, { pair: 'p1' }));
    expect(m.report(9100).healthy).toBe(true);
  });

  it('a box offline (last will): a problem at once, with how long; its stale MASTER is not a holder', () => {
    const { m, box } = fleet();
    box('gw-a', { VI_1: 'MASTER' });
    box('gw-b', { VI_1: 'BACKUP' });
    m.status('twinvip/gw-a/', 'offline', 2000);
    const r = m.report(2000);
    expect(r.problems.map((p) => p.kind)).toEqual(['offline']);
    expect(r.pairs[0]!.instances[0]).toMatchObject({ holders: [], states: { 'gw-b': 'BACKUP' } });
    // b takes over within the holder grace: only the offline box remains a problem.
    m.state('twinvip/gw-b/', doc('gw-b', { VI_1: 'MASTER' }, { pair: 'p1' }));
    const later = m.report(12_000);
    expect(later.problems).toEqual([expect.objectContaining({ kind: 'offline', node: 'gw-a', durationMs: 10_000 })]);
  });

  it('a retained offline seen at start dates from the box\'s last state, not from now', () => {
    const m = new FleetMonitor();
    m.state('twinvip/gw-a/', doc('gw-a', { VI_1: 'MASTER' }, { pair: 'p1', updated: 60_000 }));
    m.status('twinvip/gw-a/', 'offline', 100_000, true);
    m.state('twinvip/gw-b/', doc('gw-b', { VI_1: 'MASTER' }, { pair: 'p1', updated: 99_000 }));
    m.status('twinvip/gw-b/', 'online', 100_000, true);
    expect(m.report(100_000).problems).toEqual([expect.objectContaining({ kind: 'offline', node: 'gw-a', since: 60_000, durationMs: 40_000 })]);
  });

  it('nobody holds an instance past the holder grace; drift of shared config and version', () => {
    const { m, box } = fleet();
    box('gw-a', { VI_1: 'BACKUP' }, { pair: 'p1', shared: 'x1', version: '1.0.0' });
    box('gw-b', { VI_1: 'BACKUP' }, { pair: 'p1', shared: 'x2', version: '1.1.0' });
    expect(m.report(0).problems.map((p) => p.kind).sort()).toEqual(['config-drift', 'version-drift']);
    expect(m.report(4999).problems.map((p) => p.kind)).not.toContain('no-holder');
    expect(m.report(5000).problems.map((p) => p.kind)).toContain('no-holder');
  });

  it('groups thousands of boxes by pair id; a lone box is unpaired or misses its twin', () => {
    const { m, box } = fleet();
    for (let i = 0; i < 2000; i++) {
      box(`a${i}`, { VI_1: 'MASTER' }, { pair: `site-${i}` });
      box(`b${i}`, { VI_1: 'BACKUP' }, { pair: `site-${i}` });
    }
    box('lonely', { VI_1: 'MASTER' }, {});
    box('half', { VI_1: 'MASTER' }, { pair: 'site-x', twin: 'other' });
    const r = m.report(0);
    expect(r.boxes).toBe(4002);
    expect(r.pairs).toHaveLength(2002);
    expect(r.problems.map((p) => `${p.kind} ${p.node}`).sort()).toEqual(['twin-missing half', 'unpaired lonely']);
    m.state('twinvip/lonely/', '');
    expect(m.report(0).boxes).toBe(4001);
  });
});

describe('fleet monitor, one look (fleet status)', () => {
  const withTransition = (node: string, state: string, at: number) => JSON.stringify({
    node, version: '1', shared_config_hash: 's', pair: { id: 'p1', twin: null, source: 'config' },
    instances: { VI_1: { state, last_transition: { to: state, at: new Date(at).toISOString() } } }, updated_at: new Date(at).toISOString(),
  });

  it('a split-brain found in retained documents dates from the boxes\' transitions: flagged at the first look', () => {
    const m = new FleetMonitor();
    m.state('t/a/', withTransition('a', 'MASTER', 1_000), true);
    m.status('t/a/', 'online', 10_000, true);
    m.state('t/b/', withTransition('b', 'MASTER', 7_000), true);
    m.status('t/b/', 'online', 10_000, true);
    expect(m.report(10_000).problems).toEqual([expect.objectContaining({ kind: 'split-brain', since: 7_000, durationMs: 3_000 })]);
  });

  it('seen live, the same documents are timed from their arrival (box clocks may be off)', () => {
    const m = new FleetMonitor();
    m.state('t/a/', withTransition('a', 'MASTER', 1_000));
    m.status('t/a/', 'online', 10_000);
    m.state('t/b/', withTransition('b', 'MASTER', 7_000));
    m.status('t/b/', 'online', 10_000);
    expect(m.report(10_000).healthy).toBe(true);
    expect(m.report(10_500).problems).toEqual([expect.objectContaining({ kind: 'split-brain', since: 10_000 })]);
  });
});
