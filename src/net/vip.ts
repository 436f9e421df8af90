// VIP add/remove with `ip addr` (about 2 ms per call here). Idempotent both ways: adding an
// address already present and removing one already gone are successes, so start-up clean-up,
// a crash of the previous run and a repeated transition all converge.
import type { Family } from '../vrrp/types';
import { parseCidr } from '../lib/ip';
import { getInterface } from './interfaces';
import { type IpContext, runIp } from './ip-command';

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
  const r = await runIp(addArgs(vip), ctx);
  if (r.ok) return { ok: true, changed: true };
  if (/File exists|already assigned/i.test(r.error)) return { ok: true, changed: false };
  return { ok: false, error: r.error };
}

export async function removeVip(vip: Vip, ctx: IpContext = {}): Promise<VipResult> {
  const args = [vip.family === 4 ? '-4' : '-6', 'addr', 'del', `${vip.address}/${vip.prefixLength}`, 'dev', vip.ifname];
  const r = await runIp(args, ctx);
  if (r.ok) return { ok: true, changed: true };
  if (/Cannot assign requested address|Address not found|EADDRNOTAVAIL/i.test(r.error)) return { ok: true, changed: false };
  return { ok: false, error: r.error };
}

/** Which of `vips` are configured on their interfaces now. */
export async function presentVips(vips: readonly Vip[], ctx: IpContext = {}): Promise<{ ok: true; present: Vip[] } | { ok: false; error: string }> {
  const present: Vip[] = [];
  for (const ifname of new Set(vips.map((v) => v.ifname))) {
    const info = await getInterface(ifname, ctx);
    if (!info.ok) return { ok: false, error: info.error };
    const have = new Set(info.value.addresses.map((a) => `${a.address}/${a.prefixLength}`));
    for (const v of vips) if (v.ifname === ifname && have.has(`${v.address}/${v.prefixLength}`)) present.push(v);
  }
  return { ok: true, present };
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
  for (const ifname of new Set(vips.map((v) => v.ifname))) {
    const info = await getInterface(ifname, ctx);
    if (!info.ok) {
      errors.push(info.error);
      continue;
    }
    // By address, whatever the prefix: a VIP left behind before a config change of its prefix
    // is still ours to remove (it is removed with the prefix it really has).
    for (const v of vips) {
      if (v.ifname !== ifname || keep(v)) continue;
      for (const a of info.value.addresses) {
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
