// The evidence gatherer's firewall reading: with `nft monitor ruleset` running, the ruleset is
// read at once on a change (and the diagnosis told), otherwise only every NFT_SAFETY_MS; without
// the monitor (nft missing, or it died), every NFT_EVERY_MS. And the TWINVIP_DIAGNOSE switch.
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { EvidenceGatherer, NFT_EVERY_MS, NFT_SAFETY_MS, type GatherInputs } from '../../../src/diagnose/gather';
import { periodicDiagnosis } from '../../../src/diagnose/extension';
import { deltas } from '../../../src/diagnose/evidence';
import type { InstanceView } from '../../../src/ha/vrrp/runner';

const DROP = JSON.stringify({
  nftables: [
    { table: { family: 'inet', name: 'f' } },
    { chain: { family: 'inet', table: 'f', name: 'input', type: 'filter', hook: 'input', prio: 0, policy: 'accept' } },
    { rule: { family: 'inet', table: 'f', chain: 'input', expr: [{ match: { op: '==', left: { payload: { protocol: 'ip', field: 'protocol' } }, right: 'vrrp' } }, { drop: null }] } },
  ],
});
const EMPTY = JSON.stringify({ nftables: [] });

/** Sample times on the gatherer's clock (performance.now(), which a monitor-triggered read uses too). */
const base = performance.now();
function inputs(t: number): GatherInputs {
  return { node: 'a', nodeId: '1', uptimeMs: t, runnerNow: t, views: [], heartbeat: { enabled: false }, counters: {}, now: base + t };
}

function lab() {
  let ruleset = EMPTY;
  const calls: string[] = [];
  let line: (() => void) | undefined;
  let exit: ((why: string) => void) | undefined;
  const g = new EvidenceGatherer(
    async (file) => {
      calls.push(file);
      return { code: 0, stdout: file === 'nft' ? ruleset : '', stderr: '' };
    },
    '/nonexistent-sysfs',
    (_file, _args, onLine, onExit) => {
      line = onLine;
      exit = onExit;
      return { stop: () => undefined };
    },
  );
  return {
    g,
    nftCalls: () => calls.filter((c) => c === 'nft').length,
    set: (r: string) => (ruleset = r),
    change: () => line!(),
    die: () => exit!('exit 1'),
  };
}

describe('EvidenceGatherer firewall', () => {
  it('with the monitor: read once, then on each change at once (the diagnosis told), else every NFT_SAFETY_MS', async () => {
    const l = lab();
    let told = 0;
    l.g.start(() => told++);
    await l.g.gather(inputs(0));
    expect(l.nftCalls()).toBe(1);
    // The first reading is news (the firewall was unknown before).
    expect(told).toBe(1);
    await l.g.gather(inputs(NFT_EVERY_MS * 3));
    expect(l.nftCalls()).toBe(1);
    l.set(DROP);
    l.change();
    await l.g.settled();
    expect(l.nftCalls()).toBe(2);
    expect(told).toBe(2);
    const e = await l.g.gather(inputs(NFT_EVERY_MS * 3 + 1));
    expect(e.firewall).toMatchObject({ known: true, rules: [{ verdict: 'drop', direction: 'input' }] });
    await l.g.gather(inputs(NFT_SAFETY_MS + 5000));
    expect(l.nftCalls()).toBe(3);
    expect(told).toBe(2);
  });

  it('without the monitor: every NFT_EVERY_MS', async () => {
    const l = lab();
    l.g.start(() => undefined);
    await l.g.gather(inputs(0));
    l.die();
    await l.g.gather(inputs(NFT_EVERY_MS - 1));
    expect(l.nftCalls()).toBe(1);
    // (+1: the sample times are base + t in floating point, so t = NFT_EVERY_MS can land a hair short.)
    await l.g.gather(inputs(NFT_EVERY_MS + 1));
    expect(l.nftCalls()).toBe(2);
  });
});

describe('TWINVIP_DIAGNOSE', () => {
  it('off, 0, false or no turn the periodic diagnosis off; anything else or unset leaves it on', () => {
    for (const v of ['off', 'OFF', '0', 'false', 'no']) expect(periodicDiagnosis({ TWINVIP_DIAGNOSE: v })).toBe(false);
    for (const v of [undefined, '', 'on', '1']) expect(periodicDiagnosis(v === undefined ? {} : { TWINVIP_DIAGNOSE: v })).toBe(true);
  });
});

describe('EvidenceGatherer drop history', () => {
  function view(authData: number[], auth: number): InstanceView {
    return {
      plan: {
        name: 'VI_1', interface: 'eth0', family: 4, unicast: false, destinations: [], multicastGroup: '224.0.0.18', authType: 1, authData: Uint8Array.from(authData),
        params: { vrid: 7, primaryAddress: '10.0.0.1', version: 2, advertIntervalCs: 100 },
        advertised: ['10.0.0.100'], expectation: { ownAddresses: [] },
      },
      snapshot: { state: 'BACKUP' },
      sentAt: [],
      drops: { auth },
    } as unknown as InstanceView;
  }
  const at = (t: number, v: InstanceView): GatherInputs => ({ ...inputs(t), views: [v] });

  it('starts over when the instance is reloaded with other settings: drops counted under the old password are not evidence about the new one', async () => {
    const l = lab();
    await l.g.gather(at(0, view([1], 0)));
    let e = await l.g.gather(at(1000, view([1], 2)));
    expect(deltas(e.instances[0]!.drops, 10_000)).toEqual({ auth: 2 });
    // Same settings: the history goes on.
    e = await l.g.gather(at(2000, view([1], 3)));
    expect(deltas(e.instances[0]!.drops, 10_000)).toEqual({ auth: 3 });
    // Another password: the old drops are gone from the window.
    e = await l.g.gather(at(3000, view([2], 3)));
    expect(e.instances[0]!.drops).toHaveLength(1);
    expect(deltas(e.instances[0]!.drops, 10_000)).toEqual({});
    e = await l.g.gather(at(4000, view([2], 4)));
    expect(deltas(e.instances[0]!.drops, 10_000)).toEqual({ auth: 1 });
  });
});
