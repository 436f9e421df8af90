// The VRRP socket on the wire and under a burst, in two namespaces on a veth pair:
// - our adverts carry the IP header fields keepalived 2.2.7 puts in its own (it builds the IPv4
//   header itself: TOS 0xc0, frag_off 0, i.e. DF clear; IPv6 traffic class 0xc0), compared
//   field by field with a real keepalived's adverts captured by tcpdump on the same link;
// - a burst the receiver cannot read in time is accounted for: every datagram sent is either
//   read or in the kernel's drop count (SO_RXQ_OVFL in-band, SO_MEMINFO on demand).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RECEIVE_BUFFER_BYTES, VrrpSocket } from '../../../src/net/vrrp-socket';
import { type LabProcess, type Netns, NetnsLab } from '../helpers/netns';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';

function v2Advert(vrid: number, priority: number): Uint8Array {
  return Uint8Array.from([0x21, vrid, priority, 1, 0, 1, 0xbe, 0xef, 10, 78, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0]);
}

/** The IP header part of `tcpdump -v` lines: "tos 0xc0, ttl 255, id 0, offset 0, flags [none]". */
function ipFields(line: string): { tos: string; flags: string } | { tclass: string } | undefined {
  const v4 = /\(tos (0x[0-9a-f]+)(?:,[^,]*)?, ttl \d+, id \d+, offset \d+, flags \[([^\]]*)\]/.exec(line);
  if (v4) return { tos: v4[1]!, flags: v4[2]! };
  const v6 = /\(class (0x[0-9a-f]+), (?:flowlabel 0x[0-9a-f]+, )?hlim \d+/.exec(line);
  if (v6) return { tclass: v6[1]! };
  return undefined;
}

describeRequiring([...NetnsLab.prerequisites, needsProgram('keepalived'), needsProgram('tcpdump')], 'VRRP socket: header fields like keepalived, and every datagram of a burst accounted for', () => {
  let lab: NetnsLab;
  let a: Netns;
  let b: Netns;
  const sockets: VrrpSocket[] = [];
  const open = (opts: Parameters<typeof VrrpSocket.open>[0]) => {
    const s = VrrpSocket.open(opts);
    sockets.push(s);
    return s;
  };

  beforeAll(async () => {
    lab = await NetnsLab.create();
    a = await lab.namespace('a');
    b = await lab.namespace('b');
    await lab.veth(a, 'va', b, 'vb');
    await lab.addr(a, 'va', '10.78.0.1/24');
    await lab.addr(b, 'vb', '10.78.0.2/24');
    await lab.addr(a, 'va', 'fd00:78::1/64');
    await lab.addr(b, 'vb', 'fd00:78::2/64');
  });

  afterAll(async () => {
    try {
      for (const s of sockets) s.close();
    } finally {
      await lab?.cleanup();
    }
  });

  async function tcpdump(ns: Netns, ifname: string, filter: string): Promise<LabProcess> {
    const p = ns.spawn('tcpdump', ['-l', '-v', '-n', '--immediate-mode', '-i', ifname, filter]);
    await lab.waitFor(() => /listening on/.test(p.stderr) || (!p.running && Promise.reject(new Error(p.stderr))), { what: 'tcpdump listening' });
    return p;
  }

  it('IPv4 TOS 0xc0 and DF clear, IPv6 traffic class 0xc0: the same fields as keepalived 2.2.7 sets', async () => {
    const cap = await tcpdump(b, 'vb', 'ip proto 112 or ip6 proto 112');
    const dir = await lab.tmpdir();
    const conf = join(dir, 'keepalived.conf');
    await writeFile(
      conf,
      [
        'global_defs {\n  router_id ka\n}',
        'vrrp_instance V4 {\n  state MASTER\n  interface va\n  virtual_router_id 81\n  priority 150\n  advert_int 1\n  virtual_ipaddress {\n    10.78.0.100/24\n  }\n}',
        'vrrp_instance V6 {\n  state MASTER\n  interface va\n  version 3\n  virtual_router_id 82\n  priority 150\n  advert_int 1\n  virtual_ipaddress {\n    fd00:78::100/64\n  }\n}',
      ].join('\n') + '\n',
    );
    // `tcpdump -v` prints an IPv4 header on the line before the VRRP fields, an IPv6 one on the same line.
    const head = (vrid: number) => {
      const l = cap.stdout.split('\n');
      for (let i = 1; i < l.length; i++) if (new RegExp(`vrid ${vrid},`).test(l[i]!)) return ipFields(l[i]!) ?? ipFields(l[i - 1]!);
      return undefined;
    };
    const k = a.spawn('keepalived', ['-n', '-l', '-D', '-P', '-f', conf, '-p', join(dir, 'k.pid'), '-r', join(dir, 'v.pid')]);
    try {
      const s4 = open({ family: 4, ifname: 'va', netns: a.name, onPacket: () => undefined });
      const s6 = open({ family: 6, ifname: 'va', netns: a.name, onPacket: () => undefined });
      expect(s4.stats()?.degraded).toBe('');
      expect(s4.sendTo(v2Advert(91, 100), '224.0.0.18', '10.78.0.1')).toBeNull();
      expect(s6.sendTo(Uint8Array.from([0x31, 92, 100, 0, 0, 100, 0, 0]), 'ff02::12')).toBeNull();
      // keepalived's first adverts: one per instance is enough to compare.
      await lab
        .waitFor(() => [81, 82, 91, 92].every((v) => head(v) !== undefined), { timeoutMs: 20_000, what: 'adverts of VRID 81, 82, 91, 92 captured' })
        .catch((e: Error) => {
          throw new Error(`${e.message}\n${cap.stdout}\n${k.stdout}${k.stderr}`);
        });
    } finally {
      // The next test counts every datagram on this link: keepalived must be gone.
      await k.kill();
      await cap.kill();
    }
    // keepalived builds the header itself (IP_HDRINCL) with tos 0xc0 and frag_off 0.
    expect(head(81)).toEqual({ tos: '0xc0', flags: 'none' });
    expect(head(91)).toEqual(head(81));
    expect(head(82)).toEqual({ tclass: '0xc0' });
    expect(head(92)).toEqual(head(82));
  });

  it('a burst nobody reads in time: read + kernel drops = sent, the drops reported in-band (SO_RXQ_OVFL) and on demand', async () => {
    const sent = 2000;
    const tx = open({ family: 4, ifname: 'va', netns: a.name, onPacket: () => undefined });
    // A small buffer so the burst overflows it for sure; this process sends the whole burst
    // before its event loop lets the receiver read anything.
    const rx = open({ family: 4, ifname: 'vb', netns: b.name, receiveBufferBytes: 16 * 1024, onPacket: () => undefined });
    const linkDrops = async () => {
      const [s] = await b.ipJson<{ stats64: { rx: { dropped: number } } }[]>(['-s', 'link', 'show', 'dev', 'vb']);
      return s!.stats64.rx.dropped;
    };
    const dropsBefore = await linkDrops();
    let ok = 0;
    for (let i = 0; i < sent; i++) if (tx.sendTo(v2Advert(93, 100), '224.0.0.18') === null) ok++;
    expect(ok).toBe(sent);
    await lab.waitFor(() => rx.counters.read + (rx.stats()?.drops ?? 0) >= sent, { what: `all ${sent} read or dropped: ${JSON.stringify(rx.counters)}` });
    expect(await linkDrops()).toBe(dropsBefore); // nothing lost before the socket
    const st = rx.stats()!;
    expect(st.drops).toBeGreaterThan(0);
    expect(rx.counters.read + st.drops).toBe(sent);
    expect(rx.counters.kernelDrops).toBe(st.drops);
    expect(rx.counters.received).toBe(rx.counters.read);
    expect(st.rcvbuf).toBe(2 * 16 * 1024); // the kernel doubles what is asked for
  });

  it('the default receive buffer is sized for a burst (1 MiB asked, above net.core.rmem_default)', () => {
    const rx = open({ family: 4, ifname: 'vb', netns: b.name, onPacket: () => undefined });
    expect(rx.stats()!.rcvbuf).toBe(2 * RECEIVE_BUFFER_BYTES);
  });
});
