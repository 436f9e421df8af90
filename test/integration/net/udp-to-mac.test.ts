// The diagnosis probe's questions as whole Ethernet frames to the twin's MAC (src/net/udp-frame.ts
// through the addon's AF_PACKET socket): they reach a UDP socket on the other box while the
// kernel's own path cannot, because the other box's ARP replies / neighbour advertisements are
// lost (as in a one-way fault: the direction towards us is cut). And they write no neighbour entry.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { inNetns, loadAddon, type NativeHandle } from '../../../src/net/native';
import { buildUdpFrame } from '../../../src/net/udp-frame';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { NetnsLab, type LabProcess, type Netns } from '../helpers/netns';
import { patience } from '../../helpers/patience';

const PORT = 17177;

interface Neigh { dst: string; lladdr?: string; state?: string[] }

describeRequiring([...NetnsLab.prerequisites, needsProgram('socat'), needsProgram('nft')], 'UDP frames to a known MAC', () => {
  let lab: NetnsLab;
  let a: Netns;
  let b: Netns;
  let aMac = '';
  let bMac = '';
  let handle: NativeHandle | undefined;
  let rx4: LabProcess;
  let rx6: LabProcess;

  beforeAll(async () => {
    lab = await NetnsLab.create();
    a = await lab.namespace('a');
    b = await lab.namespace('b');
    await lab.veth(a, 'va', b, 'vb');
    for (const [ns, ifn, v4, v6] of [[a, 'va', '10.79.0.1/24', 'fd00:79::1/64'], [b, 'vb', '10.79.0.2/24', 'fd00:79::2/64']] as const) {
      await lab.addr(ns, ifn, v4);
      await lab.addr(ns, ifn, v6);
    }
    const mac = async (ns: Netns, ifn: string) => (await ns.ipJson<{ address: string }[]>(['link', 'show', 'dev', ifn]))[0]!.address;
    aMac = await mac(a, 'va');
    bMac = await mac(b, 'vb');
    // b never answers ARP or neighbour solicitations: a's kernel cannot resolve b's address.
    const file = `${await lab.tmpdir()}/b.nft`;
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, 'table arp t {\n  chain out {\n    type filter hook output priority 0; policy drop;\n  }\n}\ntable ip6 t {\n  chain out {\n    type filter hook output priority 0;\n    icmpv6 type nd-neighbor-advert drop\n  }\n}\n');
    await b.run('nft', ['-f', file]);
    rx4 = b.spawn('socat', ['-u', `UDP4-RECV:${PORT}`, 'STDOUT']);
    rx6 = b.spawn('socat', ['-u', `UDP6-RECV:${PORT},ipv6only=1`, 'STDOUT']);
    await lab.waitFor(async () => {
      const r = await b.tryRun('ss', ['-Hlun', 'sport', '=', `:${PORT}`]);
      return r.stdout.trim().split('\n').filter(Boolean).length >= 2;
    }, { what: 'both socat receivers bound' });
    handle = inNetns(a.name, () => loadAddon().openPacket('va'));
  });

  afterAll(async () => {
    try {
      if (handle) loadAddon().close(handle);
    } finally {
      await lab?.cleanup();
    }
  });

  const neighbour = async (address: string): Promise<Neigh | undefined> =>
    (await a.ipJson<Neigh[]>(['neigh', 'show', 'to', address, 'dev', 'va'])).find((n) => n.dst === address);

  for (const [family, src, dst] of [[4, '10.79.0.1', '10.79.0.2'], [6, 'fd00:79::1', 'fd00:79::2']] as const) {
    it(`IPv${family}: the kernel's datagram is dropped with the neighbour entry FAILED; the frame to b's MAC arrives`, async () => {
      const rx = family === 4 ? rx4 : rx6;
      const sent = await a.tryRun('sh', ['-c', `printf 'kernel-${family}\\n' | socat -u - UDP${family}-SENDTO:${family === 6 ? `[${dst}]` : dst}:${PORT}`]);
      expect(sent.code, sent.stderr).toBe(0);
      // The datagram waits for the resolution, and is dropped when it fails.
      await lab.waitFor(async () => (await neighbour(dst))?.state?.includes('FAILED'), { timeoutMs: 30_000, what: `a's neighbour entry for ${dst} FAILED` });
      expect(rx.stdout).not.toContain(`kernel-${family}`);
      const payload = new TextEncoder().encode(`frame-${family}\n`);
      loadAddon().sendFrame(handle!, buildUdpFrame({ srcMac: aMac, dstMac: bMac, srcIp: src, dstIp: dst, srcPort: 40000 + family, dstPort: PORT, payload }));
      await lab.waitFor(() => rx.stdout.includes(`frame-${family}`), { what: `frame-${family} at b's socket` });
      // Nothing was written to a's neighbour table.
      expect((await neighbour(dst))?.state).not.toContain('PERMANENT');
    }, patience(60_000));
  }
});
