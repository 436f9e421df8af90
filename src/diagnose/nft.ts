// The rules of `nft -j list ruleset` that drop or reject VRRP: IP protocol 112 (ip protocol,
// meta l4proto, ip6 nexthdr), the VRRP multicast groups (224.0.0.18, ff02::12, or the instances'
// own group), or everything on an interface (a rule whose only matches are iifname/oifname).
// Pure: the shell runs nft (gather.ts) and hands the text here. Rules in a chain without a hook
// count under the hooks of the chains that jump or go to it.

import type { FirewallRule } from './evidence';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const VRRP_PROTOCOL = new Set(['vrrp', '112', 112 as unknown as string]);
const DEFAULT_GROUPS = ['224.0.0.18', 'ff02::12'];
const FAMILIES = new Set(['ip', 'ip6', 'inet', 'netdev']);

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Throws on text that is not nft's JSON (the caller reports "firewall unknown" with the reason). */
export function vrrpDroppingRules(jsonText: string, groups: readonly string[] = []): FirewallRule[] {
  const doc = JSON.parse(jsonText) as Json;
  if (!isObj(doc) || !Array.isArray(doc.nftables)) throw new Error('not nft JSON (no "nftables" array)');
  const items = doc.nftables.filter(isObj);
  const chainKey = (family: Json | undefined, table: Json | undefined, name: Json | undefined) => `${String(family)} ${String(table)} ${String(name)}`;
  const hooks = new Map<string, Set<string>>();
  for (const it of items) {
    const c = it.chain;
    if (!isObj(c) || !FAMILIES.has(String(c.family))) continue;
    hooks.set(chainKey(c.family, c.table, c.name), new Set(typeof c.hook === 'string' ? [c.hook] : []));
  }
  // Jumps: a hook-less chain inherits its callers' hooks (a few passes cover nested jumps).
  const rules = items.map((it) => it.rule).filter(isObj).filter((r) => FAMILIES.has(String(r.family)));
  for (let pass = 0; pass < 4; pass++) {
    for (const r of rules) {
      const from = hooks.get(chainKey(r.family, r.table, r.chain));
      for (const e of Array.isArray(r.expr) ? r.expr : []) {
        if (!isObj(e)) continue;
        const j = isObj(e.jump) ? e.jump : isObj(e.goto) ? e.goto : undefined;
        if (!j || !from) continue;
        const to = hooks.get(chainKey(r.family, r.table, j.target));
        if (to) for (const h of from) to.add(h);
      }
    }
  }
  const wanted = new Set([...DEFAULT_GROUPS, ...groups].map((g) => g.toLowerCase()));
  const out: FirewallRule[] = [];
  for (const r of rules) {
    const expr = (Array.isArray(r.expr) ? r.expr : []).filter(isObj);
    const verdict = expr.some((e) => 'drop' in e) ? 'drop' : expr.some((e) => 'reject' in e) ? 'reject' : undefined;
    if (!verdict) continue;
    let vrrp = false;
    let other = false;
    let iface: string | undefined;
    let negated = false;
    for (const e of expr) {
      const m = e.match;
      if (!isObj(m)) continue;
      const left = m.left;
      const values = valuesOf(m.right);
      const op = String(m.op ?? '==');
      if (op === '!=') negated = true;
      const meta = isObj(left) && isObj(left.meta) ? String(left.meta.key) : undefined;
      const payload = isObj(left) && isObj(left.payload) ? `${String(left.payload.protocol)} ${String(left.payload.field)}` : undefined;
      if (meta === 'iifname' || meta === 'oifname' || meta === 'iif' || meta === 'oif') {
        iface = values[0];
      } else if (meta === 'l4proto' || payload === 'ip protocol' || payload === 'ip6 nexthdr') {
        if (values.some((v) => VRRP_PROTOCOL.has(v))) vrrp = true;
        else other = true;
      } else if (payload === 'ip daddr' || payload === 'ip6 daddr') {
        if (values.some((v) => wanted.has(v.toLowerCase()))) vrrp = true;
        else other = true;
      } else {
        other = true;
      }
    }
    // `ip protocol != vrrp drop` keeps VRRP; anything we cannot read as matching VRRP is not named.
    if (negated) continue;
    const blanket = !vrrp && !other && iface !== undefined;
    if (!vrrp && !blanket) continue;
    const chainHooks = hooks.get(chainKey(r.family, r.table, r.chain)) ?? new Set<string>();
    for (const hook of chainHooks) {
      const direction = hook === 'output' || hook === 'postrouting' ? 'output' : hook === 'forward' ? 'forward' : 'input';
      if (direction === 'forward') continue;
      out.push({
        chain: `${String(r.family)} ${String(r.table)} ${String(r.chain)}`,
        hook,
        text: `${ruleText(expr)} (handle ${String(r.handle)})`,
        verdict,
        ...(iface !== undefined ? { interface: iface } : {}),
        direction,
      });
    }
  }
  return out;
}

function valuesOf(right: Json | undefined): string[] {
  if (isObj(right) && Array.isArray(right.set)) return right.set.map((v) => String(v));
  if (Array.isArray(right)) return right.map((v) => String(v));
  if (isObj(right) && isObj(right.prefix)) return [String(right.prefix.addr)];
  return [String(right)];
}

/** The rule roughly as nft prints it: enough to find it in `nft list ruleset`. */
function ruleText(expr: Obj[]): string {
  const parts: string[] = [];
  for (const e of expr) {
    if (isObj(e.match)) {
      const m = e.match;
      const l = m.left;
      const left = isObj(l) && isObj(l.meta) ? `meta ${String(l.meta.key)}`.replace(/^meta (iifname|oifname)$/, '$1') : isObj(l) && isObj(l.payload) ? `${String(l.payload.protocol)} ${String(l.payload.field)}` : 'match';
      const vals = valuesOf(m.right);
      const right = vals.length > 1 ? `{ ${vals.join(', ')} }` : /ifname$/.test(left) ? `"${vals[0]}"` : vals[0];
      parts.push(`${left}${m.op && m.op !== '==' && m.op !== 'in' ? ` ${String(m.op)}` : ''} ${right}`);
    } else if (isObj(e.counter)) {
      parts.push(`counter packets ${String(e.counter.packets)}`);
    } else if ('drop' in e) {
      parts.push('drop');
    } else if ('reject' in e) {
      parts.push('reject');
    } else {
      parts.push(Object.keys(e)[0] ?? '?');
    }
  }
  return parts.join(' ');
}
