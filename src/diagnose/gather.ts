// The shell of the diagnosis: reads this box's evidence (evidence.ts) without touching the HA
// timing path. Everything here runs on the main thread, asynchronously: the VRRP and heartbeat
// facts come from the HA thread's mirror (views, heartbeat status, counters), the NIC facts from
// /sys/class/net, the firewall from `nft -j list ruleset` (a child process: read again as soon as
// `nft monitor ruleset`, a long-lived child, prints a change, and every NFT_SAFETY_MS; every
// NFT_EVERY_MS when the monitor cannot run; the monitor dies with the daemon, see watchProgram),
// address conflicts passively (RFC 5227 section 2.4):
// received ARP whose sender is one of our addresses, on a packet socket whose BPF filter wakes us
// for nothing else (src/net/arp-watch.ts), so an idle box forks nothing and sends no ARP. Active
// `arping -D` probes (RFC 5227 2.1.1, sender 0.0.0.0) only on demand: at `twinvip diagnose`, when
// an instance becomes MASTER (a box that still holds the VIP silently answers it), and every
// ARP_CONFIRM_MS while a conflict is held (to keep or clear it); never while all is quiet.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { canonicalAddress } from '../lib/ip';
import { ArpWatch, type ArpSighting } from '../net/arp-watch';
import type { HeartbeatStatus } from '../ha/heartbeat/status';
import type { InstanceView } from '../ha/vrrp/runner';
import { pushSample, type AddressConflict, type CounterSample, type FirewallEvidence, type InstanceEvidence, type InstanceSettings, type NicEvidence, type SideEvidence } from './evidence';
import { vrrpDroppingRules } from './nft';

/** The ruleset is read this often when `nft monitor` cannot tell us of changes. */
export const NFT_EVERY_MS = 2000;
/** With the monitor running, read anyway this often (a change it missed, e.g. while restarting). */
export const NFT_SAFETY_MS = 30_000;
/** A conflicting ARP (or a probe's answer) is held as evidence this long after it was last seen. */
export const ARP_HOLD_MS = 15_000;
/** While a conflict is held, its addresses are probed this often (an answer keeps it). */
export const ARP_CONFIRM_MS = 5000;
/** At most this many addresses are watched and probed. */
const ARP_MAX_TARGETS = 32;
/** Samples are kept this long (two serial windows and some). */
export const KEEP_MS = 70_000;
/** At most this many samples per history: two gathers a second (ours and the twin's asks) over KEEP_MS. */
const MAX_SAMPLES = 160;
const NIC_STATS = ['rx_errors', 'tx_errors', 'rx_crc_errors', 'rx_frame_errors', 'rx_dropped', 'tx_dropped', 'rx_packets', 'tx_packets'] as const;
const SERIAL_KEYS = ['accepted.heartbeat', 'rejected.bad-crc', 'rejected.noise', 'rejected.truncated', 'rejected.too-long'];

export interface GatherInputs {
  node: string;
  nodeId: string;
  uptimeMs: number;
  /** The runner's monotonic clock (transition times in the views are on it). */
  runnerNow: number;
  views: readonly InstanceView[];
  heartbeat: HeartbeatStatus | { enabled: false };
  counters: Record<string, Record<string, number>>;
  /** The monotonic clock of this thread, for the samples. */
  now: number;
}

/** Opens the passive ARP watch of one interface (ArpWatch; a fake in unit tests). */
export type OpenArpWatch = (ifname: string, onSighting: (s: ArpSighting) => void) => Pick<ArpWatch, 'setAddresses' | 'close' | 'error' | 'counters'>;

type Run = (file: string, args: string[], timeoutMs: number) => Promise<{ code: number | string; stdout: string; stderr: string }>;
/** Starts a long-lived watcher (`nft monitor ruleset`): calls onLine per output line, onExit once. */
type Watch = (file: string, args: string[], onLine: () => void, onExit: (why: string) => void) => { stop(): void };

const runProgram: Run = (file, args, timeoutMs) =>
  new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout, stderr) => {
      const code = err ? ((err as NodeJS.ErrnoException).code ?? (err as { status?: number }).status ?? 1) : 0;
      resolve({ code: typeof code === 'number' || typeof code === 'string' ? code : 1, stdout: String(stdout), stderr: String(stderr) });
    });
  });

const watchProgram: Watch = (file, args, onLine, onExit) => {
  let child: ChildProcess | undefined;
  let done = false;
  const exit = (why: string) => {
    if (done) return;
    done = true;
    onExit(why);
  };
  try {
    // Through setpriv (util-linux, essential on Debian) with PR_SET_PDEATHSIG: the watcher dies
    // with the daemon even when the daemon is SIGKILLed (nothing else would end it before its
    // next output). setpriv sets it and execs the program, same PID; without setpriv, as is.
    const setpriv = setprivPath();
    child = setpriv
      ? spawn(setpriv, ['--pdeathsig', 'KILL', '--', file, ...args], { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LC_ALL: 'C' } })
      : spawn(file, args, { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, LC_ALL: 'C' } });
  } catch (err) {
    queueMicrotask(() => exit(err instanceof Error ? err.message : String(err)));
    return { stop: () => undefined };
  }
  child.stdout?.on('data', () => onLine());
  child.on('error', (err) => exit(err.message));
  child.on('exit', (code, signal) => exit(`exit ${code ?? signal}`));
  return {
    stop: () => {
      done = true;
      // Our own child, by its handle (never by name).
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
};

let setpriv: string | null | undefined;
/** util-linux's setpriv, where installed (looked up once). */
function setprivPath(): string | null {
  setpriv ??= ['/usr/bin/setpriv', '/bin/setpriv'].find((f) => existsSync(f)) ?? null;
  return setpriv;
}

/** Keeps the sample histories between gathers and the rate-limited results. */
export class EvidenceGatherer {
  private readonly drops = new Map<string, CounterSample[]>();
  /** The settings each instance's drop history was counted under. */
  private readonly dropsKey = new Map<string, string>();
  private readonly nicStats = new Map<string, CounterSample[]>();
  private readonly serial: CounterSample[] = [];
  private firewall: FirewallEvidence = { known: false, reason: 'not read yet' };
  private firewallAt = -Infinity;
  private firewallBusy: Promise<void> | undefined;
  /** Conflicting sightings and probe answers by "ip mac": the newest of each. */
  private readonly held = new Map<string, { c: AddressConflict; at: number }>();
  private conflicts: AddressConflict[] = [];
  private arpBusy: Promise<void> | undefined;
  /** A probe round is wanted at the next gather (an instance became MASTER). */
  private probeWanted = false;
  /** The next confirmation probe while a conflict is held. */
  private arpTimer: NodeJS.Timeout | undefined;
  private readonly arpWatches = new Map<string, ReturnType<OpenArpWatch>>();
  /** This box's MAC per interface (sightings from it are our own frames). */
  private readonly ownMacs = new Map<string, string>();
  readonly arpCounters = { sightings: 0, probe_rounds: 0 };
  private monitor: { stop(): void } | undefined;
  private monitoring = false;
  private lastViews: readonly InstanceView[] = [];
  private changed: (() => void) | undefined;

  constructor(
    private readonly run: Run = runProgram,
    private readonly sysfs = '/sys/class/net',
    private readonly watch: Watch = watchProgram,
    private readonly openArpWatch: OpenArpWatch = (ifname, on) => new ArpWatch(ifname, on),
    /** The clock of the held ARP evidence (a fake in unit tests). */
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /**
   * Watches the ruleset (`nft monitor ruleset`): a change is read at once, and `onChange` is
   * called when what the firewall or the ARP probes found differs from before (so the diagnosis
   * runs at once instead of at its next period). Without nft, the ruleset is polled.
   */
  start(onChange: () => void): void {
    this.changed = onChange;
    if (this.monitor) return;
    this.monitoring = true;
    this.monitor = this.watch(
      'nft',
      ['monitor', 'ruleset'],
      () => {
        this.firewallAt = -Infinity;
        void this.refreshFirewall(performance.now(), this.lastViews);
      },
      () => {
        // nft missing, or it died: poll every NFT_EVERY_MS from now on.
        this.monitoring = false;
        this.monitor = undefined;
      },
    );
  }

  stop(): void {
    if (this.arpTimer) clearTimeout(this.arpTimer);
    this.arpTimer = undefined;
    for (const w of this.arpWatches.values()) w.close();
    this.arpWatches.clear();
    this.monitor?.stop();
    this.monitor = undefined;
    this.monitoring = false;
    this.changed = undefined;
  }

  async gather(i: GatherInputs): Promise<SideEvidence> {
    const hb = i.heartbeat.enabled ? i.heartbeat : undefined;
    this.lastViews = i.views;
    const ifaces = [...new Set(i.views.map((v) => v.plan.interface))];
    const instances: InstanceEvidence[] = i.views.map((v) => {
      const p = v.plan;
      const eth = hb?.ethernet.find((e) => e.vrid === p.params.vrid && e.family === p.family);
      const pair = hb?.pair.instances.find((x) => x.instance === p.name);
      const settings: InstanceSettings = {
        version: p.params.version,
        advert_interval_cs: p.params.advertIntervalCs,
        auth_type: p.authType === 1 ? 'pass' : p.authType === 2 ? 'ah' : 'none',
        vips: [...p.advertised].map((a) => canonicalAddress(a) ?? a).sort(),
        unicast: p.unicast,
        multicast_group: p.unicast ? '' : p.multicastGroup,
      };
      // Drops counted under settings this instance no longer has (a password, interval or
      // address list changed by a reload) say nothing about the settings now: start over.
      const key = JSON.stringify([settings, p.authData, p.ahKey]);
      if (this.dropsKey.get(p.name) !== key) this.drops.delete(p.name);
      this.dropsKey.set(p.name, key);
      const hist = this.drops.get(p.name) ?? [];
      this.drops.set(p.name, hist);
      pushSample(hist, { at: i.now, values: { ...v.drops } }, KEEP_MS, MAX_SAMPLES);
      const last = v.snapshot.lastTransition;
      return {
        name: p.name,
        vrid: p.params.vrid,
        family: p.family,
        interface: p.interface,
        state: v.snapshot.state,
        ...(last ? { state_ms: Math.max(0, Math.round(i.runnerNow - last.at)) } : {}),
        address: p.params.primaryAddress,
        unicast_peers: p.unicast ? [...p.destinations] : [],
        settings,
        hears_twin: eth ? eth.ok : null,
        last_twin_advert_ms_ago: eth ? eth.last_advert_ms_ago : null,
        sent_ms_ago: v.sentAt.map((t) => Math.max(0, Math.round(i.runnerNow - t))).reverse(),
        drops: hist,
        foreign: (pair?.conflicts ?? []).map((c) => ({ source: c.source, priority: c.priority, addresses: c.addresses, last_seen_ms_ago: c.last_seen_ms_ago, count: c.count })),
      };
    });
    for (const name of [...this.drops.keys()]) if (!instances.some((x) => x.name === name)) this.drops.delete(name);
    for (const name of [...this.dropsKey.keys()]) if (!instances.some((x) => x.name === name)) this.dropsKey.delete(name);
    const hbc = i.counters.heartbeat ?? {};
    if (hb) pushSample(this.serial, { at: i.now, values: Object.fromEntries(SERIAL_KEYS.map((k) => [k, hbc[k] ?? 0])) }, KEEP_MS, MAX_SAMPLES);
    // nft answers in tens of ms: waited for when due, so a new rule shows in this diagnosis.
    const firewall = this.refreshFirewall(i.now, i.views);
    const nics = await Promise.all(ifaces.map((n) => this.nic(n, i.now)));
    await firewall;
    this.refreshConflicts(i.views);
    const own = new Set<string>();
    for (const v of i.views) {
      own.add(v.plan.params.primaryAddress);
      for (const a of v.plan.expectation.ownAddresses) own.add(a);
    }
    return {
      node: i.node,
      node_id: i.nodeId,
      uptime_ms: Math.round(i.uptimeMs),
      addresses: [...own],
      instances,
      nics,
      firewall: this.firewall,
      conflicts: this.conflicts,
      serial: hb ? { ok: hb.serial.ok, samples: this.serial } : null,
      probe: 'probe.questions_answered' in hbc ? { answered: null, questions_answered: hbc['probe.questions_answered'] ?? 0 } : null,
    };
  }

  /** Waits for the rate-limited readers in flight (tests, the `diagnose` command). */
  async settled(): Promise<void> {
    await Promise.all([this.firewallBusy, this.arpBusy]);
  }

  private async nic(name: string, now: number): Promise<NicEvidence> {
    // Synchronous: a sysfs attribute is generated in memory, a read takes microseconds. Read
    // asynchronously, the 12 files per interface and gather (two gathers a second: ours and the
    // twin's question) were ~100 thread-pool hand-offs a second at idle (issue 22).
    const read = (f: string): string | undefined => {
      try {
        return readFileSync(`${this.sysfs}/${name}/${f}`, 'utf8').trim();
      } catch {
        return undefined;
      }
    };
    const [carrier, operstate, mac, changes, ...stats] = [read('carrier'), read('operstate'), read('address'), read('carrier_changes'), ...NIC_STATS.map((s) => read(`statistics/${s}`))];
    const values: Record<string, number> = {};
    NIC_STATS.forEach((s, k) => {
      const n = Number(stats[k]);
      if (Number.isFinite(n)) values[s] = n;
    });
    if (changes !== undefined && Number.isFinite(Number(changes))) values.carrier_changes = Number(changes);
    const hist = this.nicStats.get(name) ?? [];
    this.nicStats.set(name, hist);
    pushSample(hist, { at: now, values }, KEEP_MS, MAX_SAMPLES);
    // carrier is unreadable (EINVAL) while the interface is administratively down.
    if (mac) this.ownMacs.set(name, mac.toLowerCase());
    const up = carrier === '1' ? true : carrier === '0' || operstate === 'down' ? false : null;
    return { name, carrier: up, operstate: operstate ?? 'unknown', mac: mac ?? '', stats: hist };
  }

  private refreshFirewall(now: number, views: readonly InstanceView[]): Promise<void> | undefined {
    if (this.firewallBusy) {
      // A change announced while a read is in flight: read again after it.
      if (this.firewallAt === -Infinity) void this.firewallBusy.then(() => this.refreshFirewall(performance.now(), this.lastViews));
      return this.firewallBusy;
    }
    if (now - this.firewallAt < (this.monitoring ? NFT_SAFETY_MS : NFT_EVERY_MS)) return undefined;
    this.firewallAt = now;
    const groups = [...new Set(views.filter((v) => !v.plan.unicast).map((v) => v.plan.multicastGroup))];
    const before = JSON.stringify(this.firewall);
    this.firewallBusy = this.run('nft', ['-j', 'list', 'ruleset'], 3000)
      .then((r) => {
        if (r.code === 'ENOENT') this.firewall = { known: false, reason: 'nft not installed: firewall unknown' };
        else if (r.code !== 0) this.firewall = { known: false, reason: `nft failed: ${(r.stderr.split('\n')[0] ?? '').slice(0, 200) || `exit ${r.code}`}` };
        else this.firewall = { known: true, rules: vrrpDroppingRules(r.stdout, groups) };
        if (JSON.stringify(this.firewall) !== before) this.changed?.();
      })
      .catch((err: unknown) => {
        this.firewall = { known: false, reason: `nft output unreadable: ${err instanceof Error ? err.message : String(err)}` };
      })
      .finally(() => {
        this.firewallBusy = undefined;
      });
    return this.firewallBusy;
  }

  /** Passive watch and probe counters, with the watches' own (`diagnose` counters). */
  arpStats(): Record<string, number> {
    const out: Record<string, number> = { ...this.arpCounters, watches: this.arpWatches.size, watch_errors: 0, frames: 0, floods: 0 };
    for (const w of this.arpWatches.values()) {
      out.frames! += w.counters.frames;
      out.floods! += w.counters.floods;
      out.watch_errors! += w.counters.errors;
    }
    return out;
  }

  /** A probe round at the next gather (an instance became MASTER: is its VIP held elsewhere?). */
  probeSoon(): void {
    this.probeWanted = true;
  }

  /** An RFC 5227 probe round now for every watched address (`twinvip diagnose`), awaited. */
  async probeNow(): Promise<void> {
    await this.arpBusy;
    await this.probe(this.arpTargets(this.lastViews));
  }

  /**
   * The addresses whose conflicts are looked for: the box's own IPv4 addresses and the VIPs it
   * holds as MASTER (the twin's MAC is told apart by the diagnosis, which knows the twin's NICs).
   */
  private arpTargets(views: readonly InstanceView[]): { ip: string; iface: string; kind: 'vip' | 'own'; instance?: string }[] {
    const targets: { ip: string; iface: string; kind: 'vip' | 'own'; instance?: string }[] = [];
    const seen = new Set<string>();
    const add = (t: (typeof targets)[number]) => {
      if (t.ip.includes(':') || seen.has(t.ip) || targets.length >= ARP_MAX_TARGETS) return;
      seen.add(t.ip);
      targets.push(t);
    };
    for (const v of views) add({ ip: v.plan.params.primaryAddress, iface: v.plan.interface, kind: 'own' });
    for (const v of views) {
      if (v.snapshot.state !== 'MASTER') continue;
      for (const a of v.plan.advertised) add({ ip: a, iface: v.plan.interface, kind: 'vip', instance: v.plan.name });
    }
    return targets;
  }

  /** The watches follow the views; the held evidence is trimmed to what is still ours and recent. */
  private refreshConflicts(views: readonly InstanceView[]): void {
    const targets = this.arpTargets(views);
    if (this.changed) {
      const byIface = new Map<string, string[]>();
      for (const t of targets) byIface.set(t.iface, [...(byIface.get(t.iface) ?? []), t.ip]);
      for (const [name, w] of [...this.arpWatches]) {
        if (byIface.has(name)) continue;
        w.close();
        this.arpWatches.delete(name);
      }
      for (const [name, ips] of byIface) {
        let w = this.arpWatches.get(name);
        if (!w) {
          try {
            w = this.openArpWatch(name, (s) => this.sighted(s));
          } catch {
            continue; // no addon (unit tests without it): the on-demand probes remain
          }
          this.arpWatches.set(name, w);
        }
        w.setAddresses(ips);
      }
    }
    if (this.probeWanted && this.changed) {
      this.probeWanted = false;
      void this.probe(targets);
    }
    this.recompute(targets);
  }

  private sighted(s: ArpSighting): void {
    const own = this.ownMacs.get(s.interface);
    if (own !== undefined && own === s.senderMac) return;
    this.arpCounters.sightings++;
    const t = this.arpTargets(this.lastViews).find((x) => x.ip === s.senderIp && x.iface === s.interface);
    if (!t) return;
    this.hold({ ip: t.ip, mac: s.senderMac, interface: t.iface, kind: t.kind, ...(t.instance ? { instance: t.instance } : {}) }, this.clock());
    this.recompute(this.arpTargets(this.lastViews));
  }

  private hold(c: AddressConflict, at: number): void {
    this.held.set(`${c.ip} ${c.mac}`, { c, at });
  }

  /** conflicts = held evidence that is recent and about an address still watched; tells the diagnosis of a change. */
  private recompute(targets: readonly { ip: string }[]): void {
    const now = this.clock();
    const watched = new Set(targets.map((t) => t.ip));
    for (const [k, h] of [...this.held]) if (now - h.at > ARP_HOLD_MS || !watched.has(h.c.ip)) this.held.delete(k);
    const before = JSON.stringify(this.conflicts);
    this.conflicts = [...this.held.values()].map((h) => h.c).sort((x, y) => `${x.ip} ${x.mac}`.localeCompare(`${y.ip} ${y.mac}`));
    if (JSON.stringify(this.conflicts) !== before) this.changed?.();
    this.scheduleConfirm();
  }

  /** While a conflict is held (and the gatherer started), its addresses are probed every ARP_CONFIRM_MS. */
  private scheduleConfirm(): void {
    if (this.held.size === 0 || !this.changed) {
      if (this.arpTimer) clearTimeout(this.arpTimer);
      this.arpTimer = undefined;
      return;
    }
    if (this.arpTimer) return;
    this.arpTimer = setTimeout(() => {
      this.arpTimer = undefined;
      const ips = new Set([...this.held.values()].map((h) => h.c.ip));
      void this.probe(this.arpTargets(this.lastViews).filter((t) => ips.has(t.ip))).then(() => this.recompute(this.arpTargets(this.lastViews)));
    }, ARP_CONFIRM_MS);
    this.arpTimer.unref();
  }

  /** One `arping -D` per target (RFC 5227 probes: sender 0.0.0.0): an answer is another host with the address. */
  private probe(targets: readonly { ip: string; iface: string; kind: 'vip' | 'own'; instance?: string }[]): Promise<void> {
    if (this.arpBusy || targets.length === 0) return this.arpBusy ?? Promise.resolve();
    this.arpCounters.probe_rounds++;
    this.arpBusy = Promise.all(
      targets.map(async (t) => {
        const r = await this.run('arping', ['-D', '-I', t.iface, '-c', '1', '-w', '1', t.ip], 3000);
        if (r.code === 'ENOENT') return;
        const at = this.clock();
        for (const m of r.stdout.matchAll(/reply from (\S+) \[([0-9A-Fa-f:]{17})\]/g)) {
          const mac = m[2]!.toLowerCase();
          if (mac === this.ownMacs.get(t.iface)) continue;
          this.hold({ ip: t.ip, mac, interface: t.iface, kind: t.kind, ...(t.instance ? { instance: t.instance } : {}) }, at);
        }
      }),
    )
      .then(() => this.recompute(this.arpTargets(this.lastViews)))
      .finally(() => {
        this.arpBusy = undefined;
      });
    return this.arpBusy;
  }
}

/**
 * The evidence trimmed for the twin (one serial response, at most 16 KiB): of each history only
 * the samples the diagnosis compares (the last one and those `offsets` ms before it).
 */
export function forTwin(e: SideEvidence, windowMs: number, serialWindowMs: number): SideEvidence {
  return {
    ...e,
    // Also the drops up to the twin's last accepted advert (were drops interleaved with accepted adverts?).
    instances: e.instances.map((x) => ({ ...x, drops: thin(x.drops, [windowMs, ...(x.last_twin_advert_ms_ago !== null ? [x.last_twin_advert_ms_ago] : [])]) })),
    nics: e.nics.map((n) => ({ ...n, stats: thin(n.stats, [windowMs]) })),
    serial: e.serial ? { ok: e.serial.ok, samples: thin(e.serial.samples, [2 * serialWindowMs, serialWindowMs]) } : null,
    conflicts: e.conflicts.slice(0, 16),
    firewall: e.firewall.known ? { known: true, rules: e.firewall.rules.slice(0, 16) } : e.firewall,
  };
}

function thin(samples: readonly CounterSample[], offsets: number[]): CounterSample[] {
  if (samples.length <= 1) return [...samples];
  const last = samples[samples.length - 1]!;
  const picked = new Set<CounterSample>();
  for (const off of offsets) {
    // The oldest sample inside the window (what windowOf/serialRate would compare against).
    const inside = samples.find((s) => last.at - s.at <= off);
    const before = [...samples].reverse().find((s) => s.at <= last.at - off);
    if (before) picked.add(before);
    if (inside && inside !== last) picked.add(inside);
  }
  picked.add(last);
  return samples.filter((s) => picked.has(s));
}

/** The twin's evidence as it came over serial: checked for shape, or undefined. */
export function parseSideEvidence(text: string): SideEvidence | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Partial<SideEvidence>;
  const arrays = [o.addresses, o.instances, o.nics, o.conflicts];
  if (typeof o.node !== 'string' || !arrays.every(Array.isArray) || typeof o.firewall !== 'object' || o.firewall === null) return undefined;
  for (const i of o.instances!) {
    if (typeof i !== 'object' || i === null || typeof i.vrid !== 'number' || typeof i.settings !== 'object' || !Array.isArray(i.drops) || !Array.isArray(i.foreign) || !Array.isArray(i.unicast_peers)) return undefined;
  }
  for (const n of o.nics!) if (typeof n !== 'object' || n === null || typeof n.name !== 'string' || !Array.isArray(n.stats)) return undefined;
  return o as SideEvidence;
}
