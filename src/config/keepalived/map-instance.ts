import { parseAddress } from '../../lib/ip';
import type { Globals } from './map-global';
import { addGarpHandlers } from './map-garp';
import type { NoteList } from './notes';
import type { KNode } from './tree';
import { commandOf, eachChild, extraArgs, needBlock, noBlock, numberArg, scriptArg, trueFalse, warnShellSyntax, type Handlers } from './walk';

export interface MappedInstance {
  name: string;
  instance: Record<string, unknown>;
  /** track_script names as written, resolved against the vrrp_scripts once all are read. */
  trackScripts: { name: string; weight?: number; at: KNode }[];
  smtpAlert?: boolean;
  /** Where smtp_alert was set (the instance line when it comes from global_defs). */
  smtpAlertAt: KNode;
}

export const NOTIFY_KEYS: Record<string, string> = {
  notify: 'notify',
  notify_master: 'master',
  notify_backup: 'backup',
  notify_fault: 'fault',
  notify_stop: 'stop',
};

/** notify* lines of an instance or a sync group, with keepalived 2.x's `user [group]` words. */
export function notifyHandlers(target: Record<string, unknown>, notes: NoteList): Handlers {
  const handlers: Handlers = {};
  for (const [key, field] of Object.entries(NOTIFY_KEYS)) {
    handlers[key] = (n) => {
      const s = scriptArg(n, notes);
      if (!s) return;
      warnShellSyntax(n, s.argv, notes);
      if (s.rest.length > 0) {
        notes.unconverted(n, n.key,
          `keepalived 2.x reads '${s.rest.join(' ')}' as the user [group] to run '${s.argv.join(' ')}' as, not as arguments; not carried over (twinvip runs notify scripts as notify.script_user). If arguments were meant, quote the whole command`);
      }
      target[field] = commandOf(s.argv);
    };
  }
  return handlers;
}

interface Vip {
  /** The virtual_ipaddress line it came from. */
  at?: KNode;
  address: string;
  prefix?: number;
  dev?: string;
  label?: string;
}

/** One line of virtual_ipaddress: ADDR[/LEN] [brd X] [dev IF] [scope S] [label L] ... */
function parseVipLine(line: KNode, notes: NoteList): Vip | undefined {
  const parsed = parseAddress(line.key);
  if (!parsed) {
    notes.unconverted(line, line.key, 'not an IPv4/IPv6 address (with optional /prefix)');
    return undefined;
  }
  const vip: Vip = { address: parsed.address, at: line };
  if (parsed.prefix !== undefined) vip.prefix = parsed.prefix;
  const a = line.args;
  for (let i = 0; i < a.length; i++) {
    const opt = a[i] as string;
    const val = a[i + 1];
    switch (opt) {
      case 'dev':
        if (val !== undefined) vip.dev = val;
        i++;
        break;
      case 'label':
        if (val !== undefined && /^\S{1,15}$/.test(val)) vip.label = val;
        else notes.unconverted(line, 'label', `'${val ?? ''}' is not a valid address label (at most 15 characters)`);
        i++;
        break;
      case 'scope':
        // keepalived and ip(8) default to scope global: only other scopes are lost.
        if (val !== 'global' && val !== '0') notes.unconverted(line, 'scope', `scope ${val ?? ''} not carried over: twinvip adds VIPs with scope global`);
        i++;
        break;
      case 'brd':
      case 'broadcast':
        notes.unconverted(line, opt, `broadcast ${val ?? ''} not carried over: twinvip adds the VIP without an explicit broadcast address`);
        i++;
        break;
      case 'peer':
      case 'preferred_lft':
      case 'track_group':
        notes.unconverted(line, opt, `${opt} ${val ?? ''} is not supported on VIPs`);
        i++;
        break;
      default:
        notes.unconverted(line, opt, 'VIP option not supported (home, -nodad, noprefixroute, autojoin, no_track ... have no twinvip equivalent)');
    }
  }
  return vip;
}

/**
 * keepalived adds a VIP listed twice once (the second add fails quietly, so the first line's
 * dev and label win) but still lists it twice in its adverts: its own sample
 * keepalived.conf.vrrp does this. Kept once here, with a warning about the advert count.
 */
function dedupeVips(list: Vip[], node: KNode, block: string, notes: NoteList, also: Vip[] = []): Vip[] {
  const out: Vip[] = [];
  for (const v of list) {
    const first = [...also, ...out].find((o) => o.address === v.address);
    if (!first) {
      out.push(v);
      continue;
    }
    const lost = [v.label !== undefined && v.label !== first.label ? `label ${v.label}` : '', v.dev !== undefined && v.dev !== first.dev ? `dev ${v.dev}` : '', v.prefix !== undefined && v.prefix !== first.prefix ? `/${v.prefix}` : '']
      .filter(Boolean);
    notes.warn(v.at ?? node, v.address,
      `listed twice in ${block}: kept once, as keepalived configures it (the first line wins${lost.length > 0 ? `; ${lost.join(', ')} of this line is not applied, as in keepalived` : ''}). `
      + 'keepalived still counts it twice in its adverts: a keepalived peer running this file sees one address fewer from twinvip and, being 2.2.7, drops the adverts — remove the duplicate there too');
  }
  return out;
}

function vipSpec(v: Vip): string | Record<string, unknown> {
  const text = v.prefix === undefined ? v.address : `${v.address}/${v.prefix}`;
  if (v.dev === undefined && v.label === undefined) return text;
  const o: Record<string, unknown> = { address: v.address };
  if (v.prefix !== undefined) o.prefix = v.prefix;
  if (v.dev !== undefined) o.dev = v.dev;
  if (v.label !== undefined) o.label = v.label;
  return o;
}

export function mapVrrpInstance(node: KNode, name: string, g: Globals, notes: NoteList): MappedInstance | undefined {
  if (!needBlock(node, notes)) return undefined;
  const inst: Record<string, unknown> = {};
  const vips: Vip[] = [];
  const excluded: Vip[] = [];
  const garp: Record<string, number> = { ...g.garp };
  const notify: Record<string, unknown> = {};
  const trackInterfaces: (string | Record<string, unknown>)[] = [];
  const trackScripts: MappedInstance['trackScripts'] = [];
  const peers: string[] = [];
  let version: number | undefined;
  let versionAt: KNode | undefined;
  let state: string | undefined;
  let stateAt: KNode | undefined;
  let nopreemptAt: KNode | undefined;
  let preemptDelayAt: KNode | undefined;
  let smtpAlert: boolean | undefined;
  let smtpAlertAt: KNode = node;
  let srcAt: KNode | undefined;
  let mcastSrcAt: KNode | undefined;
  let auth: { type?: string; pass?: string; at: KNode } | undefined;
  let strictMode: { on: boolean; at: KNode } | undefined;

  const handlers: Handlers = {
    ...notifyHandlers(notify, notes),
    state: (n) => {
      const v = n.args[0];
      stateAt = n;
      if (v === 'MASTER' || v === 'BACKUP') state = v;
      else notes.unconverted(n, n.key, `'${v ?? ''}' is not MASTER or BACKUP (keepalived ignores it too); BACKUP kept`);
      extraArgs(n, 1, notes);
    },
    interface: (n) => {
      if (n.args[0] === undefined || !/^(?!\.\.?$)[^/:\s]{1,15}$/.test(n.args[0])) notes.unconverted(n, n.key, `'${n.args[0] ?? ''}' is not an interface name`);
      else inst.interface = n.args[0];
      extraArgs(n, 1, notes);
    },
    virtual_router_id: (n) => {
      const v = numberArg(n, 0, { min: 1, max: 255, integer: true }, notes);
      if (v !== undefined) inst.vrid = v;
    },
    priority: (n) => {
      const v = numberArg(n, 0, { min: 1, max: 255, integer: true }, notes);
      if (v === undefined) return;
      inst.priority = v;
      if (v === 255) {
        inst.address_owner = true;
        notes.warn(n, n.key, 'priority 255 = address owner: address_owner set; twinvip checks at start-up that the VIP is an address of the interface');
      }
    },
    advert_int: (n) => {
      const v = numberArg(n, 0, { min: 0.01, max: 255 }, notes);
      if (v !== undefined) inst.advert_int = v;
      (inst as { __advertAt?: KNode }).__advertAt = n;
    },
    version: (n) => {
      const v = numberArg(n, 0, { min: 2, max: 3, integer: true }, notes);
      if (v !== undefined) {
        version = v;
        versionAt = n;
      }
    },
    authentication: (n) => {
      if (!needBlock(n, notes)) return;
      auth = { at: n };
      const a = auth;
      eachChild(n, 'authentication', {
        auth_type: (c) => {
          a.type = c.args[0];
        },
        auth_pass: (c) => {
          // keepalived takes the rest of the line, so an unquoted password with spaces is one value.
          a.pass = c.args.join(' ');
        },
      }, notes);
    },
    virtual_ipaddress: (n) => {
      if (!needBlock(n, notes)) return;
      for (const line of n.children ?? []) {
        if (line.children) notes.unconverted(line, line.key, 'nested block inside virtual_ipaddress ignored');
        const v = parseVipLine(line, notes);
        if (v) vips.push(v);
      }
    },
    virtual_ipaddress_excluded: (n) => {
      if (!needBlock(n, notes)) return;
      for (const line of n.children ?? []) {
        const v = parseVipLine(line, notes);
        if (v) excluded.push(v);
      }
    },
    unicast_src_ip: (n) => {
      const p = parseAddress(n.args[0] ?? '');
      if (!p || p.prefix !== undefined) return notes.unconverted(n, n.key, `'${n.args[0] ?? ''}' is not an address`);
      inst.unicast_src_ip = p.address;
      srcAt = n;
    },
    mcast_src_ip: (n) => {
      const p = parseAddress(n.args[0] ?? '');
      if (!p || p.prefix !== undefined) return notes.unconverted(n, n.key, `'${n.args[0] ?? ''}' is not an address`);
      // keepalived: mcast_src_ip and unicast_src_ip set the same source address.
      mcastSrcAt = n;
      if (inst.unicast_src_ip === undefined) inst.unicast_src_ip = p.address;
    },
    unicast_peer: (n) => {
      if (!needBlock(n, notes)) return;
      for (const line of n.children ?? []) {
        const p = parseAddress(line.key);
        if (!p || p.prefix !== undefined) {
          notes.unconverted(line, line.key, 'not a peer address');
          continue;
        }
        if (line.args.length > 0) notes.unconverted(line, line.args[0] as string, `peer options '${line.args.join(' ')}' (min_ttl/max_ttl) not carried over`);
        if (!peers.includes(p.address)) peers.push(p.address);
      }
    },
    nopreempt: (n) => {
      noBlock(n, notes);
      nopreemptAt = n;
    },
    preempt: (n) => {
      notes.warn(n, n.key, 'preempt is the default');
    },
    preempt_delay: (n) => {
      const v = numberArg(n, 0, { min: 0, max: 1000 }, notes);
      if (v !== undefined) {
        inst.preempt_delay = v;
        preemptDelayAt = n;
      }
    },
    track_interface: (n) => {
      if (!needBlock(n, notes)) return;
      for (const line of n.children ?? []) {
        if (!/^(?!\.\.?$)[^/:\s]{1,15}$/.test(line.key)) {
          notes.unconverted(line, line.key, 'not an interface name');
          continue;
        }
        if (line.args[0] === 'weight') {
          const w = numberArg({ ...line, key: 'weight', args: line.args.slice(1) }, 0, { min: -253, max: 253, integer: true }, notes);
          if (line.args[2] === 'reverse') notes.unconverted(line, 'reverse', "'reverse' has no twinvip equivalent; weight not carried over");
          else if (w !== undefined && w !== 0) trackInterfaces.push({ name: line.key, weight: w });
          else trackInterfaces.push(line.key);
        } else {
          if (line.args.length > 0) notes.unconverted(line, line.args[0] as string, `'${line.args.join(' ')}' not understood (expected: weight N)`);
          trackInterfaces.push(line.key);
        }
      }
    },
    track_script: (n) => {
      if (!needBlock(n, notes)) return;
      for (const line of n.children ?? []) {
        const ref: MappedInstance['trackScripts'][number] = { name: line.key, at: line };
        if (line.args[0] === 'weight') {
          const w = numberArg({ ...line, key: 'weight', args: line.args.slice(1) }, 0, { min: -253, max: 253, integer: true }, notes);
          if (line.args[2] === 'reverse') notes.unconverted(line, 'reverse', "'reverse' has no twinvip equivalent; the script's own weight applies");
          else if (w !== undefined) ref.weight = w;
        } else if (line.args.length > 0) {
          notes.unconverted(line, line.args[0] as string, `'${line.args.join(' ')}' not understood (one script per line, optionally 'weight N')`);
        }
        trackScripts.push(ref);
      }
    },
    smtp_alert: (n) => {
      smtpAlert = trueFalse(n, notes);
      smtpAlertAt = n;
    },
    strict_mode: (n) => {
      strictMode = { on: trueFalse(n, notes), at: n };
    },
  };
  addGarpHandlers(handlers, '', garp, notes);
  eachChild(node, 'vrrp_instance', handlers, notes);

  const advertAt = (inst as { __advertAt?: KNode }).__advertAt;
  delete (inst as { __advertAt?: KNode }).__advertAt;
  const label = `vrrp_instance ${name}`;
  if (inst.interface === undefined) {
    notes.refuse(node, label, 'no interface: twinvip runs each instance on an interface (keepalived needs one too, or a unicast_src_ip it routes from)');
    return undefined;
  }
  if (inst.vrid === undefined) {
    notes.refuse(node, label, 'no virtual_router_id: keepalived refuses such an instance too');
    return undefined;
  }
  if (vips.length === 0 && excluded.length === 0) {
    notes.refuse(node, label, 'no virtual_ipaddress: the instance would move no address (keepalived refuses it with VRRPv3 or vrrp_strict, and warns otherwise); a template left unfilled often looks like this');
    return undefined;
  }
  vips.splice(0, vips.length, ...dedupeVips(vips, node, 'virtual_ipaddress', notes));
  excluded.splice(0, excluded.length, ...dedupeVips(excluded, node, 'virtual_ipaddress_excluded', notes, vips));
  // keepalived 2.2.7 vrrp_complete_instance: "If no priority has been set, derive it from the
  // initial state": MASTER makes the instance the address owner (255), anything else 100.
  if (inst.priority === undefined && state === 'MASTER') {
    inst.priority = 255;
    inst.address_owner = true;
    notes.warn(stateAt ?? node, 'state', 'MASTER without a priority line: keepalived gives such an instance priority 255 (address owner), so does the import (address_owner set; twinvip checks at start-up that the VIP is an address of the interface) — write priority N if that is not meant');
  }
  const strict = strictMode?.on ?? g.strict !== undefined;
  const strictAt = strictMode?.at ?? g.strict ?? node;
  // keepalived strict mode: "State MASTER must match being address owner".
  if (strict) {
    const wanted = inst.priority === 255 ? 'MASTER' : 'BACKUP';
    if (state !== undefined && state !== wanted) {
      notes.warn(stateAt ?? strictAt, 'state', `${state} becomes ${wanted} under strict mode, as keepalived does ("State MASTER must match being address owner")`);
      state = wanted;
    }
  }
  if (state !== undefined) inst.state = state;
  // Identifying keys first, as the published schema orders them.
  for (const k of ['interface', 'vrid', 'state', 'priority', 'advert_int']) {
    if (k in inst) {
      const v = inst[k];
      delete inst[k];
      inst[k] = v;
    }
  }

  // Family from the first VIP; keepalived refuses VIPs of the other family in the list.
  const family = vips[0] ? (vips[0].address.includes(':') ? 'ipv6' : 'ipv4') : peers[0]?.includes(':') ? 'ipv6' : 'ipv4';
  const keptVips = vips.filter((v) => {
    if ((v.address.includes(':') ? 'ipv6' : 'ipv4') === family) return true;
    notes.unconverted(node, `${label} VIP ${v.address}`, `its family differs from the first VIP (${vips[0]?.address}); keepalived ignores it too — list it in virtual_ipaddress_excluded or another instance`);
    return false;
  });
  if (keptVips.length > 0) inst.vips = keptVips.map(vipSpec);
  if (excluded.length > 0) inst.excluded_vips = excluded.map(vipSpec);

  // keepalived runs IPv6 instances as VRRPv3 whatever vrrp_version says.
  let v = version ?? g.version ?? 2;
  if (family === 'ipv6' && v === 2) {
    if (version === 2 && versionAt) notes.warn(versionAt, 'version', 'VRRPv2 carries IPv4 only: this IPv6 instance becomes version 3, as keepalived does');
    v = 3;
  }
  if (v === 3) inst.version = 3;

  if (inst.advert_int !== undefined) {
    const a = inst.advert_int as number;
    if (v === 2 && !Number.isInteger(a)) {
      const r = Math.max(1, Math.round(a));
      notes.warn(advertAt ?? node, 'advert_int', `VRRPv2 adverts carry whole seconds: ${a} becomes ${r}`);
      inst.advert_int = r;
    } else if (v === 3) {
      const cs = Math.min(4095, Math.max(1, Math.round(a * 100)));
      if (cs !== a * 100) notes.warn(advertAt ?? node, 'advert_int', `VRRPv3 adverts carry centiseconds 1..4095: ${a} becomes ${cs / 100}`);
      inst.advert_int = cs / 100;
    }
  }

  if (auth && strict) {
    notes.warn(auth.at, 'authentication', 'ignored under strict mode, as keepalived does ("Strict mode does not support authentication. Ignoring."): adverts go unauthenticated');
  } else if (auth) {
    const a = auth;
    if (v === 3) {
      notes.unconverted(a.at, 'authentication', 'VRRPv3 has no authentication (RFC 5798); keepalived ignores it with version 3 too');
    } else if (a.type === 'PASS') {
      if (a.pass === undefined || a.pass === '') notes.unconverted(a.at, 'authentication', 'auth_type PASS without auth_pass');
      else {
        if (a.pass.length > 8) notes.warn(a.at, 'auth_pass', `longer than 8 characters: only '${a.pass.slice(0, 8)}' is used, as keepalived truncates it`);
        inst.authentication = { type: 'PASS', password: a.pass.slice(0, 8) };
      }
    } else if (a.type === 'AH') {
      if (a.pass === undefined || a.pass === '') notes.unconverted(a.at, 'authentication', 'auth_type AH without auth_pass (keepalived: "Authentication specified but no password given. Ignoring")');
      else if (family === 'ipv6') notes.unconverted(a.at, 'authentication', 'AH with an IPv6 instance: keepalived ignores it ("Cannot use AH authentication with IPv6"), so the adverts go unauthenticated');
      else {
        if (a.pass.length > 8) notes.warn(a.at, 'auth_pass', `longer than 8 characters: only '${a.pass.slice(0, 8)}' is the AH key, as keepalived truncates it`);
        inst.authentication = { type: 'AH', password: a.pass.slice(0, 8) };
        if (state === 'MASTER' && inst.priority !== 255) {
          state = 'BACKUP';
          inst.state = 'BACKUP';
          notes.warn(stateAt ?? a.at, 'state', 'MASTER becomes BACKUP, as keepalived does with auth_type AH ("Initial state master is incompatible with AH authentication - clearing")');
        }
      }
    } else {
      notes.unconverted(a.at, 'authentication', `auth_type '${a.type ?? ''}' is not PASS or AH`);
    }
  }

  if (peers.length > 0) inst.unicast_peers = peers;
  if (strict && peers.length > 0) {
    notes.refuse(strictAt, label, 'unicast_peer under strict mode: keepalived refuses the configuration ("Unicast peers are not supported in strict mode"); add strict_mode off to the instance or drop vrrp_strict');
    return undefined;
  }
  if (mcastSrcAt) {
    if (peers.length === 0) {
      delete inst.unicast_src_ip;
      notes.unconverted(mcastSrcAt, 'mcast_src_ip', 'twinvip sends multicast adverts from the interface\'s primary address');
    } else if (srcAt) {
      notes.unconverted(mcastSrcAt, 'mcast_src_ip', 'unicast_src_ip given too; that one is kept');
    } else {
      notes.warn(mcastSrcAt, 'mcast_src_ip', 'carried over as unicast_src_ip (keepalived uses one source address for both)');
    }
  }
  if (peers.length === 0) {
    const group = family === 'ipv4' ? g.mcast4 : g.mcast6;
    if (group) inst.mcast_group = group;
    if (srcAt) notes.warn(srcAt, 'unicast_src_ip', 'no unicast_peer: the instance uses multicast, so this source address is unused');
  }

  // keepalived 2.x: "nopreempt will not work with initial state MASTER - clearing", same for preempt_delay.
  if (nopreemptAt) {
    if (state === 'MASTER') notes.unconverted(nopreemptAt, 'nopreempt', 'cleared, as keepalived does with state MASTER (set state BACKUP on both boxes to keep it)');
    else if (inst.priority === 255) notes.unconverted(nopreemptAt, 'nopreempt', 'cleared, as keepalived does for the address owner (priority 255)');
    else inst.preempt = false;
  }
  if (preemptDelayAt && strict) {
    delete inst.preempt_delay;
    notes.unconverted(preemptDelayAt, 'preempt_delay', 'cleared under strict mode, as keepalived does ("preempt_delay is incompatible with strict mode")');
  } else if (preemptDelayAt) {
    if (state === 'MASTER') {
      delete inst.preempt_delay;
      notes.unconverted(preemptDelayAt, 'preempt_delay', 'cleared, as keepalived does with state MASTER');
    } else if (inst.preempt === false) {
      delete inst.preempt_delay;
      notes.unconverted(preemptDelayAt, 'preempt_delay', 'has no effect with nopreempt (keepalived resets it too)');
    }
  }

  if (trackInterfaces.length > 0) inst.track_interfaces = trackInterfaces;
  if (strict) {
    // keepalived strict: "Strict mode requires no repeat garps" (garp_lower_prio_repeat 0, delay 0).
    for (const [field, keyword] of [['lower_prio_repeat', 'garp_lower_prio_repeat'], ['lower_prio_delay', 'garp_lower_prio_delay']] as const) {
      if (garp[field] !== undefined && garp[field] !== 0) notes.warn(strictAt, keyword, `${garp[field]} reset to 0 under strict mode, as keepalived does`);
      garp[field] = 0;
    }
  }
  if (Object.keys(garp).length > 0) inst.garp = garp;
  if (Object.keys(notify).length > 0) inst.notify = notify;
  const mapped: MappedInstance = { name, instance: inst, trackScripts, smtpAlertAt };
  const alert = smtpAlert ?? g.smtpAlert;
  if (alert !== undefined) mapped.smtpAlert = alert;
  return mapped;
}
