import { NAME_PATTERN } from '../../lib/names';
import { splitQuotedEscaped } from './lexer';
import type { NoteList } from './notes';
import type { KNode } from './tree';

export type Handlers = Record<string, (node: KNode) => void>;

/**
 * Every child of a block goes to its handler or into the report: the importer's guarantee that
 * nothing is dropped silently lives here.
 */
export function eachChild(parent: KNode, where: string, handlers: Handlers, notes: NoteList): void {
  for (const child of parent.children ?? []) {
    const handler = handlers[child.key];
    if (handler) handler(child);
    else notes.unconverted(child, child.key, reasonFor(child.key, where));
  }
}

/** A keyword that expects a `{ }` block but has none: keepalived reads an empty block. */
export function needBlock(node: KNode, notes: NoteList): boolean {
  if (node.children) return true;
  notes.unconverted(node, node.key, "expects a '{ ... }' block; none follows");
  return false;
}

/** A block keyword must not carry a block it does not use, and vice versa. */
export function noBlock(node: KNode, notes: NoteList): void {
  if (node.children && node.children.length > 0) {
    notes.unconverted(node, node.key, `its '{ }' block is ignored (${node.children.length} line(s)): ${node.key} takes no block`);
  }
}

export interface NumberRule {
  min: number;
  max: number;
  integer?: boolean;
}

/** args[i] as a number in range, or undefined with a note saying why it was not carried over. */
export function numberArg(node: KNode, i: number, rule: NumberRule, notes: NoteList): number | undefined {
  const text = node.args[i];
  if (text === undefined) {
    notes.unconverted(node, node.key, 'value missing');
    return undefined;
  }
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value) || (rule.integer && !Number.isInteger(value))) {
    notes.unconverted(node, node.key, `'${text}' is not ${rule.integer ? 'an integer' : 'a number'}`);
    return undefined;
  }
  if (value < rule.min || value > rule.max) {
    notes.unconverted(node, node.key, `${value} is outside ${rule.min}..${rule.max}`);
    return undefined;
  }
  return value;
}

/** Extra words keepalived ignores (or reads differently) are reported, not lost. */
export function extraArgs(node: KNode, used: number, notes: NoteList, why = 'ignored'): void {
  if (node.args.length > used) notes.unconverted(node, node.key, `extra words '${node.args.slice(used).join(' ')}' ${why}`);
}

const NAME_RE = new RegExp(NAME_PATTERN);

/** keepalived names may be any word; twinvip names are topic- and shell-safe. */
export function safeName(name: string, node: KNode, kind: string, notes: NoteList): string {
  if (NAME_RE.test(name)) return name;
  let safe = name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
  if (!/^[A-Za-z0-9]/.test(safe)) safe = `x${safe}`.slice(0, 64);
  notes.warn(node, node.key, `${kind} name '${name}' renamed '${safe}' (twinvip names use letters, digits, '_', '.', '-')`);
  return safe;
}

export interface ScriptSpec {
  argv: string[];
  /** Words after the script: keepalived's user [group] to run it as. */
  rest: string[];
}

/**
 * A script line as keepalived 2.x reads it: the raw line is re-parsed with quotes and escapes,
 * the first word after the keyword is the command (itself split into argv), further words are
 * `user [group]` for notify scripts (and ignored by vrrp_script).
 */
export function scriptArg(node: KNode, notes: NoteList): ScriptSpec | undefined {
  const top = splitQuotedEscaped(node.raw);
  if (top.error || top.words.length < 2) {
    notes.unconverted(node, node.key, top.error ?? 'script missing');
    return undefined;
  }
  const inner = splitQuotedEscaped(top.words[1] as string);
  if (inner.error || inner.words.length === 0) {
    notes.unconverted(node, node.key, inner.error ?? 'empty script');
    return undefined;
  }
  return { argv: inner.words, rest: top.words.slice(2) };
}

/** An argv as the schema's Command: a plain string when splitting it on spaces gives it back. */
export function commandOf(argv: string[]): string | string[] {
  return argv.every((w) => w !== '' && !/\s/.test(w)) ? argv.join(' ') : argv;
}

const SHELL_META = /[|&;<>()$`*?[\]~]/;

export function warnShellSyntax(node: KNode, argv: string[], notes: NoteList): void {
  if (argv.some((w) => SHELL_META.test(w))) {
    notes.warn(node, node.key, `'${argv.join(' ')}' contains shell syntax, but neither keepalived 2.x nor twinvip runs a shell: write ["/bin/sh", "-c", "..."] if one is meant`);
  }
}

export function trueFalse(node: KNode, notes: NoteList): boolean {
  const v = node.args[0];
  if (v === undefined) return true;
  if (['on', 'true', 'yes'].includes(v)) return true;
  if (['off', 'false', 'no'].includes(v)) return false;
  notes.unconverted(node, node.key, `'${v}' is not on/off, true/false or yes/no`);
  return true;
}

/** Why a known keepalived keyword has no twinvip counterpart (or, failing that, that it is unknown). */
export function reasonFor(key: string, where: string): string {
  return REASONS[key] ?? `no twinvip equivalent in ${where} (unknown to the importer; keepalived would also reject it if misspelt)`;
}

const LVS = 'IPVS (LVS) kernel load balancing is not used: Nginx proxies instead';
const REASONS: Record<string, string> = {
  // global_defs
  vrrp_skip_check_adv_addr: 'twinvip always checks the address list as the codec\'s validate policy says (warn by default)',
  checker_priority: 'no checker process: the checks run on the main thread at normal priority; only the HA thread has a priority of its own (scheduling)',
  vrrp_no_swap: 'not applied: mlockall of the daemon (a V8 runtime) made it abort (V8 cannot release locked pages); the HA thread runs real-time instead (scheduling)',
  checker_no_swap: 'no checker process; and mlockall of the daemon (a V8 runtime) made it abort',
  enable_traps: 'SNMP is not provided: MQTT reports the same events',
  enable_snmp_vrrp: 'SNMP is not provided: MQTT reports the same events',
  enable_snmp_keepalived: 'SNMP is not provided: MQTT reports the same events',
  enable_snmp_checker: 'SNMP is not provided: MQTT reports the same events',
  enable_snmp_rfc: 'SNMP is not provided: MQTT reports the same events',
  enable_dbus: 'D-Bus is not provided: use the control socket or MQTT',
  lvs_id: `old keyword (unknown to keepalived 2.2.7); ${LVS}`,
  lvs_sync_daemon: LVS,
  lvs_timeouts: LVS,
  lvs_flush: LVS,
  notify_fifo: 'notify FIFOs are not provided: use notify scripts or MQTT events',
  vrrp_notify_fifo: 'notify FIFOs are not provided: use notify scripts or MQTT events',
  lvs_notify_fifo: 'notify FIFOs are not provided: use notify scripts or MQTT events',
  dynamic_interfaces: 'interfaces must exist when twinvip starts; it follows their link state',
  vrrp_iptables: 'twinvip installs no firewall rules',
  vrrp_ipsets: 'twinvip installs no firewall rules',
  nftables: 'twinvip installs no firewall rules',
  vrrp_check_unicast_src: 'twinvip accepts unicast adverts from the configured peers only',
  max_auto_priority: 'no automatic priority increase: the HA thread runs at scheduling.rt_priority from its start (default 10)',
  vrrp_min_garp: 'set the garp fields of each instance instead',
  // vrrp_instance
  dont_track_primary: 'twinvip always follows the link of the instance interface (put it in FAULT when down)',
  use_vmac: 'virtual MAC interfaces (macvlan) are not supported: the VIP uses the interface MAC and gratuitous ARP',
  vmac_xmit_base: 'virtual MAC interfaces are not supported',
  native_ipv6: 'IPv6 instances are plain VRRPv3 in twinvip',
  accept: 'twinvip does not add firewall rules, so VIP traffic is always accepted (keepalived accept mode)',
  no_accept: 'twinvip installs no firewall rules that would drop VIP traffic',
  strict_mode: 'twinvip validates adverts by the RFC in every mode; keepalived\'s extra strict restrictions are not applied',
  debug: 'use logging.subsystems.vrrp: "debug"',
  lvs_sync_daemon_interface: LVS,
  virtual_routes: 'routes moving with the VIP are not supported: use a notify script',
  virtual_rules: 'policy rules moving with the VIP are not supported: use a notify script',
  static_ipaddress: 'static addresses belong to the system network configuration',
  static_routes: 'static routes belong to the system network configuration',
  static_rules: 'static rules belong to the system network configuration',
  promote_secondaries: 'set net.ipv4.conf.IFACE.promote_secondaries with sysctl',
  track_file: 'tracking files is not supported: use a script check that reads the file',
  track_process: 'process tracking is not supported: use a script check (pidof)',
  track_bfd: 'BFD is not supported',
  notify_master_rx_lower_pri: 'not supported: twinvip re-sends gratuitous ARP itself on hearing a lower priority',
  notify_deleted: 'not supported: use notify.stop',
  kernel_rx_buf_size: 'socket buffers are managed by twinvip',
  skip_check_adv_addr: 'twinvip checks the address list as the codec\'s validate policy says (warn by default)',
  check_unicast_src: 'twinvip accepts unicast adverts from the configured peers only',
  unicast_ttl: 'unicast adverts use TTL 255',
  unicast_fault_no_peer: 'not supported',
  // top level
  vrrp_track_process: 'process tracking is not supported: use a script check (pidof)',
  vrrp_track_file: 'tracking files is not supported: use a script check that reads the file',
  bfd_instance: 'BFD is not supported',
  virtual_server_group: LVS,
  garp_group: 'garp groups are not supported: set the garp fields of each instance',
  net_namespace: 'twinvip runs in the namespace it is started in',
  instance: 'twinvip runs one configuration per process',
  // virtual_server
  lb_kind: 'Nginx proxies (like LVS NAT); DR and TUN have no equivalent',
  persistence_timeout: 'Nginx hash $remote_addr gives client affinity without a timeout; approximated by balance hash',
  persistence_granularity: 'no Nginx equivalent',
  ha_suspend: 'upstream checks always run on both boxes (hot standby)',
  alpha: 'servers start as up in Nginx; the check takes them out after fall failures',
  omega: LVS,
  quorum: LVS,
  hysteresis: LVS,
  quorum_up: LVS,
  quorum_down: LVS,
  inhibit_on_failure: 'a failed server is marked down in Nginx (as inhibit_on_failure does with weight 0)',
  notify_up: 'per-server notify scripts are not supported: MQTT reports upstream changes',
  notify_down: 'per-server notify scripts are not supported: MQTT reports upstream changes',
  virtualhost: 'a per-server Host header is not carried over: nginx.upstreams.NAME.check.host applies to every server of the group (set virtualhost in HTTP_GET or the virtual_server)',
  MISC_CHECK: 'a MISC_CHECK belongs in a real_server block (there it becomes the upstream group\'s script check)',
  SSL_GET: 'an SSL_GET belongs in a real_server block (there it becomes the upstream group\'s https check)',
  SMTP_CHECK: 'SMTP_CHECK is not supported: use TCP_CHECK',
  DNS_CHECK: 'DNS_CHECK is not supported: use TCP_CHECK',
  BFD_CHECK: 'BFD is not supported',
  PING_CHECK: 'PING_CHECK on real servers is not supported: use TCP_CHECK',
  FILE_CHECK: 'FILE_CHECK is not supported',
  UDP_CHECK: 'UDP_CHECK is not supported',
};
