import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/config';
import { pairIdentity } from '../../../src/fleet/pair';

describe('pair identity', () => {
  it('node.pair wins; else both names sorted when the twin is named (both twins agree); else the box alone', () => {
    expect(pairIdentity({ name: 'gw-b', pair: 'branch-042', twin: 'gw-a' })).toEqual({ id: 'branch-042', twin: 'gw-a', source: 'config' });
    expect(pairIdentity({ name: 'gw-b', twin: 'gw-a' })).toEqual({ id: 'gw-a~gw-b', twin: 'gw-a', source: 'names' });
    expect(pairIdentity({ name: 'gw-a', twin: 'gw-b' }).id).toBe(pairIdentity({ name: 'gw-b', twin: 'gw-a' }).id);
    expect(pairIdentity({ name: 'gw-a' })).toEqual({ id: 'gw-a', twin: null, source: 'self' });
  });

  it("without node.twin, the twin's name learned over serial gives the same id on both twins", () => {
    expect(pairIdentity({ name: 'gw-b' }, 'gw-a')).toEqual({ id: 'gw-a~gw-b', twin: 'gw-a', source: 'serial' });
    expect(pairIdentity({ name: 'gw-a' }, 'gw-b').id).toBe(pairIdentity({ name: 'gw-b' }, 'gw-a').id);
    // A configured twin wins over the learned one; a learned name equal to ours is no twin.
    expect(pairIdentity({ name: 'gw-b', twin: 'gw-a' }, 'gw-x')).toEqual({ id: 'gw-a~gw-b', twin: 'gw-a', source: 'names' });
    expect(pairIdentity({ name: 'gw-a' }, 'gw-a')).toEqual({ id: 'gw-a', twin: 'gw-a', source: 'self' });
  });

  it('check refuses a twin named like the box itself', () => {
    const r = parseConfigText(JSON.stringify({ node: { name: 'gw-a', twin: 'gw-a' } }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.map((e) => e.path)).toContain('/node/twin');
  });
});
