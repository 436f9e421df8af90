// Link state from rtnetlink events: A's interface going down (administratively, or by losing
// carrier when the far end of the veth goes down, as a cut cable) and up again is reported.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LinkMonitor, type LinkState } from '../../../src/net/link-monitor';
import { describeRequiring } from '../../helpers/prerequisites';
import { type Netns, NetnsLab } from '../helpers/netns';

describeRequiring(NetnsLab.prerequisites, 'link monitor in namespaces', () => {
  let lab: NetnsLab;
  let a: Netns;
  let b: Netns;
  let mon: LinkMonitor | undefined;
  const changes: LinkState[] = [];

  beforeAll(async () => {
    lab = await NetnsLab.create();
    a = await lab.namespace('a');
    b = await lab.namespace('b');
    await lab.veth(a, 'va', b, 'vb');
    await lab.veth(a, 'vc', b, 'vd');
  });

  afterAll(async () => {
    try {
      mon?.stop();
    } finally {
      await lab?.cleanup();
    }
  });

  const waitUp = (ifname: string, up: boolean, after: number) =>
    lab.waitFor(() => changes.slice(after).find((c) => c.ifname === ifname && c.up === up), {
      what: `${ifname} ${up ? 'up' : 'down'} event`,
    });

  it('starts with the current state and reports down/up changes as events', async () => {
    await a.run('ip', ['link', 'set', 'vc', 'down']);
    mon = await LinkMonitor.start({ ifnames: ['va', 'vc'], netns: a.name, onChange: (s) => void changes.push(s) });
    expect(mon.state('va')).toMatchObject({ ifname: 'va', up: true });
    expect(mon.state('vc')).toMatchObject({ ifname: 'vc', up: false });
    expect(changes).toEqual([]);

    let n = changes.length;
    await a.run('ip', ['link', 'set', 'dev', 'va', 'down']);
    await waitUp('va', false, n);
    expect(mon.state('va')?.up).toBe(false);

    n = changes.length;
    await a.run('ip', ['link', 'set', 'dev', 'va', 'up']);
    await waitUp('va', true, n);

    // Carrier loss: the far end goes down, A's side stays administratively up.
    n = changes.length;
    await b.run('ip', ['link', 'set', 'dev', 'vb', 'down']);
    await waitUp('va', false, n);
    // Linkwatch settles operstate after the carrier event, and the state follows: DOWN, or
    // LOWERLAYERDOWN when the veth's ifindex differs from its peer's (the kernel compares them).
    await lab.waitFor(() => ['DOWN', 'LOWERLAYERDOWN'].includes(mon?.state('va')?.operstate ?? ''), { what: 'va operstate down' });
    expect((await a.ipJson<{ flags: string[] }[]>(['link', 'show', 'va']))[0]!.flags).toContain('UP'); // still admin up
    expect(mon.state('va')?.up).toBe(false);
    n = changes.length;
    await b.run('ip', ['link', 'set', 'dev', 'vb', 'up']);
    await waitUp('va', true, n);

    // Events for other interfaces are not reported; vc stayed down throughout.
    expect(changes.every((c) => c.ifname === 'va')).toBe(true);
    expect(mon.counters.events).toBeGreaterThan(0);
  });

  it('reports an interface that disappears as down', async () => {
    const n = changes.length;
    await a.run('ip', ['link', 'set', 'vc', 'up']);
    await waitUp('vc', true, n);
    const m = changes.length;
    await a.run('ip', ['link', 'del', 'vc']);
    await waitUp('vc', false, m);
    await lab.waitFor(() => mon?.state('vc')?.operstate === 'NOTPRESENT', { what: 'vc NOTPRESENT' });
  });
});
