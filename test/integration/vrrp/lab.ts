/**
 * A VRRP interop lab: boxes in network namespaces, each with one interface `lan` plugged into a
 * bridge that lives in a "switch" namespace, and helpers to run twinvip and real keepalived on
 * them and to see who holds which VIP.
 *
 *   const lab = await VrrpLab.create(['a', 'b', 'c']);   // box a = 10.66.0.1, b = .2, c = .3
 *   const lab = useVrrpLab(['a', 'b']);  // in a test file: created before all, stopAll() after
 *                                        // each test, cleanup() after all; call lab() in tests
 *   const t = await lab.twinvip('a', { VI_1: {...} });   // `twinvip run` in box a (interface lan)
 *   const k = await lab.keepalived('b', kaInstance({...}));  // keepalived 2.2.7, VRRP only
 *   await lab.waitHolders(VIP, ['a']);                  // exactly box a carries VIP
 *   await t.status(); await t.counter('VI_1.drop.auth'); await t.waitLog(/VI_1: .../);
 *   await t.stop(); await t.sigkill(); await k.stop(); await k.sigkill();
 *   await lab.cut('a'); await lab.cut('a', false);      // switch port off/on, links stay up
 *   const cap = await lab.capture('ip proto 112');      // tcpdump on the bridge
 *   const lines = await lab.readCapture(await cap.stop());
 *   await lab.stopAll();                                // afterEach: daemons, VIPs, cuts
 *   await lab.cleanup();                                // afterAll: namespaces, files
 *
 * Every box gets an IPv4 address 10.66.0.N/24, a ULA fd66::N/64 and its kernel link-local
 * IPv6 address (DAD off, so all are usable at once). Nothing here sleeps: waits poll
 * observable state (`ip -j addr`, logs, `twinvip status --json`) with NetnsLab.waitFor.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { patience } from '../../helpers/patience';
import { missingPrerequisites, needsProgram, type Prerequisite } from '../../helpers/prerequisites';
import { NetnsLab, type LabProcess, type Netns } from '../helpers/netns';

export const NODE = process.execPath;
export const BUNDLE = resolve(__dirname, '../../../dist/twinvip.js');
export const IFNAME = 'lan';

export interface Box {
  role: string;
  ns: Netns;
  v4: string;
  v6: string;
  mac: string;
  linkLocal: string;
}

interface AddrInfo {
  local: string;
  family: string;
  scope: string;
  prefixlen: number;
}

/** keepalived's vrrp_instance block, from the few options the scenarios vary. */
export function kaInstance(o: {
  name?: string;
  vrid: number;
  priority: number;
  state?: 'MASTER' | 'BACKUP';
  vips: string[];
  version?: 2 | 3;
  advertInt?: number;
  password?: string;
  /** With `password`: auth_type AH (IPsec AH, HMAC-MD5-96) instead of PASS. */
  ah?: boolean;
  nopreempt?: boolean;
  ipv6?: boolean;
  unicastSrc?: string;
  unicastPeers?: string[];
  /** keepalived higher_prio_send_advert: a master that yields first sends one advert. */
  higherPrioSendAdvert?: boolean;
  /** keepalived mcast_dst_ip: the instance's own multicast group. */
  mcastGroup?: string;
  /** virtual_ipaddress_excluded: moved with the instance, not listed in adverts (any family). */
  excludedVips?: string[];
}): string {
  const lines = [
    `vrrp_instance ${o.name ?? 'VI_1'} {`,
    `  state ${o.state ?? 'BACKUP'}`,
    `  interface ${IFNAME}`,
    `  virtual_router_id ${o.vrid}`,
    `  priority ${o.priority}`,
    `  advert_int ${o.advertInt ?? 1}`,
  ];
  if (o.version) lines.push(`  version ${o.version}`);
  if (o.ipv6) lines.push('  native_ipv6');
  if (o.nopreempt) lines.push('  nopreempt');
  if (o.higherPrioSendAdvert) lines.push('  higher_prio_send_advert');
  if (o.mcastGroup) lines.push(`  mcast_dst_ip ${o.mcastGroup}`);
  if (o.password) lines.push('  authentication {', `    auth_type ${o.ah ? 'AH' : 'PASS'}`, `    auth_pass ${o.password}`, '  }');
  if (o.unicastSrc) lines.push(`  unicast_src_ip ${o.unicastSrc}`);
  if (o.unicastPeers) lines.push('  unicast_peer {', ...o.unicastPeers.map((p) => `    ${p}`), '  }');
  lines.push('  virtual_ipaddress {', ...o.vips.map((v) => `    ${v}`), '  }');
  if (o.excludedVips) lines.push('  virtual_ipaddress_excluded {', ...o.excludedVips.map((v) => `    ${v}`), '  }');
  lines.push('}');
  return lines.join('\n');
}

/**
 * One lab per test file: created before the file's tests, every daemon and VIP cleared after
 * each test (so one failure cannot break the next), removed after all of them.
 */
export function useVrrpLab(roles: string[]): () => VrrpLab {
  let lab: VrrpLab | undefined;
  beforeAll(async () => {
    // Without them the suite fails (or skips) with the reason, from describeRequiring.
    if (!VrrpLab.available()) return;
    lab = await VrrpLab.create(roles);
  });
  afterEach(async () => {
    await lab?.stopAll();
  });
  afterAll(async () => {
    await lab?.cleanup();
  });
  return () => {
    if (!lab) throw new Error('the VRRP lab was not created (beforeAll failed)');
    return lab;
  };
}

export class VrrpLab {
  readonly boxes = new Map<string, Box>();
  dir = '';
  /** The "switch": bridge br0 with one port p<role> per box. */
  switchNs!: Netns;
  private readonly daemons: LabProcess[] = [];
  private seq = 0;

  private constructor(readonly net: NetnsLab) {}

  /** A lab with keepalived as the peer: root, `ip`, keepalived. */
  static readonly prerequisites: readonly Prerequisite[] = [...NetnsLab.prerequisites, needsProgram('keepalived')];

  static available(): boolean {
    return missingPrerequisites(VrrpLab.prerequisites).length === 0;
  }

  /** Boxes named by role, in order: the first gets .1 / ::1, the next .2 / ::2, ... */
  static async create(roles: string[]): Promise<VrrpLab> {
    const net = await NetnsLab.create();
    const lab = new VrrpLab(net);
    try {
      lab.dir = await net.tmpdir();
      const sw = await net.namespace('sw');
      lab.switchNs = sw;
      await net.bridge(sw, 'br0');
      for (const [i, role] of roles.entries()) {
        const ns = await net.namespace(role);
        // Port names are per namespace: "p" + role keeps them distinct inside the switch.
        await net.veth(ns, IFNAME, sw, `p${role}`);
        await sw.run('ip', ['link', 'set', `p${role}`, 'master', 'br0']);
        const v4 = `10.66.0.${i + 1}`;
        const v6 = `fd66::${i + 1}`;
        await net.addr(ns, IFNAME, `${v4}/24`);
        await net.addr(ns, IFNAME, `${v6}/64`);
        const link = await ns.ipJson<{ address: string }[]>(['link', 'show', 'dev', IFNAME]);
        const linkLocal = await net.waitFor(
          async () => (await lab.addrsOf(ns)).find((a) => a.family === 'inet6' && a.scope === 'link')?.local,
          { timeoutMs: 10_000, what: `link-local address on ${ns.name}` },
        );
        lab.boxes.set(role, { role, ns, v4, v6, mac: link[0]!.address, linkLocal });
      }
      return lab;
    } catch (e) {
      await net.cleanup();
      throw e;
    }
  }

  box(role: string): Box {
    const b = this.boxes.get(role);
    if (!b) throw new Error(`no box ${role}`);
    return b;
  }

  private async addrsOf(ns: Netns): Promise<AddrInfo[]> {
    const j = await ns.ipJson<{ addr_info: AddrInfo[] }[]>(['addr', 'show', 'dev', IFNAME]);
    return j.flatMap((i) => i.addr_info);
  }

  /** Roles of the boxes whose `lan` carries `vip` (address without prefix), in box order. */
  async holders(vip: string): Promise<string[]> {
    const out: string[] = [];
    for (const b of this.boxes.values()) {
      if ((await this.addrsOf(b.ns)).some((a) => a.local === vip)) out.push(b.role);
    }
    return out;
  }

  /** Waits until exactly `roles` hold `vip`; the error names who held it last. */
  async waitHolders(vip: string, roles: string[], timeoutMs = 15_000, why = ''): Promise<void> {
    const want = [...roles].sort().join(',');
    let last: string[] = [];
    try {
      await this.net.waitFor(async () => ((last = await this.holders(vip)), [...last].sort().join(',') === want), { timeoutMs, intervalMs: 100 });
    } catch {
      throw new Error(`${vip}: expected on [${want}], found on [${last.join(',')}] after ${patience(timeoutMs)} ms ${why}`);
    }
  }

  /**
   * Cuts box `role` off the LAN (or reconnects it) with its links still up: the switch stops
   * forwarding on its port (bridge port state disabled / forwarding; allowed with STP off), so
   * neither side sees a carrier change and both keep running their VRRP as on a broken path.
   */
  async cut(role: string, cut = true): Promise<void> {
    await this.switchNs.run('bridge', ['link', 'set', 'dev', `p${role}`, 'state', cut ? '0' : '3']);
  }

  /** Removes `vip` from every box (a SIGKILLed daemon leaves it behind). */
  async scrub(vip: string, prefix: number): Promise<void> {
    for (const b of this.boxes.values()) await b.ns.tryRun('ip', ['addr', 'del', `${vip}/${prefix}`, 'dev', IFNAME]);
  }

  waitFor<T>(cond: () => Promise<T> | T, opts: { timeoutMs?: number; intervalMs?: number; what?: string | (() => string) } = {}): Promise<NonNullable<T>> {
    return this.net.waitFor(cond, opts);
  }

  /**
   * `twinvip run` in box `role` with these instances (interface defaults to `lan`);
   * `extra`: more top-level config sections (sync_groups, checks...). */
  async twinvip(role: string, instances: Record<string, Record<string, unknown>>, extra: Record<string, unknown> = {}): Promise<Twinvip> {
    const tag = `t${++this.seq}`;
    const file = join(this.dir, `${tag}.json`);
    const sock = join(this.dir, `${tag}.sock`);
    const withIf = withInterface(instances);
    await writeFile(
      file,
      JSON.stringify({
        node: { name: `box-${role}`, state_dir: join(this.dir, tag) },
        control: { socket: sock },
        logging: { level: 'debug', format: 'text' },
        instances: withIf,
        ...extra,
      }),
    );
    const p = this.box(role).ns.spawn(NODE, [BUNDLE, 'run', '-c', file]);
    this.daemons.push(p);
    return new Twinvip(this, p, sock, file);
  }

  /** keepalived 2.2.7 (VRRP only) in box `role` with these vrrp_instance blocks. */
  async keepalived(role: string, ...instances: string[]): Promise<Keepalived> {
    const tag = `k${++this.seq}`;
    const conf = join(this.dir, `${tag}.conf`);
    const vrrpPid = join(this.dir, `${tag}-vrrp.pid`);
    await writeFile(conf, [`global_defs {\n  router_id ${tag}\n  enable_script_security\n}`, ...instances].join('\n') + '\n');
    // -R: no respawn, so a SIGKILLed VRRP child stays dead (a power loss, not a crash loop).
    const p = this.box(role).ns.spawn('keepalived', ['-n', '-l', '-D', '-P', '-R', '-f', conf, '-p', join(this.dir, `${tag}.pid`), '-r', vrrpPid]);
    this.daemons.push(p);
    return new Keepalived(this, p, vrrpPid);
  }

  /**
   * tcpdump on the switch's bridge (every frame between the boxes), written to a pcap file;
   * resolves once tcpdump is listening. stop() ends it (SIGTERM flushes) and returns the file.
   */
  async capture(filter: string): Promise<{ file: string; stop(): Promise<string> }> {
    const file = join(this.dir, `cap${++this.seq}.pcap`);
    const p = this.switchNs.spawn('tcpdump', ['--immediate-mode', '-U', '-n', '-i', 'br0', '-w', file, filter]);
    await this.waitFor(() => /listening on/.test(p.stderr) || (!p.running && Promise.reject(new Error(p.stderr))), {
      timeoutMs: 10_000,
      what: 'tcpdump listening',
    });
    return {
      file,
      stop: async () => {
        await p.kill(5000);
        return file;
      },
    };
  }

  /** One line per packet of a pcap file (`tcpdump -r -n`), read in the switch namespace. */
  async readCapture(file: string, filter = ''): Promise<string[]> {
    const out = await this.switchNs.run('tcpdump', ['-n', '-r', file, ...(filter ? [filter] : [])]);
    return out.split('\n').filter((l) => l.trim() !== '');
  }

  /**
   * Stops every daemon still running (SIGTERM, then SIGKILL) and puts the LAN back as created,
   * for afterEach: a failed test must not leave a master, a VIP or a cut behind to confuse the
   * next one. Namespaces stay.
   */
  async stopAll(): Promise<void> {
    await Promise.all(this.daemons.splice(0).map((p) => p.kill(5000).catch(() => undefined)));
    // Leftovers of a SIGKILLed daemon (or a failed test): every address but the box's own goes,
    // and every switch port forwards again.
    for (const b of this.boxes.values()) {
      for (const a of await this.addrsOf(b.ns)) {
        if (![b.v4, b.v6, b.linkLocal].includes(a.local)) await b.ns.tryRun('ip', ['addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', IFNAME]);
      }
      await this.cut(b.role, false);
    }
  }

  async cleanup(): Promise<void> {
    await this.net.cleanup();
  }
}

export interface TwinvipInstanceStatus {
  name: string;
  state: string;
  priority: number;
  master: { address: string; priority: number } | null;
  last_transition: { from: string; to: string; cause: string } | null;
}

function withInterface(instances: Record<string, Record<string, unknown>>): Record<string, Record<string, unknown>> {
  return Object.fromEntries(Object.entries(instances).map(([n, i]) => [n, { interface: IFNAME, ...i }]));
}

export class Twinvip {
  constructor(
    private readonly lab: VrrpLab,
    readonly proc: LabProcess,
    readonly socket: string,
    readonly configFile: string,
  ) {}

  out(): string {
    return this.proc.stdout + this.proc.stderr;
  }

  /**
   * Rewrites the config file with these instances (interface defaults to `lan`; other sections
   * kept) and sends SIGHUP; resolves once the daemon has logged the n-th VRRP reload.
   */
  async reload(instances: Record<string, Record<string, unknown>>): Promise<void> {
    const cfg = JSON.parse(await readFile(this.configFile, 'utf8')) as Record<string, unknown>;
    cfg.instances = withInterface(instances);
    await writeFile(this.configFile, JSON.stringify(cfg));
    const n = (this.out().match(/reload applied/g)?.length ?? 0) + 1;
    this.proc.child.kill('SIGHUP');
    await this.lab.waitFor(() => (this.out().match(/reload applied/g)?.length ?? 0) >= n || (!this.proc.running && Promise.reject(new Error('twinvip exited'))), {
      timeoutMs: 15_000,
      what: () => `VRRP reload #${n}\n${this.out()}`,
    });
  }

  /** `twinvip status --json`, or undefined while the control socket is not up. */
  async status(): Promise<{ instances: TwinvipInstanceStatus[]; counters: Record<string, Record<string, number>> } | undefined> {
    const r = await new Promise<{ code: number; stdout: string }>((res) =>
      execFile(NODE, [BUNDLE, 'status', '--json', '-s', this.socket], { timeout: patience(15_000) }, (err, stdout) =>
        res({ code: err ? 1 : 0, stdout: String(stdout) }),
      ),
    );
    if (r.code !== 0) return undefined;
    return JSON.parse(r.stdout) as { instances: TwinvipInstanceStatus[]; counters: Record<string, Record<string, number>> };
  }

  async counter(name: string): Promise<number> {
    return (await this.status())?.counters.vrrp?.[name] ?? 0;
  }

  async state(instance = 'VI_1'): Promise<string | undefined> {
    return (await this.status())?.instances.find((i) => i.name === instance)?.state;
  }

  /** Waits for a log line matching `re`; the error shows the log. */
  waitLog(re: RegExp, timeoutMs = 15_000): Promise<true> {
    return this.lab.waitFor(() => re.test(this.out()) || (!this.proc.running && Promise.reject(new Error('twinvip exited'))), {
      timeoutMs,
      what: () => `twinvip log ${re}\n${this.out()}`,
    }) as Promise<true>;
  }

  /** Graceful: SIGTERM (priority 0, VIPs removed), waits for the exit. */
  async stop(): Promise<number | null> {
    await this.proc.kill(10_000);
    return this.proc.exitCode;
  }

  /** A crash / power loss: SIGKILL, nothing sent, VIPs left behind. */
  async sigkill(): Promise<void> {
    this.proc.child.kill('SIGKILL');
    await this.proc.exited;
  }
}

export class Keepalived {
  constructor(
    private readonly lab: VrrpLab,
    readonly proc: LabProcess,
    private readonly vrrpPidFile: string,
  ) {}

  out(): string {
    return this.proc.stdout + this.proc.stderr;
  }

  /** Waits for keepalived's log to match `re` `count` times (e.g. a second "Entering MASTER"). */
  waitLog(re: RegExp, timeoutMs = 15_000, count = 1): Promise<true> {
    const g = new RegExp(re.source, 'g');
    return this.lab.waitFor(() => (this.out().match(g)?.length ?? 0) >= count || (!this.proc.running && Promise.reject(new Error('keepalived exited'))), {
      timeoutMs,
      what: () => `keepalived log ${re} x${count}\n${this.out()}`,
    }) as Promise<true>;
  }

  /** Graceful: SIGTERM; keepalived sends priority 0 and removes its VIPs. */
  async stop(): Promise<void> {
    await this.proc.kill(10_000);
  }

  /**
   * A crash: SIGKILL of the VRRP child (the process holding the sockets and the VIPs; its PID
   * from the -r file), then of the parent. Nothing is sent, the VIPs stay configured.
   */
  async sigkill(): Promise<void> {
    const pid = Number((await readFile(this.vrrpPidFile, 'utf8')).trim());
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    if (this.proc.running) this.proc.child.kill('SIGKILL');
    await this.proc.exited;
  }
}
