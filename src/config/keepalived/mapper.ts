import { addressFamily } from '../../lib/ip';
import { emptyGlobals, mapGlobalDefs, type Globals } from './map-global';
import { mapVrrpInstance, type MappedInstance } from './map-instance';
import { mapVirtualServer, type MappedVirtualServer } from './map-lvs';
import { mapVrrpScript } from './map-script';
import { mapSyncGroup, type MappedSyncGroup } from './map-sync-group';
import type { NoteList } from './notes';
import type { KNode } from './tree';
import { reasonFor, safeName } from './walk';

export interface Mapped {
  config: Record<string, unknown>;
  virtualServers: MappedVirtualServer[];
}

// ajv-formats' e-mail pattern (fast mode): a domain with at least one dot.
const EMAIL = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;
const HOST = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/**
 * Named blocks (`vrrp_script NAME`, `vrrp_instance NAME`): a block without a name, or with a name
 * seen before, is noted and skipped; the others get a safe name and go to `map`, which says
 * whether it converted them. Returns written name -> safe name of those converted.
 */
function named(blocks: readonly KNode[], what: string, twice: string, notes: NoteList, map: (n: KNode, name: string) => boolean): Map<string, string> {
  const names = new Map<string, string>();
  for (const n of blocks) {
    const written = n.args[0];
    if (written === undefined) {
      notes.unconverted(n, what, 'name missing');
      continue;
    }
    if (names.has(written)) {
      notes.unconverted(n, `${what} ${written}`, twice);
      continue;
    }
    const name = safeName(written, n, what, notes);
    if (map(n, name)) names.set(written, name);
  }
  return names;
}

/** The parsed keepalived tree to a twinvip configuration object; every loss goes into `notes`. */
export function mapKeepalived(nodes: readonly KNode[], notes: NoteList): Mapped {
  const g: Globals = emptyGlobals();
  const byKey = (key: string) => nodes.filter((n) => n.key === key);
  for (const n of byKey('global_defs')) mapGlobalDefs(n, g, notes);

  const config: Record<string, unknown> = {};
  const checks: Record<string, unknown> = {};
  const checkNames = named(byKey('vrrp_script'), 'vrrp_script', 'defined twice: the first definition is kept', notes, (n, name) => {
    const m = mapVrrpScript(n, name, notes);
    if (m) checks[name] = m.check;
    return m !== undefined;
  });

  const instances: MappedInstance[] = [];
  const instanceNames = named(byKey('vrrp_instance'), 'vrrp_instance', 'defined twice: keepalived refuses this; the first definition is kept', notes, (n, name) => {
    const m = mapVrrpInstance(n, name, g, notes);
    if (m) instances.push(m);
    return m !== undefined;
  });

  if (instances.length === 0 && notes.refused.length === 0) {
    const at = nodes[0] as KNode;
    notes.refuse(at, 'vrrp_instance', byKey('vrrp_instance').length === 0
      ? 'the configuration has no vrrp_instance: there is nothing for twinvip to run (LVS-only configurations have no VRRP to carry over; an unfilled template often ends up so)'
      : 'no vrrp_instance could be converted (see the lines above)');
  }

  const groups: MappedSyncGroup[] = [];
  for (const n of byKey('vrrp_sync_group')) {
    const written = n.args[0];
    if (written === undefined) {
      notes.unconverted(n, 'vrrp_sync_group', 'name missing');
      continue;
    }
    const m = mapSyncGroup(n, safeName(written, n, 'vrrp_sync_group', notes), notes);
    if (m) groups.push(m);
  }

  const virtualServers: MappedVirtualServer[] = [];
  for (const n of byKey('virtual_server')) {
    const m = mapVirtualServer(n, notes);
    if (!m) continue;
    const prev = virtualServers.find((v) => v.name === m.name);
    // keepalived 2.2.7 refuses a second virtual_server on the same address, port and protocol.
    if (prev) notes.unconverted(n, `virtual_server ${n.args.join(' ')}`, `defined twice (also at ${prev.at.file}:${prev.at.line}): the first is kept`);
    else virtualServers.push(m);
  }

  const handled = new Set(['global_defs', 'vrrp_script', 'vrrp_instance', 'vrrp_sync_group', 'virtual_server']);
  for (const n of nodes) if (!handled.has(n.key)) notes.unconverted(n, n.key, reasonFor(n.key, 'the top level'));

  // --- global sections
  if (g.nodeName !== undefined) {
    const at = byKey('global_defs')[0] as KNode;
    let name = g.nodeName.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 63);
    if (!/^[A-Za-z0-9]/.test(name)) name = `n${name}`.slice(0, 63);
    if (name !== g.nodeName) notes.warn(at, 'router_id', `'${g.nodeName}' becomes node.name '${name}'`);
    config.node = { name };
  }
  if (Object.keys(g.notify).length > 0) config.notify = g.notify;
  if (Object.keys(g.scheduling).length > 0) config.scheduling = g.scheduling;

  let email: Record<string, unknown> | undefined;
  const e = g.email;
  if (e.at) {
    const to = e.to.filter((a) => {
      if (EMAIL.test(a)) return true;
      notes.unconverted(e.at as KNode, 'notification_email', `'${a}' is not an address twinvip accepts (user@domain.tld)`);
      return false;
    });
    if (e.server === undefined) notes.unconverted(e.at, 'notification_email', 'no smtp_server: keepalived sends no mail either; e-mail alerts not configured');
    else if (!HOST.test(e.server) && addressFamily(e.server) === undefined) notes.unconverted(e.at, 'smtp_server', `'${e.server}' is not a host name or address`);
    else if (to.length === 0) notes.unconverted(e.at, 'smtp_server', 'no notification_email recipient: e-mail alerts not configured');
    else {
      let from = e.from;
      if (from === undefined || !EMAIL.test(from)) {
        const fallback = `twinvip@${(g.nodeName ?? 'twinvip').replace(/[^A-Za-z0-9-]/g, '-')}.localdomain`;
        notes.warn(e.at, 'notification_email_from', `${from === undefined ? 'not set (keepalived uses keepalived@HOSTNAME)' : `'${from}' is not a full address`}: '${fallback}' used — set email.from`);
        from = fallback;
      }
      email = { smtp_server: e.server, from, to };
      if (e.port !== undefined) email.smtp_port = e.port;
      if (e.timeout !== undefined) email.connect_timeout = e.timeout;
      if (e.helo !== undefined && HOST.test(e.helo)) email.smtp_helo = e.helo;
      // keepalived speaks plain SMTP only; keep it so unless the server offers STARTTLS.
      config.email = email;
    }
  }

  // --- instances
  if (instances.length > 0) {
    const out: Record<string, unknown> = {};
    for (const m of instances) {
      const refs: (string | Record<string, unknown>)[] = [];
      for (const t of m.trackScripts) {
        const check = checkNames.get(t.name);
        if (check === undefined) {
          notes.unconverted(t.at, t.name, `no vrrp_script named '${t.name}' (keepalived ignores this line too)`);
          continue;
        }
        const ownWeight = (checks[check] as { weight?: number }).weight;
        if (t.weight === undefined || t.weight === ownWeight) refs.push(check);
        else if (t.weight === 0) {
          if (ownWeight === undefined) refs.push(check);
          else notes.unconverted(t.at, 'weight 0', `an override to "FAULT on failure" cannot be expressed while vrrp_script ${t.name} has weight ${ownWeight}: the script's weight applies`);
        } else refs.push({ name: check, weight: t.weight });
      }
      if (refs.length > 0) m.instance.track_checks = refs;
      if (m.smtpAlert) {
        if (email) m.instance.smtp_alert = true;
        else notes.unconverted(m.smtpAlertAt, 'smtp_alert', `vrrp_instance ${m.name}: no usable e-mail settings in global_defs (notification_email, smtp_server)`);
      }
      out[m.name] = m.instance;
    }
    config.instances = out;
  }
  if (Object.keys(checks).length > 0) config.checks = checks;

  if (groups.length > 0) {
    const out: Record<string, unknown> = {};
    const memberOf = new Map<string, string>();
    for (const sg of groups) {
      const members: string[] = [];
      for (const mem of sg.members) {
        const inst = instanceNames.get(mem.name);
        if (inst === undefined) notes.unconverted(mem.at, mem.name, `no vrrp_instance named '${mem.name}' (keepalived refuses the sync group member too)`);
        else if (memberOf.has(inst)) notes.unconverted(mem.at, mem.name, `already in sync group ${memberOf.get(inst)}: an instance belongs to one group`);
        else if (!members.includes(inst)) {
          members.push(inst);
          memberOf.set(inst, sg.name);
        }
      }
      if (members.length === 0) continue;
      const group: Record<string, unknown> = { instances: members, ...sg.group };
      if (sg.smtpAlert ?? g.smtpAlert) {
        if (email) group.smtp_alert = true;
        else notes.unconverted(sg.smtpAlertAt, 'smtp_alert', `vrrp_sync_group ${sg.name}: no usable e-mail settings in global_defs (notification_email, smtp_server)`);
      }
      out[sg.name] = group;
    }
    if (Object.keys(out).length > 0) config.sync_groups = out;
  }

  if (virtualServers.length > 0) {
    const upstreams: Record<string, unknown> = {};
    for (const vs of virtualServers) upstreams[vs.name] = vs.upstream;
    config.nginx = { enabled: false, upstreams, stream: virtualServers.map((v) => v.server) };
    notes.warn(virtualServers[0]?.at as KNode, 'virtual_server',
      'LVS virtual servers become Nginx stream servers (nginx.stream) and upstream groups; nginx.enabled is left false: review, then enable. '
      + 'They listen on the virtual address: set net.ipv4.ip_nonlocal_bind=1 (net.ipv6.ip_nonlocal_bind for IPv6) on both boxes so the backup\'s Nginx can bind it, or drop listen.address to listen on every address');
  }
  return { config, virtualServers };
}
