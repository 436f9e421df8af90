// Interface facts (ifindex, MAC, link flags, addresses) from rtnetlink dumps sent by the addon
// (rtnl-link.ts; `readInterfaces`), or from `ip -j addr` where the addon cannot load. Not
// /sys/class/net: sysfs shows the namespace it was mounted in, netlink and `ip -n NS` any namespace.
import type { Family } from '../vrrp/types';
import { canonicalAddress } from '../lib/ip';
import { type IpContext, runIp } from './ip-command';
import { inNetns, loadAddon, type TwinvipNetAddon } from './native';
import { decodeAddrDetailDump, decodeLinkDump, encodeAddrDetailDump, encodeLinkDump } from './rtnl-link';

export interface InterfaceAddress {
  family: Family;
  address: string;
  prefixLength: number;
  scope: string;
  label?: string;
  secondary: boolean;
}

export interface InterfaceInfo {
  name: string;
  ifindex: number;
  mac: string;
  mtu: number;
  /** Kernel operstate (UP, DOWN, LOWERLAYERDOWN, UNKNOWN, ...). */
  operstate: string;
  flags: string[];
  /** Administratively up and running (IFF_UP and IFF_RUNNING), as keepalived judges a link. */
  linkUp: boolean;
  addresses: InterfaceAddress[];
}

interface IpJsonLink {
  ifindex?: unknown;
  ifname?: unknown;
  flags?: unknown;
  mtu?: unknown;
  operstate?: unknown;
  address?: unknown;
  addr_info?: unknown;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Parses `ip -j addr show` (or `ip -j link show`) output. */
export function parseIpJson(text: string): ParseResult<InterfaceInfo[]> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `ip -j output is not JSON: ${(e as Error).message}` };
  }
  if (!Array.isArray(data)) return { ok: false, error: 'ip -j output is not an array' };
  const out: InterfaceInfo[] = [];
  for (const raw of data as IpJsonLink[]) {
    if (typeof raw.ifindex !== 'number' || typeof raw.ifname !== 'string') continue;
    const flags = Array.isArray(raw.flags) ? raw.flags.filter((f): f is string => typeof f === 'string') : [];
    const operstate = typeof raw.operstate === 'string' ? raw.operstate : 'UNKNOWN';
    const addresses: InterfaceAddress[] = [];
    for (const a of Array.isArray(raw.addr_info) ? (raw.addr_info as Record<string, unknown>[]) : []) {
      const family = a.family === 'inet' ? 4 : a.family === 'inet6' ? 6 : null;
      const address = typeof a.local === 'string' ? canonicalAddress(a.local) : undefined;
      if (!family || !address || typeof a.prefixlen !== 'number') continue;
      const entry: InterfaceAddress = {
        family,
        address,
        prefixLength: a.prefixlen,
        scope: typeof a.scope === 'string' ? a.scope : 'global',
        secondary: a.secondary === true,
      };
      if (typeof a.label === 'string') entry.label = a.label;
      addresses.push(entry);
    }
    out.push({
      name: raw.ifname,
      ifindex: raw.ifindex,
      mac: typeof raw.address === 'string' ? raw.address.toLowerCase() : '00:00:00:00:00:00',
      mtu: typeof raw.mtu === 'number' ? raw.mtu : 0,
      operstate,
      flags,
      // RUNNING is not printed by ip; LOWER_UP plus an operstate other than DOWN is its equivalent.
      linkUp: flags.includes('UP') && flags.includes('LOWER_UP') && operstate !== 'DOWN' && operstate !== 'LOWERLAYERDOWN',
      addresses,
    });
  }
  return { ok: true, value: out };
}

/**
 * The address VRRP sends from: IPv4 the first non-secondary global address (RFC 3768 5.2.1
 * "primary IP address"); IPv6 the link-local address (RFC 5798 5.1.2.2).
 */
export function primaryAddress(info: InterfaceInfo, family: Family): string | null {
  if (family === 4) {
    const a = info.addresses.find((x) => x.family === 4 && !x.secondary && x.scope !== 'host');
    return a ? a.address : null;
  }
  const ll = info.addresses.find((x) => x.family === 6 && x.scope === 'link');
  return ll ? ll.address : null;
}

export async function getInterface(ifname: string, ctx: IpContext = {}): Promise<ParseResult<InterfaceInfo>> {
  const r = await runIp(['-j', 'addr', 'show', 'dev', ifname], ctx);
  if (!r.ok) return { ok: false, error: r.error };
  const parsed = parseIpJson(r.stdout);
  if (!parsed.ok) return parsed;
  const info = parsed.value.find((i) => i.name === ifname);
  return info ? { ok: true, value: info } : { ok: false, error: `interface ${ifname} not found` };
}

/** Why an interface could not be read: the call that failed and its errno when known (ENODEV: no such interface). */
export type InterfaceResult = { ok: true; value: InterfaceInfo } | { ok: false; error: string; call: string; errno?: string };

let seq = Math.floor(Math.random() * 0x3fffffff);

/**
 * The named interfaces, in ctx.netns when set: one RTM_GETLINK and one RTM_GETADDR dump from the
 * addon (no child process: this is on the HA thread's start path), else `ip -j addr show dev`
 * per interface where the addon cannot load or a test names its own ip binary.
 */
export async function readInterfaces(names: readonly string[], ctx: IpContext = {}): Promise<Map<string, InterfaceResult>> {
  const out = new Map<string, InterfaceResult>();
  const nl = ctx.ipBinary ? undefined : netlinkAddon();
  if (nl) {
    seq = (seq + 2) & 0x3fffffff;
    const linkSeq = seq;
    const addrSeq = seq + 1;
    let replies: { links: Buffer; addrs: Buffer };
    try {
      replies = inNetns(ctx.netns, () => ({ links: nl.rtnlTalk(encodeLinkDump(linkSeq)), addrs: nl.rtnlTalk(encodeAddrDetailDump(addrSeq)) }));
    } catch (err) {
      const e = err as Error & { code?: string };
      for (const n of names) out.set(n, { ok: false, error: `netlink dump failed (${e.message})`, call: 'RTM_GETLINK', ...(e.code ? { errno: e.code } : {}) });
      return out;
    }
    const links = decodeLinkDump(replies.links);
    const addrs = decodeAddrDetailDump(replies.addrs);
    for (const n of names) {
      if (!links.ok) out.set(n, { ok: false, error: `the kernel refused (${links.code})`, call: 'RTM_GETLINK', errno: links.code });
      else if (!addrs.ok) out.set(n, { ok: false, error: `the kernel refused (${addrs.code})`, call: 'RTM_GETADDR', errno: addrs.code });
      else {
        const link = links.links.find((l) => l.name === n);
        if (!link) out.set(n, { ok: false, error: 'no such interface in this namespace', call: 'RTM_GETLINK', errno: 'ENODEV' });
        else out.set(n, { ok: true, value: { ...link, addresses: addrs.byIndex.get(link.ifindex) ?? [] } });
      }
    }
    return out;
  }
  for (const n of names) {
    const r = await getInterface(n, ctx);
    if (r.ok) {
      out.set(n, r);
      continue;
    }
    // `ip` says 'Device "eth9" does not exist.': the kernel's ENODEV.
    const call = `ip -j addr show dev ${n}`;
    const missing = /does not exist|not found|Cannot find device/i.test(r.error);
    const said = r.error.startsWith(`ip ${call.slice(3)}: `) ? r.error.slice(call.length + 2) : r.error;
    out.set(n, { ok: false, error: said.trim(), call, ...(missing ? { errno: 'ENODEV' } : {}) });
  }
  return out;
}

function netlinkAddon(): TwinvipNetAddon | undefined {
  try {
    const addon = loadAddon();
    return typeof addon.rtnlTalk === 'function' ? addon : undefined;
  } catch {
    return undefined;
  }
}
