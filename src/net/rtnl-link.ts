// The interface facts `ip -j addr show dev IF` gives (interfaces.ts InterfaceInfo), from two
// rtnetlink dumps instead of an `ip` child: RTM_GETLINK (name, index, flags, MTU, MAC, operstate)
// and RTM_GETADDR (addresses with scope, secondary flag and label). Pure: encoded and decoded here
// (unit-tested without a kernel), sent by the addon's rtnlTalk. On the start path of the HA
// thread: each `ip` was a fork+exec of a copy of the daemon, 2 ms idle, tens to hundreds of ms on
// a loaded box, three per interface before the instances reach BACKUP (bench/README.md "start").
// The decoded facts are those iproute2 prints (ipaddress.c), so both sources give equal objects.
import { formatIp } from '../lib/ip';
import type { Family } from '../vrrp/types';
import type { InterfaceAddress, InterfaceInfo } from './interfaces';
import { attrs, dumpRequest, walkDump as walk, type DumpError } from './netlink-message';

const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const RTM_NEWADDR = 20;
const RTM_GETADDR = 22;
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_OPERSTATE = 16;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_LABEL = 3;
const IFA_FLAGS = 8;
const IFA_F_SECONDARY = 0x01;
const AF_INET = 2;
const AF_INET6 = 10;

const OPERSTATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'];
/** iproute2's names of the link flags, in its order (print_link_flags). */
const LINK_FLAGS: [number, string][] = [
  [0x8, 'LOOPBACK'],
  [0x2, 'BROADCAST'],
  [0x10, 'POINTOPOINT'],
  [0x1000, 'MULTICAST'],
  [0x80, 'NOARP'],
  [0x200, 'ALLMULTI'],
  [0x100, 'PROMISC'],
  [0x400, 'MASTER'],
  [0x800, 'SLAVE'],
  [0x4, 'DEBUG'],
  [0x8000, 'DYNAMIC'],
  [0x4000, 'AUTOMEDIA'],
  [0x2000, 'PORTSEL'],
  [0x20, 'NOTRAILERS'],
  [0x1, 'UP'],
  [0x10000, 'LOWER_UP'],
  [0x20000, 'DORMANT'],
  [0x40000, 'ECHO'],
];
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const SCOPES = new Map([[0, 'global'], [200, 'site'], [253, 'link'], [254, 'host'], [255, 'nowhere']]);


export type { DumpError };

/** RTM_GETLINK dump of every interface of the namespace (`ip link show`). */
export function encodeLinkDump(seq: number): Buffer {
  return dumpRequest(RTM_GETLINK, 16, seq);
}

/** RTM_GETADDR dump of every address of the namespace (`ip addr show`). */
export function encodeAddrDetailDump(seq: number): Buffer {
  return dumpRequest(RTM_GETADDR, 8, seq);
}

const cString = (v: Buffer) => {
  const nul = v.indexOf(0);
  return v.subarray(0, nul < 0 ? v.length : nul).toString('utf8');
};

/** The interfaces of an RTM_GETLINK dump reply, without addresses. */
export function decodeLinkDump(reply: Uint8Array): { ok: true; links: InterfaceInfo[] } | DumpError {
  const links: InterfaceInfo[] = [];
  const err = walk(reply, (b, type, at, len) => {
    if (type !== RTM_NEWLINK || len < 32) return;
    const ifindex = b.readInt32LE(at + 20);
    const bits = b.readUInt32LE(at + 24);
    let name: string | undefined;
    let mac = '00:00:00:00:00:00';
    let mtu = 0;
    let operstate = 'UNKNOWN';
    attrs(b, at + 32, at + len, (t, v) => {
      if (t === IFLA_IFNAME) name = cString(v);
      else if (t === IFLA_ADDRESS) mac = [...v].map((x) => x.toString(16).padStart(2, '0')).join(':');
      else if (t === IFLA_MTU && v.length >= 4) mtu = v.readUInt32LE(0);
      else if (t === IFLA_OPERSTATE && v.length >= 1) operstate = OPERSTATES[v[0]!] ?? 'UNKNOWN';
    });
    if (name === undefined) return;
    const flags = LINK_FLAGS.filter(([bit]) => bits & bit).map(([, n]) => n);
    // iproute2 prints NO-CARRIER first for a link that is up without IFF_RUNNING.
    if (bits & IFF_UP && !(bits & IFF_RUNNING)) flags.unshift('NO-CARRIER');
    links.push({
      name,
      ifindex,
      mac,
      mtu,
      operstate,
      flags,
      // As parseIpJson (interfaces.ts) judges the same facts from `ip -j`.
      linkUp: flags.includes('UP') && flags.includes('LOWER_UP') && operstate !== 'DOWN' && operstate !== 'LOWERLAYERDOWN',
      addresses: [],
    });
  });
  return err ?? { ok: true, links };
}

/** The addresses of an RTM_GETADDR dump reply by interface index, as `ip -j addr` lists them. */
export function decodeAddrDetailDump(reply: Uint8Array): { ok: true; byIndex: Map<number, InterfaceAddress[]> } | DumpError {
  const byIndex = new Map<number, InterfaceAddress[]>();
  const err = walk(reply, (b, type, at, len) => {
    if (type !== RTM_NEWADDR || len < 24) return;
    const af = b.readUInt8(at + 16);
    const family: Family | undefined = af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined;
    if (!family) return;
    const prefixLength = b.readUInt8(at + 17);
    let flags = b.readUInt8(at + 18);
    const scope = b.readUInt8(at + 19);
    const ifindex = b.readUInt32LE(at + 20);
    let local: Buffer | undefined;
    let address: Buffer | undefined;
    let label: string | undefined;
    attrs(b, at + 24, at + len, (t, v) => {
      if (t === IFA_LOCAL) local = v;
      else if (t === IFA_ADDRESS) address = v;
      else if (t === IFA_LABEL) label = cString(v);
      else if (t === IFA_FLAGS && v.length >= 4) flags = v.readUInt32LE(0);
    });
    // iproute2 shows IFA_LOCAL when present (IFA_ADDRESS is the peer on a point-to-point link).
    const bytes = local ?? address;
    if (!bytes || bytes.length !== (family === 4 ? 4 : 16)) return;
    const entry: InterfaceAddress = {
      family,
      address: formatIp(bytes, family),
      prefixLength,
      scope: SCOPES.get(scope) ?? String(scope),
      // The same bit is "temporary" for IPv6 (iproute2 prints it so), never "secondary".
      secondary: family === 4 && (flags & IFA_F_SECONDARY) !== 0,
    };
    if (label !== undefined) entry.label = label;
    const list = byIndex.get(ifindex) ?? [];
    list.push(entry);
    byIndex.set(ifindex, list);
  });
  return err ?? { ok: true, byIndex };
}
