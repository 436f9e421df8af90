// The VRRP transport over real links: two namespaces A and B on a veth pair, raw protocol-112
// sockets from the addon, and real keepalived as the far end. Bytes are hand-made: this proves
// the transport (TTL/hop limit, addresses, ifindex, own-packet handling), not the codec.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ReceivedPacket, VrrpSocket } from '../../../src/net/vrrp-socket';
import { describeRequiring } from '../../helpers/prerequisites';
import { type Netns, NetnsLab } from '../helpers/netns';

interface Addr {
  ifindex: number;
  addr_info: { family: string; local: string; scope: string }[];
}

class Inbox {
  readonly packets: ReceivedPacket[] = [];
  push = (p: ReceivedPacket) => void this.packets.push(p);
  constructor(private readonly lab: NetnsLab) {}
  wait(pred: (p: ReceivedPacket) => boolean, what: string, timeoutMs = 10_000): Promise<ReceivedPacket> {
    return this.lab.waitFor(() => this.packets.find(pred), { timeoutMs, what });
  }
}

// A VRRPv2-shaped advert: version 2 type 1, VRID, priority, one address, auth none, 1 s.
function v2Advert(vrid: number, priority: number): Uint8Array {
  return Uint8Array.from([0x21, vrid, priority, 1, 0, 1, 0xbe, 0xef, 10, 77, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0]);
}

describeRequiring(NetnsLab.prerequisites, 'VRRP transport in namespaces', () => {
  let lab: NetnsLab;
  let a: Netns;
  let b: Netns;
  let aIndex = 0;
  let bIndex = 0;
  let aLinkLocal = '';
  let bLinkLocal = '';
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
    await lab.addr(a, 'va', '10.77.0.1/24');
    await lab.addr(a, 'va', '10.77.0.11/24');
    await lab.addr(b, 'vb', '10.77.0.2/24');
    await lab.addr(a, 'va', 'fd00:77::1/64');
    await lab.addr(a, 'va', 'fd00:77::11/64');
    await lab.addr(b, 'vb', 'fd00:77::2/64');
    const info = async (ns: Netns, ifname: string) => {
      const [x] = await ns.ipJson<Addr[]>(['addr', 'show', 'dev', ifname]);
      const ll = x!.addr_info.find((i) => i.family === 'inet6' && i.scope === 'link');
      return { ifindex: x!.ifindex, ll: ll?.local ?? '' };
    };
    const ai = await lab.waitFor(async () => ((await info(a, 'va')).ll ? info(a, 'va') : null), { what: 'link-local on va' });
    const bi = await lab.waitFor(async () => ((await info(b, 'vb')).ll ? info(b, 'vb') : null), { what: 'link-local on vb' });
    aIndex = ai.ifindex;
    aLinkLocal = ai.ll;
    bIndex = bi.ifindex;
    bLinkLocal = bi.ll;
  });

  afterAll(async () => {
    try {
      for (const s of sockets) s.close();
    } finally {
      await lab?.cleanup();
    }
  });

  it('IPv4 multicast: B receives A\'s advert with TTL 255, addresses and ifindex; A never sees its own', async () => {
    const inA = new Inbox(lab);
    const inB = new Inbox(lab);
    const sa = open({ family: 4, ifname: 'va', netns: a.name, ownAddresses: ['10.77.0.1', '10.77.0.11'], onPacket: inA.push });
    const sb = open({ family: 4, ifname: 'vb', netns: b.name, ownAddresses: ['10.77.0.2'], onPacket: inB.push });
    expect(sa.send(v2Advert(51, 100))).toEqual([]);
    const got = await inB.wait((p) => p.source === '10.77.0.1', 'advert from A in B');
    expect(got).toMatchObject({ family: 4, destination: '224.0.0.18', ttl: 255, ifindex: bIndex });
    expect([...got.payload]).toEqual([...v2Advert(51, 100)]);
    // B answers; once A has B's advert, anything of A's own would have arrived before it.
    expect(sb.send(v2Advert(51, 90))).toEqual([]);
    await inA.wait((p) => p.source === '10.77.0.2', 'advert from B in A');
    expect(inA.packets.map((p) => p.source)).toEqual(['10.77.0.2']);
    expect(inA.packets[0]!.ifindex).toBe(aIndex);
    expect(sa.counters).toMatchObject({ sent: 1, received: 1, sendErrors: 0 });
    sa.close();
    sb.close();
  });

  it('drops and counts packets from an address of our own', async () => {
    const inA = new Inbox(lab);
    // Pretend B's address is ours (as when our own advert loops back through a switch).
    const sa = open({ family: 4, ifname: 'va', netns: a.name, ownAddresses: ['10.77.0.1', '10.77.0.2'], onPacket: inA.push });
    const sb = open({ family: 4, ifname: 'vb', netns: b.name, onPacket: () => undefined });
    await lab.waitFor(
      () => {
        sb.send(v2Advert(51, 90));
        return sa.counters.droppedOwn > 0;
      },
      { what: 'own-address drop', intervalMs: 100 },
    );
    expect(inA.packets).toEqual([]);
    sa.close();
    sb.close();
  });

  it('IPv6 multicast: hop limit 255 from the link-local source to ff02::12', async () => {
    const inB = new Inbox(lab);
    const inA = new Inbox(lab);
    const sa = open({ family: 6, ifname: 'va', netns: a.name, ownAddresses: [aLinkLocal], onPacket: inA.push });
    open({ family: 6, ifname: 'vb', netns: b.name, onPacket: inB.push });
    const advert = Uint8Array.from([0x31, 52, 100, 1, 0, 100, 0xbe, 0xef, ...new Uint8Array(16).fill(0xfd, 0, 1)]);
    expect(sa.send(advert)).toEqual([]);
    const got = await inB.wait((p) => p.source === aLinkLocal, 'IPv6 advert in B');
    expect(got).toMatchObject({ family: 6, destination: 'ff02::12', ttl: 255, ifindex: bIndex });
    expect([...got.payload]).toEqual([...advert]);
    expect(inA.packets).toEqual([]);
  });

  it('unicast to a peer from a chosen source address (IPv4 and IPv6)', async () => {
    const inB4 = new Inbox(lab);
    const inB6 = new Inbox(lab);
    const a4 = open({ family: 4, ifname: 'va', netns: a.name, unicastPeers: ['10.77.0.2'], source: '10.77.0.11', onPacket: () => undefined });
    const a6 = open({ family: 6, ifname: 'va', netns: a.name, unicastPeers: ['fd00:77::2'], source: 'fd00:77::11', onPacket: () => undefined });
    open({ family: 4, ifname: 'vb', netns: b.name, unicastPeers: ['10.77.0.11'], onPacket: inB4.push });
    open({ family: 6, ifname: 'vb', netns: b.name, unicastPeers: ['fd00:77::11'], onPacket: inB6.push });
    expect(a4.send(v2Advert(53, 100))).toEqual([]);
    expect(a6.send(Uint8Array.from([0x31, 53, 100, 0, 0, 100, 0, 0]))).toEqual([]);
    const p4 = await inB4.wait((p) => p.payload[1] === 53, 'unicast IPv4 advert');
    expect(p4).toMatchObject({ source: '10.77.0.11', destination: '10.77.0.2', ttl: 255, ifindex: bIndex });
    const p6 = await inB6.wait((p) => p.payload[1] === 53, 'unicast IPv6 advert');
    expect(p6).toMatchObject({ source: 'fd00:77::11', destination: 'fd00:77::2', ttl: 255, ifindex: bIndex });
  });

  it('a socket may close itself from inside its receive callback', async () => {
    const got: ReceivedPacket[] = [];
    const witness = new Inbox(lab);
    const sa = open({ family: 4, ifname: 'va', netns: a.name, onPacket: () => undefined });
    open({ family: 4, ifname: 'vb', netns: b.name, onPacket: witness.push });
    const sb: VrrpSocket = open({
      family: 4,
      ifname: 'vb',
      netns: b.name,
      onPacket: (p) => {
        got.push(p);
        sb.close();
      },
    });
    // Three packets queued before B's callback first runs: B reads one, closes, reads no more.
    for (let i = 0; i < 3; i++) expect(sa.send(v2Advert(54, 100))).toEqual([]);
    // A second socket in B gets the same packets: once it has all three, B's closed one had its chance.
    await lab.waitFor(() => witness.packets.filter((p) => p.payload[1] === 54).length === 3, { what: 'all three in B' });
    expect(got.length).toBe(1);
    expect(sb.closed).toBe(true);
    expect(sa.sendTo(v2Advert(54, 100), '224.0.0.18')).toBeNull(); // A unaffected
  });

  it('a send error is a value with the errno name, not an exception', async () => {
    // An interface that is down, as a NIC whose link was cut.
    await a.run('ip', ['link', 'add', 'dum0', 'type', 'veth', 'peer', 'name', 'dum1']);
    const sa = open({ family: 4, ifname: 'dum0', netns: a.name, onPacket: () => undefined });
    const err = sa.sendTo(v2Advert(51, 100), '224.0.0.18');
    expect(err?.code).toBe('ENETUNREACH'); // what Linux reports for a raw send on a down link
    expect(sa.counters.sendErrors).toBe(1);
  });

  it('opening on a missing interface fails with ENODEV', () => {
    expect(() => VrrpSocket.open({ family: 4, ifname: 'nosuch0', netns: a.name, onPacket: () => undefined })).toThrow(
      expect.objectContaining({ code: 'ENODEV' }),
    );
  });

  it('receives real keepalived adverts (VRRPv2 IPv4 and VRRPv3 IPv6) with TTL/hop limit 255', async () => {
    const dir = await lab.tmpdir();
    const conf = join(dir, 'keepalived.conf');
    await writeFile(
      conf,
      `global_defs {
  router_id ${b.name}
  vrrp_garp_master_delay 0
}
vrrp_instance V4 {
  state MASTER
  interface vb
  virtual_router_id 61
  priority 150
  advert_int 1
  virtual_ipaddress {
    10.77.0.161/24
  }
}
vrrp_instance V6 {
  state MASTER
  interface vb
  version 3
  virtual_router_id 62
  priority 150
  advert_int 1
  virtual_ipaddress {
    fd00:77::162/64
  }
}
`,
    );
    const inA4 = new Inbox(lab);
    const inA6 = new Inbox(lab);
    open({ family: 4, ifname: 'va', netns: a.name, ownAddresses: ['10.77.0.1', '10.77.0.11'], onPacket: inA4.push });
    open({ family: 6, ifname: 'va', netns: a.name, ownAddresses: [aLinkLocal], onPacket: inA6.push });
    const k = b.spawn('keepalived', ['-n', '-l', '-D', '-P', '-f', conf, '-p', join(dir, 'k.pid'), '-r', join(dir, 'v.pid')]);
    try {
      const p4 = await inA4.wait((p) => p.payload[1] === 61, 'keepalived IPv4 advert', 20_000);
      expect(p4).toMatchObject({ source: '10.77.0.2', destination: '224.0.0.18', ttl: 255, ifindex: aIndex });
      expect(p4.payload[0]).toBe(0x21); // VRRPv2 advertisement
      const p6 = await inA6.wait((p) => p.payload[1] === 62, 'keepalived IPv6 advert', 20_000);
      expect(p6).toMatchObject({ source: bLinkLocal, destination: 'ff02::12', ttl: 255, ifindex: aIndex });
      expect(p6.payload[0]).toBe(0x31); // VRRPv3 advertisement
    } finally {
      await k.kill();
    }
    expect(k.stderr + k.stdout).toContain('Entering MASTER STATE');
  });
});
