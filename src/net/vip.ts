// VIP add/remove by rtnetlink from the addon (rtnl-addr.ts: one round trip in this process, no
// child on the handover path); `ip addr` only where the addon cannot be loaded or a test names
// its own ip binary. Idempotent both ways: adding an address already present and removing one
// already gone are successes, so start-up clean-up, a crash of the previous run and a repeated
// transition all converge.
import { getSystemErrorMessage } from 'node:util';
import type { Family } from '../vrrp/types';
import { parseCidr } from '../lib/ip';
import { getInterface } from './interfaces';
import { type IpContext, runIp } from './ip-command';
import { inNetns, isNativeError, loadAddon, type TwinvipNetAddon } from './native';
import { decodeAck, encodeAddrRequest } from './rtnl-addr';
import { decodeAddrDetailDump, encodeAddrDetailDump } from './rtnl-link';

export interface Vip {
  /** Canonical address text. */
  address: string;
  prefixLength: number;
  family: Family;
  ifname: string;
  /** IPv4 only; must be "IFNAME:something" (iproute2 rule), at most 15 characters. */
  label?: string;
}

export type VipResult = { ok: true; changed: boolean } | { ok: false; error: string };

/** Builds a Vip from "ADDR[/LEN]" (default prefix: host, /32 or /128 — keepalived's default). */
export function parseVip(text: string, ifname: string, label?: string): { ok: true; vip: Vip } | { ok: false; error: string } {
  const c = parseCidr(text.trim());
  if (!c) return { ok: false, error: `${JSON.stringify(text)} is not an address or address/prefix` };
  const vip: Vip = { address: c.address, prefixLength: c.prefixLength, family: c.family, ifname };
  if (label !== undefined) {
    if (c.family === 6) return { ok: false, error: `label ${JSON.stringify(label)}: labels exist only for IPv4 addresses` };
    if (!label.startsWith(`${ifname}:`) || label.length > 15)
      return { ok: false, error: `label ${JSON.stringify(label)} must start with "${ifname}:" and be at most 15 characters` };
    vip.label = label;
  }
  return { ok: true, vip };
}

function addArgs(vip: Vip): string[] {
  const args = [vip.family === 4 ? '-4' : '-6', 'addr', 'add', `${vip.address}/${vip.prefixLength}`, 'dev', vip.ifname];
  if (vip.label) args.push('label', vip.label);
  // No duplicate address detection: the VIP must answer at once, and the peer that had it is
  // (by VRRP) no longer using it; DAD would keep it "tentative" for a second or more.
  if (vip.family === 6) args.push('nodad');
  return args;
}

export async function addVip(vip: Vip, ctx: IpContext = {}): Promise<VipResult> {
  const nl = netlink(ctx);
  if (nl) return netlinkVip(nl, 'add', vip, ctx);
  const r = await runIp(addArgs(vip), ctx);
  if (r.ok) return { ok: true, changed: true };
  if (/File exists|already assigned/i.test(r.error)) return { ok: true, changed: false };
  return { ok: false, error: r.error };
}

export async function removeVip(vip: Vip, ctx: IpContext = {}): Promise<VipResult> {
  const nl = netlink(ctx);
  if (nl) return netlinkVip(nl, 'del', vip, ctx);
  const args = [vip.family === 4 ? '-4' : '-6', 'addr', 'del', `${vip.address}/${vip.prefixLength}`, 'dev', vip.ifname];
  const r = await runIp(args, ctx);
  if (r.ok) return { ok: true, changed: true };
  if (/Cannot assign requested address|Address not found|EADDRNOTAVAIL/i.test(r.error)) return { ok: true, changed: false };
  return { ok: false, error: r.error };
}

/** The addon when VIPs go by netlink: not when a test names its own ip binary, nor without the addon. */
function netlink(ctx: IpContext): TwinvipNetAddon | undefined {
  if (ctx.ipBinary) return undefined;
  try {
    const addon = loadAddon();
    return typeof addon.rtnlTalk === 'function' ? addon : undefined;
  } catch {
    return undefined;
  }
}

let seq = Math.floor(Math.random() * 0x7fffffff);

function errnoText(errno: number, code: string): string {
  try {
    return `${code}: ${getSystemErrorMessage(-errno)}`;
  } catch {
    return code;
  }
}

/**
 * One address change by rtnetlink, in ctx.netns when set. Errors name the VIP, the interface and
 * the kernel's errno, e.g. "cannot add VIP 192.0.2.10/24 to lan0: the kernel refused
 * (RTM_NEWADDR EPERM: Operation not permitted)".
 */
function netlinkVip(addon: TwinvipNetAddon, op: 'add' | 'del', vip: Vip, ctx: IpContext): VipResult {
  const what = op === 'add' ? `cannot add VIP ${vip.address}/${vip.prefixLength} to ${vip.ifname}` : `cannot remove VIP ${vip.address}/${vip.prefixLength} from ${vip.ifname}`;
  const call = op === 'add' ? 'RTM_NEWADDR' : 'RTM_DELADDR';
  seq = (seq + 1) & 0x7fffffff;
  const mine = seq;
  let reply: Buffer;
  try {
    reply = inNetns(ctx.netns, () => {
      let ifindex: number;
      try {
        ifindex = addon.ifIndex(vip.ifname);
      } catch (err) {
        if (isNativeError(err) && err.code === 'ENODEV') throw Object.assign(new Error(`interface ${vip.ifname} does not exist (ENODEV)`), { named: true });
        throw err;
      }
      return addon.rtnlTalk(encodeAddrRequest({ op, family: vip.family, address: vip.address, prefixLength: vip.prefixLength, ifindex, ...(vip.label ? { label: vip.label } : {}) }, mine));
    });
  } catch (err) {
    const e = err as Error & { named?: boolean; code?: string; syscall?: string };
    return { ok: false, error: `${what}: ${e.named ? e.message : `netlink ${call} failed (${e.message})`}` };
  }
  const ack = decodeAck(reply, mine);
  if (ack.errno === 0) return { ok: true, changed: true };
  if (op === 'add' && ack.code === 'EEXIST') return { ok: true, changed: false };
  if (op === 'del' && ack.code === 'EADDRNOTAVAIL') return { ok: true, changed: false };
  if (ack.errno < 0) return { ok: false, error: `${what}: ${call} got ${ack.code}` };
  return { ok: false, error: `${what}: the kernel refused (${call} ${errnoText(ack.errno, ack.code)})` };
}

/** Which of `vips` are configured on their interfaces now. */
export async function presentVips(vips: readonly Vip[], ctx: IpContext = {}): Promise<{ ok: true; present: Vip[] } | { ok: false; error: string }> {
  const present: Vip[] = [];
  const all = await addressesOf([...new Set(vips.map((v) => v.ifname))], ctx);
  for (const [ifname, r] of all) {
    if (!r.ok) return { ok: false, error: r.error };
    const have = new Set(r.addresses.map((a) => `${a.address}/${a.prefixLength}`));
    for (const v of vips) if (v.ifname === ifname && have.has(`${v.address}/${v.prefixLength}`)) present.push(v);
  }
  return { ok: true, present };
}

type Addresses = { ok: true; addresses: { address: string; prefixLength: number }[] } | { ok: false; error: string };

/**
 * The addresses on each interface: one rtnetlink dump from the addon (no `ip` process: this is
 * on the path of `twinvip cleanup` after a crash and of the daemon's start), else `ip -j addr`.
 */
async function addressesOf(ifnames: string[], ctx: IpContext): Promise<Map<string, Addresses>> {
  const out = new Map<string, Addresses>();
  const nl = netlink(ctx);
  if (nl) {
    seq = (seq + 1) & 0x7fffffff;
    const mine = seq;
    try {
      const { reply, indexes } = inNetns(ctx.netns, () => ({
        reply: nl.rtnlTalk(encodeAddrDetailDump(mine)),
        indexes: new Map<string, number | string>(
          ifnames.map((n): [string, number | string] => {
            try {
              return [n, nl.ifIndex(n)];
            } catch (err) {
              return [n, isNativeError(err) ? err.code : String(err)];
            }
          }),
        ),
      }));
      const dump = decodeAddrDetailDump(reply);
      for (const n of ifnames) {
        const idx = indexes.get(n)!;
        if (typeof idx !== 'number') out.set(n, { ok: false, error: `interface ${n} does not exist (${idx})` });
        else if (!dump.ok) out.set(n, { ok: false, error: `addresses of ${n}: RTM_GETADDR ${errnoText(dump.errno, dump.code)}` });
        else out.set(n, { ok: true, addresses: dump.byIndex.get(idx) ?? [] });
      }
      return out;
    } catch (err) {
      for (const n of ifnames) out.set(n, { ok: false, error: `addresses of ${n}: netlink RTM_GETADDR failed (${(err as Error).message})` });
      return out;
    }
  }
  for (const n of ifnames) {
    const info = await getInterface(n, ctx);
    out.set(n, info.ok ? { ok: true, addresses: info.value.addresses } : { ok: false, error: info.error });
  }
  return out;
}

/**
 * Removes every VIP of `vips` present on its interface except those `keep` accepts: at start-up
 * nothing is owned yet (keepalived leaves its VIPs behind after SIGKILL), at exit nothing is.
 * Returns the removed VIPs and the errors, one per VIP that could not be removed.
 */
export async function removeStaleVips(
  vips: readonly Vip[],
  keep: (vip: Vip) => boolean = () => false,
  ctx: IpContext = {},
): Promise<{ removed: Vip[]; errors: string[] }> {
  const removed: Vip[] = [];
  const errors: string[] = [];
  for (const [ifname, info] of await addressesOf([...new Set(vips.map((v) => v.ifname))], ctx)) {
    if (!info.ok) {
      errors.push(info.error);
      continue;
    }
    // By address, whatever the prefix: a VIP left behind before a config change of its prefix
    // is still ours to remove (it is removed with the prefix it really has).
    for (const v of vips) {
      if (v.ifname !== ifname || keep(v)) continue;
      for (const a of info.addresses) {
        if (a.address !== v.address) continue;
        const stale: Vip = { ...v, prefixLength: a.prefixLength };
        const r = await removeVip(stale, ctx);
        if (r.ok) removed.push(stale);
        else errors.push(r.error);
      }
    }
  }
  return { removed, errors };
}
