import { addressFamily } from '../../lib/ip';
import { addGarpHandlers } from './map-garp';
import type { NoteList } from './notes';
import type { KNode } from './tree';
import { eachChild, extraArgs, needBlock, noBlock, numberArg, trueFalse, type Handlers } from './walk';

/** Instance defaults keepalived takes from global_defs (vrrp_garp_*, vrrp_version, multicast groups). */
export interface Globals {
  nodeName?: string;
  email: { to: string[]; from?: string; server?: string; port?: number; timeout?: number; helo?: string; at?: KNode };
  smtpAlert?: boolean;
  mcast4?: string;
  mcast6?: string;
  version?: 2 | 3;
  garp: Record<string, number>;
  notify: { enable_script_security?: boolean; script_user?: string };
  /** vrrp_rt_priority, vrrp_priority, vrrp_rlimit_rttime: the HA thread's scheduling. */
  scheduling: { rt_priority?: number; nice?: number; rlimit_rttime?: number };
  /** Where vrrp_strict was set: every instance is in strict mode unless strict_mode off. */
  strict?: KNode;
}

/** scheduling.rlimit_rttime's minimum and default (src/config/schema/scheduling.ts), and below what the importer warns. */
const RTTIME_MIN = 1000;
const RTTIME_DEFAULT = 200_000;
const RTTIME_TIGHT = 100_000;

export function emptyGlobals(): Globals {
  return { email: { to: [] }, garp: {}, notify: {}, scheduling: {} };
}

export function mapGlobalDefs(node: KNode, g: Globals, notes: NoteList): void {
  if (!needBlock(node, notes)) return;
  const handlers: Handlers = {
    router_id: (n) => {
      noBlock(n, notes);
      extraArgs(n, 1, notes);
      if (n.args[0] !== undefined) g.nodeName = n.args[0];
      else notes.unconverted(n, n.key, 'value missing');
    },
    notification_email: (n) => {
      if (!needBlock(n, notes)) return;
      g.email.at ??= n;
      for (const line of n.children ?? []) {
        for (const addr of [line.key, ...line.args]) {
          if (/^[^@\s]+@[^@\s]+$/.test(addr)) {
            if (!g.email.to.includes(addr)) g.email.to.push(addr);
          } else {
            notes.unconverted(line, addr, 'not an e-mail address');
          }
        }
      }
    },
    notification_email_from: (n) => {
      noBlock(n, notes);
      extraArgs(n, 1, notes);
      g.email.from = n.args[0];
    },
    smtp_server: (n) => {
      noBlock(n, notes);
      g.email.at ??= n;
      g.email.server = n.args[0];
      if (n.args[1] !== undefined) g.email.port = numberArg(n, 1, { min: 1, max: 65535, integer: true }, notes);
      extraArgs(n, 2, notes);
    },
    smtp_connect_timeout: (n) => {
      const v = numberArg(n, 0, { min: 1, max: 300 }, notes);
      if (v !== undefined) g.email.timeout = v;
    },
    smtp_helo_name: (n) => {
      g.email.helo = n.args[0];
    },
    smtp_alert: (n) => {
      g.smtpAlert = trueFalse(n, notes);
    },
    smtp_alert_vrrp: (n) => {
      g.smtpAlert = trueFalse(n, notes);
    },
    smtp_alert_checker: (n) => {
      notes.unconverted(n, n.key, 'e-mail alerts for checker (LVS) events are not sent: upstream changes are reported over MQTT');
    },
    vrrp_mcast_group4: (n) => {
      if (addressFamily(n.args[0] ?? '') === 'ipv4') g.mcast4 = n.args[0];
      else notes.unconverted(n, n.key, `'${n.args[0] ?? ''}' is not an IPv4 address`);
    },
    vrrp_mcast_group6: (n) => {
      if (addressFamily(n.args[0] ?? '') === 'ipv6') g.mcast6 = n.args[0];
      else notes.unconverted(n, n.key, `'${n.args[0] ?? ''}' is not an IPv6 address`);
    },
    vrrp_version: (n) => {
      const v = numberArg(n, 0, { min: 2, max: 3, integer: true }, notes);
      if (v !== undefined) g.version = v as 2 | 3;
    },
    vrrp_strict: (n) => {
      noBlock(n, notes);
      g.strict = n;
      notes.warn(n, n.key,
        'its effects on each instance are applied as keepalived 2.2.7 applies them (state MASTER only for priority 255, authentication ignored, no preempt_delay, no gratuitous ARP on hearing a lower priority; unicast peers or no VIP refuse the configuration); '
        + 'not applied: the firewall rules dropping traffic to the VIPs (twinvip installs none, so the VIPs answer), and keepalived\'s strict advert rules (no advert answering a lower priority, none when yielding): twinvip keeps its own');
    },
    vrrp_garp_interval: (n) => {
      const v = numberArg(n, 0, { min: 0, max: 1 }, notes);
      if (v === undefined) return;
      if (v === 0) notes.warn(n, n.key, 'keepalived 2.2.7 refuses 0 ("vrrp_garp_interval 0 invalid"); accepted as 0 = packets of a burst back to back');
      g.garp.interval = v;
    },
    vrrp_gna_interval: (n) => {
      const v = numberArg(n, 0, { min: 0, max: 1 }, notes);
      if (v === undefined) return;
      if (g.garp.interval !== undefined && g.garp.interval !== v) {
        notes.warn(n, n.key, `twinvip has one interval for ARP and NA bursts: ${g.garp.interval} s from vrrp_garp_interval kept`);
      } else {
        g.garp.interval = v;
        if (v === 0) notes.warn(n, n.key, 'keepalived 2.2.7 refuses 0; accepted as 0 = back to back');
      }
    },
    // keepalived sets these on its VRRP child process (lib/process.c set_process_priorities);
    // twinvip on its HA thread, which runs VRRP and the serial heartbeat (config `scheduling`).
    vrrp_rt_priority: (n) => {
      extraArgs(n, 1, notes);
      const v = numberArg(n, 0, { min: 1, max: 99, integer: true }, notes);
      if (v !== undefined) g.scheduling.rt_priority = v;
    },
    vrrp_priority: (n) => {
      extraArgs(n, 1, notes);
      const v = numberArg(n, 0, { min: -20, max: 19, integer: true }, notes);
      if (v !== undefined) g.scheduling.nice = v;
    },
    vrrp_rlimit_rttime: (n) => rttime(n),
    vrrp_rlimit_rtime: (n) => rttime(n),
    enable_script_security: (n) => {
      noBlock(n, notes);
      g.notify.enable_script_security = true;
    },
    script_user: (n) => {
      if (n.args[0] === undefined) return notes.unconverted(n, n.key, 'user missing');
      g.notify.script_user = n.args[0];
      if (n.args[1] !== undefined) notes.unconverted(n, n.key, `group '${n.args[1]}' not carried over: scripts run with the user's primary group`);
      extraArgs(n, 2, notes);
    },
  };
  function rttime(n: KNode): void {
    extraArgs(n, 1, notes);
    const v = numberArg(n, 0, { min: 1, max: 10_000_000, integer: true }, notes);
    if (v === undefined) return;
    if (v < RTTIME_MIN) {
      notes.warn(n, n.key, `${v} µs raised to ${RTTIME_MIN} µs, twinvip's minimum (scheduling.rlimit_rttime): a JavaScript thread's garbage collection alone runs longer`);
      g.scheduling.rlimit_rttime = RTTIME_MIN;
    } else {
      g.scheduling.rlimit_rttime = v;
      if (v < RTTIME_TIGHT) notes.warn(n, n.key, `${v} µs carried over as scheduling.rlimit_rttime; twinvip's default is ${RTTIME_DEFAULT} µs: a garbage collection of the HA thread's heap may run over ${v / 2000} ms on a slow core and suspend real-time for 60 s (logged)`);
    }
  }
  addGarpHandlers(handlers, 'vrrp_', g.garp, notes);
  eachChild(node, 'global_defs', handlers, notes);
}
