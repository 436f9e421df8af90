// VIPs on a real interface and their announcements reaching a neighbour: A adds/removes VIPs
// by rtnetlink (the addon's rtnlTalk, in A's namespace), sends gratuitous ARP / unsolicited NA
// from an AF_PACKET socket, and B's neighbour table follows. Linux updates an existing entry from a gratuitous ARP or an NA with
// Override (it creates none without arp_accept / accept_untracked_na), so B first holds a stale
// entry pointing at a wrong MAC, as a client does after a failover.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseIpv6 } from '../../../src/lib/ip';
import { buildGratuitousArp } from '../../../src/net/arp';
import { buildUnsolicitedNa } from '../../../src/net/ndisc';
import { Announcer } from '../../../src/net/announcer';
import { getInterface } from '../../../src/net/interfaces';
import { addVip, parseVip, presentVips, removeStaleVips, removeVip, type Vip } from '../../../src/net/vip';
import { describeRequiring } from '../../helpers/prerequisites';
import { type Netns, NetnsLab } from '../helpers/netns';

const WRONG_MAC = '02:00:00:00:00:99';

interface Neigh {
  dst: string;
  lladdr?: string;
  state?: string[];
}

function vip(text: string, label?: string): Vip {
  const r = parseVip(text, 'va', label);
  if (!r.ok) throw new Error(r.error);
  return r.vip;
}

describeRequiring(NetnsLab.prerequisites, 'VIPs and announcements in namespaces', () => {
  let lab: NetnsLab;
  let a: Netns;
  let b: Netns;
  let aMac = '';
  const announcers: Announcer[] = [];

  beforeAll(async () => {
    lab = await NetnsLab.create();
    a = await lab.namespace('a');
    b = await lab.namespace('b');
    await lab.veth(a, 'va', b, 'vb');
    await lab.addr(a, 'va', '10.78.0.1/24');
    await lab.addr(b, 'vb', '10.78.0.2/24');
    await lab.addr(a, 'va', 'fd00:78::1/64');
    await lab.addr(b, 'vb', 'fd00:78::2/64');
    const info = await getInterface('va', { netns: a.name });
    if (!info.ok) throw new Error(info.error);
    aMac = info.value.mac;
  });

  afterAll(async () => {
    try {
      for (const x of announcers) x.close();
    } finally {
      await lab?.cleanup();
    }
  });

  const neighbour = async (address: string): Promise<Neigh | undefined> => {
    const list = await b.ipJson<Neigh[]>(['neigh', 'show', 'to', address, 'dev', 'vb']);
    return list.find((n) => n.dst === address);
  };

  it('adds an IPv4 VIP with a label and an IPv6 VIP without DAD, idempotently, and removes them', async () => {
    const ctx = { netns: a.name };
    const v4 = vip('10.78.0.100/24', 'va:vip1');
    const v6 = vip('fd00:78::100/64');
    expect(await addVip(v4, ctx)).toEqual({ ok: true, changed: true });
    expect(await addVip(v4, ctx)).toEqual({ ok: true, changed: false });
    expect(await addVip(v6, ctx)).toEqual({ ok: true, changed: true });
    expect(await addVip(v6, ctx)).toEqual({ ok: true, changed: false });

    const [link] = await a.ipJson<{ addr_info: Record<string, unknown>[] }[]>(['addr', 'show', 'dev', 'va']);
    const v4info = link!.addr_info.find((x) => x.local === '10.78.0.100');
    const v6info = link!.addr_info.find((x) => x.local === 'fd00:78::100');
    expect(v4info).toMatchObject({ prefixlen: 24, label: 'va:vip1' });
    expect(v6info).toMatchObject({ prefixlen: 64 });
    expect(v6info?.tentative).toBeUndefined(); // usable at once: nodad

    const present = await presentVips([v4, v6, vip('10.78.0.200/24')], ctx);
    expect(present.ok && present.present.map((v) => v.address)).toEqual(['10.78.0.100', 'fd00:78::100']);

    expect(await removeVip(v4, ctx)).toEqual({ ok: true, changed: true });
    expect(await removeVip(v4, ctx)).toEqual({ ok: true, changed: false });
    expect(await removeVip(v6, ctx)).toEqual({ ok: true, changed: true });
    const after = await presentVips([v4, v6], ctx);
    expect(after).toEqual({ ok: true, present: [] });
  });

  it('reports a real failure as an error value (unknown interface)', async () => {
    const r = await addVip({ ...vip('10.78.0.101/24'), ifname: 'nosuch0' }, { netns: a.name });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^cannot add VIP 10\.78\.0\.101\/24 to nosuch0: interface nosuch0 does not exist \(ENODEV\)$/);
  });

  it('reports the kernel refusing the address by netlink with the VIP, the interface and the errno (IPv6 disabled on the interface)', async () => {
    // A second veth in A only, IPv6 switched off on it: the kernel answers RTM_NEWADDR with an error.
    await a.run('ip', ['link', 'add', 'vnov6', 'type', 'veth', 'peer', 'name', 'vnov6p']);
    await a.run('sysctl', ['-q', '-w', 'net.ipv6.conf.vnov6.disable_ipv6=1']);
    const r = await addVip({ ...vip('fd00:79::100/64'), ifname: 'vnov6' }, { netns: a.name });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^cannot add VIP fd00:79::100\/64 to vnov6: the kernel refused \(RTM_NEWADDR E[A-Z]+: .+\)$/);
    // Removing what is not there is not a failure (idempotent), by netlink too.
    expect(await removeVip({ ...vip('fd00:79::100/64'), ifname: 'vnov6' }, { netns: a.name })).toEqual({ ok: true, changed: false });
  });

  it('removes stale VIPs at start-up, keeping only the ones this node owns', async () => {
    const ctx = { netns: a.name };
    const stale = vip('10.78.0.110/24');
    const owned = vip('10.78.0.111/24');
    const stale6 = vip('fd00:78::110/64');
    for (const v of [stale, owned, stale6]) expect((await addVip(v, ctx)).ok).toBe(true);
    const r = await removeStaleVips([stale, owned, stale6, vip('10.78.0.112/24')], (v) => v.address === owned.address, ctx);
    expect(r.errors).toEqual([]);
    expect(r.removed.map((v) => v.address).sort()).toEqual(['10.78.0.110', 'fd00:78::110']);
    const left = await presentVips([stale, owned, stale6], ctx);
    expect(left.ok && left.present.map((v) => v.address)).toEqual(['10.78.0.111']);
  });

  it('removes a stale VIP left with another prefix (the config changed its prefix since)', async () => {
    const ctx = { netns: a.name };
    expect((await addVip(vip('10.78.0.113/32'), ctx)).ok).toBe(true);
    const r = await removeStaleVips([vip('10.78.0.113/24')], () => false, ctx);
    expect(r.errors).toEqual([]);
    expect(r.removed.map((v) => `${v.address}/${v.prefixLength}`)).toEqual(['10.78.0.113/32']);
    const left = await presentVips([vip('10.78.0.113/32')], ctx);
    expect(left.ok && left.present).toEqual([]);
  });

  for (const kind of ['request', 'reply'] as const) {
    it(`gratuitous ARP (${kind}) moves B's neighbour entry for the VIP to A's MAC`, async () => {
      const address = kind === 'request' ? '10.78.0.120' : '10.78.0.121';
      await b.run('ip', ['neigh', 'replace', address, 'lladdr', WRONG_MAC, 'dev', 'vb', 'nud', 'stale']);
      expect((await neighbour(address))?.lladdr).toBe(WRONG_MAC);
      const ann = Announcer.open({ ifname: 'va', mac: aMac, netns: a.name, arpKind: kind });
      announcers.push(ann);
      expect(ann.announce(address)).toBeNull();
      await lab.waitFor(async () => (await neighbour(address))?.lladdr === aMac, { what: `B's ARP entry for ${address} -> ${aMac}` });
      expect(ann.counters).toEqual({ garpSent: 1, naSent: 0, errors: 0 });
    });
  }

  it("unsolicited NA (override) moves B's IPv6 neighbour entry for the VIP to A's MAC", async () => {
    const address = 'fd00:78::120';
    await b.run('ip', ['-6', 'neigh', 'replace', address, 'lladdr', WRONG_MAC, 'dev', 'vb', 'nud', 'stale']);
    expect((await neighbour(address))?.lladdr).toBe(WRONG_MAC);
    const ann = Announcer.open({ ifname: 'va', mac: aMac, netns: a.name });
    announcers.push(ann);
    expect(ann.announce(address)).toBeNull();
    await lab.waitFor(async () => (await neighbour(address))?.lladdr === aMac, { what: `B's NDP entry for ${address} -> ${aMac}` });
    expect(ann.counters.naSent).toBe(1);
  });

  it('our gratuitous ARP and unsolicited NA are byte-identical to the ones real keepalived sends', async () => {
    const info = await getInterface('vb', { netns: b.name });
    if (!info.ok) throw new Error(info.error);
    const bMac = info.value.mac;
    const dir = await lab.tmpdir();
    const conf = join(dir, 'keepalived.conf');
    await writeFile(
      conf,
      `global_defs {
  router_id ${b.name}
  vrrp_garp_master_delay 0
}
vrrp_instance G {
  state MASTER
  interface vb
  virtual_router_id 71
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.78.0.150/24
  }
}
vrrp_instance G6 {
  state MASTER
  interface vb
  version 3
  virtual_router_id 72
  priority 150
  advert_int 1
  virtual_ipaddress {
    fd00:78::150/64
  }
}
`,
    );
    // Raw pcap on stdout: 24-byte file header, then 16-byte record headers and frames.
    const cap = a.spawn('tcpdump', ['-i', 'va', '-U', '-n', '-w', '-', 'arp or (icmp6 and ip6[40] == 136)']);
    const chunks: Buffer[] = [];
    cap.child.stdout?.on('data', (d: Buffer) => chunks.push(d));
    await lab.waitFor(() => cap.stderr.includes('listening on'), { what: 'tcpdump ready' });
    const k = b.spawn('keepalived', ['-n', '-l', '-D', '-P', '-f', conf, '-p', join(dir, 'k.pid'), '-r', join(dir, 'v.pid')]);
    const vipBytes = Buffer.from([10, 78, 0, 150]);
    const frames = () => {
      const pcap = Buffer.concat(chunks);
      const out: Buffer[] = [];
      for (let off = 24; off + 16 <= pcap.length; ) {
        const caplen = pcap.readUInt32LE(off + 8);
        if (off + 16 + caplen > pcap.length) break;
        out.push(pcap.subarray(off + 16, off + 16 + caplen));
        off += 16 + caplen;
      }
      return out;
    };
    try {
      const garp = await lab.waitFor(
        () => frames().find((f) => f.length >= 42 && f.subarray(28, 32).equals(vipBytes) && f.subarray(38, 42).equals(vipBytes)),
        { what: "keepalived's gratuitous ARP", timeoutMs: 20_000 },
      );
      expect(Buffer.from(garp.subarray(0, 42)).toString('hex')).toBe(Buffer.from(buildGratuitousArp(bMac, '10.78.0.150', 'request')).toString('hex'));
      const vip6 = Buffer.from(parseIpv6('fd00:78::150')!);
      const na = await lab.waitFor(
        () => frames().find((f) => f.length >= 86 && f[54] === 136 && f.subarray(62, 78).equals(vip6)),
        { what: "keepalived's unsolicited NA", timeoutMs: 20_000 },
      );
      // B does not forward IPv6 (a fresh namespace), so keepalived leaves the Router flag clear.
      expect(Buffer.from(na).toString('hex')).toBe(Buffer.from(buildUnsolicitedNa({ mac: bMac, target: 'fd00:78::150' })).toString('hex'));
    } finally {
      await k.kill();
      await cap.kill();
    }
  });
});
