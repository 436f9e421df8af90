// The split-brain diagnosis: from both boxes' evidence (evidence.ts) to findings, each a cause
// id, one line of evidence and one line of fix. Pure: time is in the samples, nothing is read.
//
// Rules (README "Troubleshooting" gives the table):
// - A cause is named only from evidence for it: a counter that moved in the window, a carrier
//   read as down, a firewall rule that matches VRRP, a setting that differs. A healthy pair
//   yields nothing.
// - The Ethernet channel is judged per direction, only where a box is sending: a MASTER sends
//   adverts, a BACKUP is silent by design, so "the twin hears nothing from us" means something
//   only while we are MASTER. The LAN probe (UDP, heartbeat.probe) tells the directions apart
//   where VRRP cannot: our questions reaching the twin (its answered-questions counter moved)
//   and its answers reaching us.
// - A lost direction already explained by a cause of its own (link down, a firewall rule, NIC
//   errors, different settings, a wrong password, a wrong unicast peer) is not named again as
//   path-cut or one-way-loss.

import { canonicalAddress } from '../lib/ip';
import { deltas, TWIN_EVIDENCE_MAX_AGE_MS, windowOf, type CauseId, type CounterSample, type Finding, type InstanceEvidence, type InstanceSettings, type PairEvidence, type SideEvidence } from './evidence';

export interface DiagnoseOptions {
  /** Counters (drops, NIC errors) are judged over this window. */
  windowMs?: number;
  /** The serial error rate is compared over two consecutive windows of this length. */
  serialWindowMs?: number;
}

export const DEFAULT_WINDOW_MS = 10_000;
export const DEFAULT_SERIAL_WINDOW_MS = 30_000;

export interface Diagnosis {
  findings: Finding[];
  /** What was seen but is not enough to name a cause (e.g. one direction lost, the other unknown). */
  notes: string[];
}

type Dir = 'ok' | 'lost' | 'unknown';

const SETTING_LABEL: Record<keyof InstanceSettings, string> = {
  version: 'VRRP version',
  advert_interval_cs: 'advert interval',
  auth_type: 'authentication type',
  vips: 'VIP list',
  unicast: 'unicast/multicast',
  multicast_group: 'multicast group',
};

const SETTING_KEY: Record<keyof InstanceSettings, string> = {
  version: 'version',
  advert_interval_cs: 'advert_interval',
  auth_type: 'auth_type',
  vips: 'vips',
  unicast: 'unicast_peer',
  multicast_group: 'mcast_group',
};

export function diagnose(ev: PairEvidence, opts: DiagnoseOptions = {}): Diagnosis {
  const windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS;
  const serialWindowMs = opts.serialWindowMs ?? DEFAULT_SERIAL_WINDOW_MS;
  const L = ev.local;
  const T = ev.twin;
  const findings: Finding[] = [];
  const notes: string[] = [];
  /** instance name -> causes that explain a lost Ethernet direction for it. */
  const explained = new Set<string>();
  const add = (f: Finding, explains?: string[]) => {
    if (!findings.some((x) => x.cause === f.cause && x.instance === f.instance && x.where === f.where && x.subject === f.subject && x.evidence === f.evidence)) findings.push(f);
    for (const i of explains ?? []) explained.add(i);
  };
  const sides: SideEvidence[] = T ? [L, T] : [L];
  const instancesOn = (s: SideEvidence, iface: string) => s.instances.filter((i) => i.interface === iface);
  // Instance names are the local ones: a twin's instance is named after ours with the same VRID.
  const localName = (i: InstanceEvidence): string => L.instances.find((x) => x.vrid === i.vrid && x.family === i.family)?.name ?? i.name;

  for (const s of sides) {
    const other = s === L ? T : L;
    const here = s === L ? 'here' : `on twin ${s.node}`;
    // --- link-down and nic-errors ------------------------------------------------------------
    for (const nic of s.nics) {
      const users = instancesOn(s, nic.name).map(localName);
      if (users.length === 0) continue;
      if (nic.carrier === false) {
        add(
          {
            cause: 'link-down', ...one(users), where: s.node, subject: nic.name,
            evidence: `${nic.name} ${here}: no carrier (operstate ${nic.operstate}); instances ${users.join(', ')} cannot send or hear adverts`,
            fix: `check the cable and the switch port of ${nic.name} on ${s.node} (ip link show ${nic.name}; ethtool ${nic.name})`,
          },
          users,
        );
        continue;
      }
      const d = deltas(nic.stats, windowMs);
      const rx = d.rx_errors ?? 0;
      const tx = d.tx_errors ?? 0;
      const crc = d.rx_crc_errors ?? 0;
      const frame = d.rx_frame_errors ?? 0;
      const carrierChanges = d.carrier_changes ?? 0;
      if (rx + tx + carrierChanges > 0) {
        const parts = [`${rx} rx errors` + (crc || frame ? ` (${crc} CRC, ${frame} frame)` : ''), `${tx} tx errors`];
        if (carrierChanges) parts.push(`${carrierChanges} carrier changes`);
        add(
          {
            cause: 'nic-errors', ...one(users), where: s.node, subject: nic.name,
            evidence: `${nic.name} ${here}: ${parts.join(', ')} in the last ${Math.round(windowMs / 1000)} s`,
            fix: `replace the cable or move to another switch port; if errors persist check the NIC/driver on ${s.node} (ethtool -S ${nic.name}, dmesg)`,
          },
          users,
        );
      }
    }
    // --- firewall ----------------------------------------------------------------------------
    if (s.firewall.known) {
      for (const r of s.firewall.rules) {
        const users = (r.interface ? instancesOn(s, r.interface) : s.instances).map(localName);
        if (users.length === 0) continue;
        add(
          {
            cause: 'firewall-drops-vrrp', ...one(users), where: s.node, subject: `${r.chain}: ${r.text}`,
            evidence: `nft ${here}: ${r.chain} (${r.direction}) ${r.verdict}s VRRP${r.interface ? ` on ${r.interface}` : ''}: ${r.text}`,
            fix: `on ${s.node} delete that rule or put "ip protocol vrrp accept" before it in ${r.chain} (nft -a list chain ${r.chain} shows its handle)`,
          },
          users,
        );
      }
    }
    // --- address conflicts ---------------------------------------------------------------------
    const pairMacs = new Set([...s.nics, ...(other?.nics ?? [])].map((n) => n.mac.toLowerCase()));
    // The twin's MACs remembered from its earlier evidence: known even while its daemon is gone.
    const remembered = s === L && !T && ev.twin_macs ? ev.twin_macs : undefined;
    for (const c of s.conflicts) {
      if (pairMacs.has(c.mac.toLowerCase())) continue;
      const whose = c.kind === 'vip' ? `VIP of ${c.instance ?? 'an instance'}` : `own address of ${s.node}`;
      if (remembered?.macs.includes(c.mac.toLowerCase())) {
        // The twin's box answers for it with its daemon silent (crashed, killed): the address was
        // left on its interface. A real conflict until the twin's daemon starts and removes it.
        add({
          cause: 'address-conflict', ...(c.kind === 'vip' && c.instance ? { instance: c.instance } : {}), where: s.node, subject: `${c.ip} ${c.mac.toLowerCase()}`,
          evidence: `${c.ip} (${whose}) is answered on ${c.interface} ${here} by MAC ${c.mac}, twin ${remembered.node}'s, whose daemon does not answer (${ev.twin_unknown_reason ?? 'no evidence'}): its box still holds the address`,
          fix: `start twinvip on ${remembered.node} again (it removes addresses left behind at start), or remove ${c.ip} there by hand (ip addr show to ${c.ip}, then ip addr del)`,
        });
        continue;
      }
      add({
        cause: 'address-conflict', ...(c.kind === 'vip' && c.instance ? { instance: c.instance } : {}), where: s.node, subject: `${c.ip} ${c.mac.toLowerCase()}`,
        evidence: `${c.ip} (${whose}) is answered on ${c.interface} ${here} by MAC ${c.mac}, which is neither box of the pair`,
        fix: `find the host with MAC ${c.mac} (switch MAC table, ip neigh) and remove ${c.ip} from it, or move the address`,
      });
    }
    // --- VRID conflicts ------------------------------------------------------------------------
    for (const i of s.instances) {
      for (const f of i.foreign) {
        if (f.last_seen_ms_ago === null || f.last_seen_ms_ago > windowMs) continue;
        const name = localName(i);
        const evidence = `VRID ${i.vrid} on ${i.interface}: router ${f.source} (priority ${f.priority}) advertises [${f.addresses.join(', ')}], and it is not the twin`;
        if (findings.some((x) => x.cause === 'vrid-conflict' && x.instance === name && x.evidence === evidence)) continue;
        add({
          cause: 'vrid-conflict', instance: name, where: s.node, subject: f.source, evidence,
          fix: `give one group another VRID (on both twins), or use unicast_peer; if ${f.source} belongs to this group set mixed_group on ${name}`,
        });
      }
    }
    // --- auth, unicast source and address list drops ------------------------------------------
    for (const i of s.instances) {
      const d = deltas(i.drops, windowMs);
      const name = localName(i);
      const from = other ? ` from ${other.node}` : '';
      const wrong = d.auth ?? 0;
      const type = d['auth-type-mismatch'] ?? 0;
      // The drop counters keep no source: the drops are the twin's only if it was sending (MASTER)
      // and none of its adverts got through. Else another router on the VRID sent them, or any LAN
      // host forged them (nothing authenticates an advert's source): not the twins' settings.
      // Not the twin's: it was BACKUP for the whole window, or it is MASTER and its adverts were
      // accepted between drops (some before its last accepted advert, some after: a real mismatch
      // drops all of them from the change on, and after a fix the drops stop).
      const peer = other?.instances.find((x) => x.vrid === i.vrid && x.family === i.family);
      const notTwin =
        peer !== undefined &&
        (peer.state === 'MASTER'
          ? i.hears_twin === true && interleaved(i.drops, windowMs, i.last_twin_advert_ms_ago, ['auth', 'auth-type-mismatch'])
          : peer.state_ms !== undefined && peer.state_ms > windowMs);
      if (wrong + type > 0 && notTwin) {
        const why = [wrong ? `${wrong} with a wrong password/key` : '', type ? `${type} with another authentication type` : ''].filter(Boolean).join(', ');
        add({
          cause: 'vrid-conflict', instance: name, where: s.node, subject: 'unknown sender',
          evidence: `${s.node} dropped adverts on VRID ${i.vrid} (${i.interface}): ${why} in the last ${Math.round(windowMs / 1000)} s, while twin ${other!.node} ${peer.state === 'MASTER' ? "is MASTER and its adverts are accepted" : `is ${peer.state} (sends none)`}: they come from another router on the VRID or a forged advert (the drop counters keep no source)`,
          fix: `find the sender on ${i.interface} (tcpdump -ni ${i.interface} vrrp): a router of another group gets another VRID; the twins' own authentication agrees`,
        });
      } else if (wrong + type > 0 && peer?.state === 'MASTER' && i.hears_twin === true) {
        // The twin's adverts still arrive (within an interval and 200 ms): a change of its own
        // stops them all, a stranger's do not. Which one shows by then; name neither before.
        notes.push(`${name}: adverts with another authentication dropped on ${s.node} while the twin's are still heard: the sender is not known yet`);
      } else if (wrong + type > 0) {
        const why = [wrong ? `${wrong} for a wrong password/key` : '', type ? `${type} for another authentication type` : ''].filter(Boolean).join(', ');
        add(
          {
            cause: 'auth-mismatch', instance: name, where: s.node, subject: 'dropped adverts',
            evidence: `${s.node} dropped adverts${from} on VRID ${i.vrid}: ${why} in the last ${Math.round(windowMs / 1000)} s`,
            fix: `set the same authentication (auth_type and password/key) for ${name} on both twins`,
          },
          [name],
        );
      }
    }
    // --- serial line ---------------------------------------------------------------------------
    const serial = s.serial;
    if (serial) {
      const rate = serialRate(serial.samples, serialWindowMs);
      if (rate && rate.bad >= 3 && (rate.ratio >= 0.05 || (rate.ratio >= 0.01 && rate.ratio > 2 * rate.before))) {
        add({
          cause: 'serial-line-degrading', where: s.node, subject: 'serial',
          evidence: `serial ${here}: ${rate.bad} of ${rate.bad + rate.good} frames received damaged (CRC/noise) in the last ${Math.round(serialWindowMs / 1000)} s (${pct(rate.ratio)}), ${rate.before < 0 ? 'no earlier window' : `${pct(rate.before)} the window before`}`,
          fix: 'replace the serial cable (or its connectors/adapter) before it fails; check its length and shielding and the baud rate',
        });
      }
    }
  }

  if (!T) {
    if (ev.twin_unknown_reason) notes.push(`twin's view unknown: ${ev.twin_unknown_reason}`);
    return { findings, notes };
  }

  // --- what needs both sides: settings, unicast peers, the Ethernet directions -----------------
  for (const t of T.instances) {
    if (!L.instances.some((x) => x.vrid === t.vrid && x.family === t.family)) {
      add({
        cause: 'settings-mismatch', instance: t.name, where: T.node, subject: `VRID ${t.vrid}`,
        evidence: `${t.name} (VRID ${t.vrid}, IPv${t.family}) runs on twin ${T.node}, this box ${L.node} has no instance with that VRID`,
        fix: `configure VRID ${t.vrid} on ${L.node} too (or the same VRID on both)`,
      });
    }
  }
  for (const li of L.instances) {
    const ti = T.instances.find((x) => x.vrid === li.vrid && x.family === li.family);
    if (!ti) {
      add(
        {
          cause: 'settings-mismatch', instance: li.name, where: L.node, subject: `VRID ${li.vrid}`,
          evidence: `${li.name} (VRID ${li.vrid}, IPv${li.family}) runs here, twin ${T.node} has no instance with that VRID`,
          fix: `configure ${li.name} with VRID ${li.vrid} on ${T.node} too (or the same VRID on both)`,
        },
        [li.name],
      );
      continue;
    }
    for (const key of Object.keys(SETTING_LABEL) as (keyof InstanceSettings)[]) {
      const a = show(li.settings[key]);
      const b = show(ti.settings[key]);
      if (a === b) continue;
      const cause: CauseId = key === 'auth_type' ? 'auth-mismatch' : 'settings-mismatch';
      add(
        {
          cause, instance: li.name, where: L.node, subject: SETTING_KEY[key],
          evidence: `${li.name} ${SETTING_LABEL[key]} (${SETTING_KEY[key]}): ${a} on ${L.node}, ${b} on ${T.node}`,
          fix: `make ${SETTING_KEY[key]} of ${li.name} the same on both twins`,
        },
        [li.name],
      );
    }
    for (const [me, peer, mine] of [[L, T, li], [T, L, ti]] as const) {
      if (mine.unicast_peers.length === 0) continue;
      const peerInst = peer.instances.find((x) => x.vrid === mine.vrid && x.family === mine.family);
      const real = new Set([...(peerInst ? [peerInst.address] : []), ...peer.addresses].map((a) => canonicalAddress(a) ?? a));
      const configured = mine.unicast_peers.map((a) => canonicalAddress(a) ?? a);
      if (configured.some((a) => real.has(a))) continue;
      add(
        {
          cause: 'peer-address-mismatch', instance: li.name, where: me.node, subject: configured.join(', '),
          evidence: `${li.name} on ${me.node} sends unicast to ${configured.join(', ')}, but twin ${peer.node}'s address on ${peerInst?.interface ?? 'its interface'} is ${peerInst?.address ?? peer.addresses.join(', ')}`,
          fix: `set unicast_peer of ${li.name} on ${me.node} to ${peerInst?.address ?? peer.addresses[0] ?? "the twin's address"}`,
        },
        [li.name],
      );
    }
    if (explained.has(li.name)) continue;
    // --- Ethernet directions ---------------------------------------------------------------------
    const missedLT = missedAdverts(ev, li, ti, 'local-sends');
    const missedTL = missedAdverts(ev, ti, li, 'twin-sends');
    const vrrpLT = direction(li, ti, missedLT);
    const vrrpTL = direction(ti, li, missedTL);
    if (vrrpLT !== 'lost' && vrrpTL !== 'lost') continue;
    // The twin's own probe verdict is evidence of the fault only if its round came after the
    // fault began: at the latest one advert interval after the listener's last advert of a lost
    // direction (a verdict from before a path cut said "the other direction passes").
    const intervalMs = li.settings.advert_interval_cs * 10;
    const since = [vrrpLT === 'lost' ? ti.last_twin_advert_ms_ago : null, vrrpTL === 'lost' ? li.last_twin_advert_ms_ago : null]
      .filter((x): x is number => typeof x === 'number')
      .map((silence) => silence - intervalMs);
    const udp = probeDirections(ev, since.length > 0 ? Math.min(...since) : undefined);
    // `missed`: the sender's adverts missing at the listener (undefined: not read together).
    const dirs: { name: string; vrrp: Dir; udp: Dir; missed: number | undefined }[] = [
      { name: `${L.node} -> ${T.node}`, vrrp: vrrpLT, udp: udp.lt, missed: missedLT },
      { name: `${T.node} -> ${L.node}`, vrrp: vrrpTL, udp: udp.tl, missed: missedTL },
    ];
    const works = (d: (typeof dirs)[number]) => d.vrrp === 'ok' || d.udp === 'ok';
    const lost = (d: (typeof dirs)[number]) => d.vrrp === 'lost' && d.udp !== 'ok';
    // With the probe passing, only adverts tell of the fault: one missing advert (lost on a busy
    // LAN, or late) with the HA path's "not heard" is enough to look, not to blame a filter. The
    // filter is named once MISSED_FOR_LOSS of them are missing; the quick re-checks watch till then.
    const passing = dirs.filter((d) => d.vrrp === 'lost' && d.udp === 'ok');
    const filtered = passing.filter((d) => d.missed === undefined || d.missed >= MISSED_FOR_LOSS);
    for (const d of passing) if (!filtered.includes(d)) notes.push(`${li.name}: one advert ${d.name} missing while the LAN probe passes that way; not named before ${MISSED_FOR_LOSS} are`);
    for (const d of filtered) {
      add({
        cause: 'vrrp-filtered', instance: li.name, where: L.node, subject: d.name,
        evidence: `${li.name}: adverts ${d.name} lost while the LAN probe (UDP) passes the same way; no nft rule on either box drops VRRP`,
        fix: 'something between the boxes filters VRRP (protocol 112 / multicast 224.0.0.18): a switch ACL, IGMP snooping or a firewall in the path; allow it, or use unicast_peer',
      });
    }
    const [a, b] = dirs as [(typeof dirs)[number], (typeof dirs)[number]];
    const gone = [a, b].filter((d) => lost(d) || d.udp === 'lost');
    const carrierUp = [L, T].every((s) => s.nics.find((n) => n.name === (s === L ? li : ti).interface)?.carrier !== false);
    if (gone.length === 2 && carrierUp) {
      add({
        cause: 'path-cut', instance: li.name, where: L.node, subject: 'LAN',
        evidence: `${li.name}: nothing passes between ${L.node} and ${T.node} on the LAN in either direction (adverts and probe), carrier up on both, serial ${L.serial?.ok ? 'fine' : 'down too'}`,
        fix: 'check the switch/VLAN between the boxes (port state, VLAN membership, a switch that failed or was replaced); both links are up',
      });
    } else if (gone.length === 1 && works(gone[0] === a ? b : a)) {
      const d = gone[0]!;
      add({
        cause: 'one-way-loss', instance: li.name, where: L.node, subject: d.name,
        evidence: `${li.name}: traffic ${d.name} is lost (${d.vrrp === 'lost' ? 'adverts' : ''}${d.vrrp === 'lost' && d.udp === 'lost' ? ' and ' : ''}${d.udp === 'lost' ? 'probe' : ''}), the other direction passes`,
        fix: `look for a one-way fault on the path ${d.name}: a switch port or VLAN filter, a unidirectional link (one fibre/pair), a bridge rule (nft bridge/ebtables) or a wrong static ARP/MAC entry`,
      });
    } else if (passing.length === 0) {
      notes.push(`${li.name}: adverts ${dirs.filter((d) => d.vrrp === 'lost').map((d) => d.name).join(' and ')} lost; the other direction cannot be judged (${udp.why})`);
    }
  }
  return { findings, notes };
}

/**
 * A direction from the sender's side: lost when it has been MASTER for a while and the listener
 * hears nothing. With both boxes' advert times read together (`missed` is then a number), that
 * is when at least MISSED_FOR_LOSS adverts left the sender after the listener's last one and long
 * enough ago to have arrived (missedAdverts), or one and the listener's HA path says "not heard":
 * a MASTER that stalled sent none, so the listener's silence (and that verdict) is not read as
 * loss. Without them, the listener's HA path's verdict.
 */
function direction(sender: InstanceEvidence, listener: InstanceEvidence, missed: number | undefined): Dir {
  if (sender.state !== 'MASTER') return 'unknown';
  // With the send times (missedAdverts counts only adverts of this MASTER term, old enough to
  // have arrived), a new MASTER is judged from its first advert on: a fault that began while it
  // was BACKUP or FAULT is named about one advert after it takes over, not two intervals later.
  if (missed !== undefined) {
    if (missed >= MISSED_FOR_LOSS) return 'lost';
    // The HA path's verdict (an interval and 200 ms of silence) counts once one advert the sender
    // did send is missing: a stalled sender has none missing.
    if (missed >= 1 && listener.hears_twin === false) return 'lost';
    return listener.hears_twin === true ? 'ok' : 'unknown';
  }
  // Without them, a new MASTER's first adverts may still be on their way: judge once it has sent a few.
  if (sender.state_ms !== undefined && sender.state_ms < 2 * sender.settings.advert_interval_cs * 10) return 'unknown';
  if (listener.hears_twin === true) return 'ok';
  if (listener.hears_twin === false) return 'lost';
  return 'unknown';
}

/** The instance pairs (ours, the twin's with the same VRID and family). */
function pairs(ev: PairEvidence): [InstanceEvidence, InstanceEvidence][] {
  const T = ev.twin;
  if (!T) return [];
  const out: [InstanceEvidence, InstanceEvidence][] = [];
  for (const li of ev.local.instances) {
    const ti = T.instances.find((x) => x.vrid === li.vrid && x.family === li.family);
    if (ti) out.push([li, ti]);
  }
  return out;
}

/** Some instance has a MASTER whose adverts the other box does not hear (a LAN probe round tells why). */
export function someDirectionLost(ev: PairEvidence): boolean {
  return pairs(ev).some(([li, ti]) => direction(li, ti, missedAdverts(ev, li, ti, 'local-sends')) === 'lost' || direction(ti, li, missedAdverts(ev, ti, li, 'twin-sends')) === 'lost');
}

/**
 * A MASTER's advert is overdue at the other box (its silence passed the interval plus a margin)
 * but no direction is lost yet: worth a look again before the next period.
 */
export function advertOverdue(ev: PairEvidence): boolean {
  if (ev.twin_ask_ms === undefined || someDirectionLost(ev)) return false;
  return pairs(ev).some(([li, ti]) =>
    ([[li, ti], [ti, li]] as const).some(([sender, listener]) => sender.state === 'MASTER' && listener.last_twin_advert_ms_ago !== null && listener.last_twin_advert_ms_ago > sender.settings.advert_interval_cs * 10 + 100 && (sender.sent_ms_ago?.[0] ?? Infinity) < sender.settings.advert_interval_cs * 10 + 500),
  );
}

/** Adverts the sender sent that the listener should have heard and did not: this many make a lost direction. */
export const MISSED_FOR_LOSS = 2;
/** The first advert of a MASTER term is sent at the transition, give or take this (one runner step). */
const TERM_SLACK_MS = 50;
/** An advert sent this long before the listener's gather has reached its state machine (wire, socket, HA thread). */
export const ADVERT_IN_FLIGHT_MS = 300;

/**
 * How many of the sender's recent adverts left it after the listener's last accepted one and
 * long enough before the listener's gather to have arrived. The two boxes' clocks are not
 * compared: each side gives ages relative to its own gather, and the twin's gather lies within
 * [ours - TWIN_EVIDENCE_MAX_AGE_MS, ours + twin_ask_ms]; each bound is taken the way that counts
 * fewer adverts. A sender that stalled sent nothing during the stall: nothing is counted for it,
 * so a brief stall of the MASTER is never read as loss.
 */
export function missedAdverts(ev: PairEvidence, sender: InstanceEvidence, listener: InstanceEvidence, who: 'local-sends' | 'twin-sends'): number | undefined {
  const R = ev.twin_ask_ms;
  const A = TWIN_EVIDENCE_MAX_AGE_MS;
  const silence = listener.last_twin_advert_ms_ago;
  const sent = sender.sent_ms_ago;
  // Not read together (or an older twin): undefined, the HA path's verdict decides.
  if (R === undefined || !sent) return undefined;
  // Never heard since the listener started: only its HA path can say.
  if (silence === null) return undefined;
  // Ages on the sender's side: after the listener's last advert for sure, and old enough to have
  // arrived; and of this MASTER term (its first advert leaves at the transition). Adverts of an
  // earlier term concern an earlier state of the path: a MASTER whose own firewall dropped its
  // sends went to FAULT; back as MASTER with the rule gone, those failed sends are no evidence.
  const term = sender.state_ms === undefined ? Infinity : sender.state_ms + TERM_SLACK_MS;
  const [newest, oldest] = who === 'local-sends' ? [A + ADVERT_IN_FLIGHT_MS, silence - R] : [R + ADVERT_IN_FLIGHT_MS, silence - A];
  return sent.filter((age) => age > newest && age < oldest && age <= term).length;
}

/** The twin's own probe verdict of its outgoing direction counts this long. */
export const TWIN_PROBE_FRESH_MS = 5000;

function probeDirections(ev: PairEvidence, faultBeganMsAgo?: number): { lt: Dir; tl: Dir; why: string } {
  const lp = ev.local.probe;
  const tp = ev.twin?.probe;
  if (!lp || !tp || ev.twin_questions_before === undefined || lp.answered === null) return { lt: 'unknown', tl: 'unknown', why: 'no LAN probe round' };
  if (lp.answered) return { lt: 'ok', tl: 'ok', why: 'probe answered' };
  const reached = tp.questions_answered > ev.twin_questions_before;
  if (reached) return { lt: 'ok', tl: 'lost', why: 'probe reached the twin, its answer did not come back' };
  // Our questions were lost on the way: what of the twin's reached us, its own round says.
  const out = tp.out;
  if (out && out.ms_ago <= TWIN_PROBE_FRESH_MS && (faultBeganMsAgo === undefined || out.ms_ago < faultBeganMsAgo)) {
    return { lt: 'lost', tl: out.dir, why: `probe did not reach the twin; the twin's own probe ${out.dir === 'ok' ? 'reached' : 'did not reach'} this box` };
  }
  return { lt: 'lost', tl: 'unknown', why: 'probe did not reach the twin' };
}

function serialRate(samples: readonly { at: number; values: Record<string, number> }[], windowMs: number): { bad: number; good: number; ratio: number; before: number } | undefined {
  if (samples.length < 2) return undefined;
  const last = samples[samples.length - 1]!;
  const at = (t: number) => {
    let s = samples[0]!;
    for (const x of samples) if (x.at <= t) s = x;
    return s;
  };
  const mid = at(last.at - windowMs);
  if (mid === last) return undefined;
  const start = at(mid.at - windowMs);
  const count = (a: typeof last, b: typeof last) => {
    const v = (k: string) => Math.max(0, (b.values[k] ?? 0) - (a.values[k] ?? 0));
    const bad = v('rejected.bad-crc') + v('rejected.noise') + v('rejected.truncated') + v('rejected.too-long');
    return { bad, good: v('accepted.heartbeat') };
  };
  const now = count(mid, last);
  const prev = start === mid ? undefined : count(start, mid);
  const ratio = now.bad + now.good === 0 ? 0 : now.bad / (now.bad + now.good);
  const before = !prev ? -1 : prev.bad + prev.good === 0 ? 0 : prev.bad / (prev.bad + prev.good);
  return { ...now, ratio, before: Math.max(before, before < 0 ? -1 : 0) };
}

/**
 * Counters `keys` grew both before and after a moment `silenceMs` before the last sample (the
 * twin's last accepted advert), within the window: drops interleaved with accepted adverts.
 */
function interleaved(samples: readonly CounterSample[], windowMs: number, silenceMs: number | null, keys: string[]): boolean {
  const w = windowOf(samples, windowMs);
  if (!w || silenceMs === null) return false;
  const cut = w.last.at - silenceMs;
  let mid: CounterSample | undefined;
  for (const x of samples) if (x.at >= w.first.at && x.at <= cut) mid = x;
  if (!mid || mid === w.first || mid === w.last) return false;
  const grew = (a: CounterSample, b: CounterSample) => keys.some((k) => (b.values[k] ?? 0) > (a.values[k] ?? 0));
  return grew(w.first, mid) && grew(mid, w.last);
}

/** The instance a box-level finding concerns, when only one instance is affected. */
function one(users: string[]): { instance?: string } {
  return users.length === 1 ? { instance: users[0]! } : {};
}

function pct(r: number): string {
  return `${(r * 100).toFixed(1)} %`;
}

function show(v: unknown): string {
  if (Array.isArray(v)) return `[${v.join(', ')}]`;
  if (typeof v === 'boolean') return v ? 'unicast' : 'multicast';
  return String(v);
}

/** The findings as text lines (CLI, console): cause, where, evidence, fix. */
export function renderDiagnosis(d: Diagnosis): string {
  if (d.findings.length === 0) return ['healthy: no cause found', ...d.notes.map((n) => `note: ${n}`)].join('\n');
  const lines: string[] = [];
  for (const f of d.findings) {
    lines.push(`${f.cause}${f.instance ? ` [${f.instance}]` : ''} (${f.where})`);
    lines.push(`  evidence: ${f.evidence}`);
    lines.push(`  fix:      ${f.fix}`);
  }
  for (const n of d.notes) lines.push(`note: ${n}`);
  return lines.join('\n');
}
