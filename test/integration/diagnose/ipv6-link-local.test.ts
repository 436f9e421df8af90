// Issue 23: the LAN probe where the twin's address is IPv6 link-local. A VRRPv3 instance for IPv6
// sends its adverts from the interface's link-local address (RFC 5798 5.1.2.1), so that is the
// address each box reports over serial and the one the probe asks: it means nothing without its
// interface (the scope id), and a datagram to fe80::... without one is refused by the kernel.
// Checked here on a pair with one IPv6 instance: the HA path's round with the serial cable cut
// (the twin's daemon answers: no takeover), the diagnosis's round on a one-way fault with the
// neighbour tables flushed (one-way-loss, its questions reaching the twin), and the twin's daemon
// killed (its kernel's port unreachable, which needs the round's socket connected, hence the scope).
import { expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { PairLab, pairLabHooks, type Box } from '../heartbeat-pair/pair-lab';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';
import { diagnosis, healthyAgain, named, nft, onlyNamed } from './diag-helpers';

let p: PairLab;

const instances = (box: Box) => ({ instances: { VI_6: { interface: box.ifname, vrid: 78, priority: box.priority, advert_int: 1, version: 3, vips: ['fd77::100/64'] } } });

pairLabHooks(() => PairLab.startPair({ config: instances }), (lab) => (p = lab));

async function linkLocal(box: Box): Promise<string> {
  const a = await box.ns.ipJson<{ addr_info: { family: string; local: string; scope: string }[] }[]>(['-6', 'addr', 'show', 'dev', box.ifname, 'scope', 'link']);
  const ll = a[0]?.addr_info.find((x) => x.family === 'inet6' && x.scope === 'link')?.local;
  if (!ll) throw new Error(`${box.id}: no link-local address on ${box.ifname}`);
  return ll;
}

const times: string[] = [];

/** a MASTER, b BACKUP, serial up on both (PairLab.masterIs looks for the IPv4 VIP). */
async function rolesBack(): Promise<void> {
  await p.waitFor(async () => (await p.state(p.a)) === 'MASTER' && (await p.state(p.b)) === 'BACKUP', () => `a MASTER, b BACKUP${p.logs()}`, 30_000);
  await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, 'serial up on both');
}

describeRequiring([...NetnsLab.prerequisites, needsProgram('socat'), needsProgram('nft')], 'the probe to a twin at an IPv6 link-local address', () => {
  it('serial cable cut: the HA path asks the twin at its link-local address (with the scope) and its daemon answers; no takeover', async () => {
    await rolesBack();
    const ll = await linkLocal(p.a);
    const before = p.b.log().length;
    await p.serial!.kill();
    try {
      const esc = ll.replace(/[.:]/g, (c) => `\\${c}`);
      await p.waitFor(() => new RegExp(`probe of the twin \\(serial link silent for \\d+ ms\\): the twin's daemon answered a probe at ${esc}`).test(p.b.log().slice(before)), () => `b's probe of ${ll} answered${p.logs()}`);
      expect(await p.state(p.b)).toBe('BACKUP');
      expect(p.b.log().slice(before)).not.toMatch(/BACKUP -> MASTER/);
    } finally {
      await p.serial!.start();
    }
    await rolesBack();
  }, patience(120_000));

  it("the bridge drops a's frames, neighbour tables flushed: one-way-loss box-a -> box-b, the diagnosis's probe reaching a at its link-local address", async () => {
    await healthyAgain(p);
    expect((await diagnosis(p.b)).twin).toBe('box-a');
    const mark = p.b.log().length;
    const answered = (await p.counters(p.a))?.['probe.questions_answered'] ?? 0;
    const at = Date.now();
    await nft(p, p.s, `table bridge diag6 {\n  chain forward {\n    type filter hook forward priority 0;\n    iifname "${p.a.port}" drop\n  }\n}\n`);
    for (const box of [p.a, p.b]) await box.ns.run('ip', ['-6', 'neigh', 'flush', 'dev', box.ifname]);
    try {
      const hit = await named(p, p.b, mark, 'one-way-loss', 'box-b', at);
      times.push(`one-way a->b (IPv6 link-local): ${hit.ms} ms`);
      expect(hit.line).toMatch(/traffic box-a -> box-b is lost/);
      await onlyNamed(p, ['one-way-loss']);
      expect((await p.counters(p.a))?.['probe.questions_answered'] ?? 0).toBeGreaterThan(answered);
    } finally {
      await p.s.tryRun('nft', ['delete', 'table', 'bridge', 'diag6']);
    }
    await healthyAgain(p);
    console.log(`diagnosis times (injection -> log line):\n  ${times.join('\n  ')}`);
  }, patience(120_000));

  it("a's daemon killed (box up): its kernel refuses b's probe at the link-local address (ICMPv6 port unreachable on the round's connected socket), b takes over at once", async () => {
    await rolesBack();
    const ll = await linkLocal(p.a);
    const esc = ll.replace(/[.:]/g, (c) => `\\${c}`);
    const before = p.b.log().length;
    p.a.proc!.child.kill('SIGKILL');
    await p.a.proc!.exited;
    await p.waitFor(async () => (await p.state(p.b)) === 'MASTER', () => `b MASTER${p.logs()}`);
    // Without the scope the connected socket's connect() failed (EINVAL): no refusal, the round ran its whole window.
    expect(p.b.log().slice(before)).toMatch(new RegExp(`probe of the twin \\(serial link silent for \\d+ ms\\): the twin's kernel at ${esc} refused the probe`));
    expect(p.b.log().slice(before)).not.toMatch(/EINVAL/);
    p.start(p.a);
    await rolesBack();
  }, patience(120_000));
});
