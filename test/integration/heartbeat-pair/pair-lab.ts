// Two twinvip boxes in network namespaces on one LAN bridge (in its own namespace, so a port can
// be disabled while every box's own link stays UP), with a socat pty pair as the serial cable.
//
//   ns a: la 10.77.0.1 ─┐
//   ns b: lb 10.77.0.2 ─┼─ ns s: br0   (ports pla, plb, plc)
//   ns c: lc 10.77.0.9 ─┘   (client)
//   serial: socat pty A <-> pty B; each daemon opens the /dev/pts/N its link points to.
import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { requestOnce } from '../../../src/control';
import { patience } from '../../helpers/patience';
import { SocatPair } from '../heartbeat/socat-pair';
import { NetnsLab, type LabProcess, type Netns } from '../helpers/netns';

export const NODE = process.execPath;
export const BUNDLE = resolve(__dirname, '../../../dist/twinvip.js');
export const VIP = '10.77.0.100';
/**
 * A key of this run's own, so frames of another run's boxes never authenticate here. It does not
 * stop our own two boxes from hearing each other through another run's socat: the boxes open the
 * socat link paths for that (writeConfig).
 */
export const KEY = `pair-test-key-${randomBytes(12).toString('hex')}`;

export interface Box {
  id: 'a' | 'b';
  ns: Netns;
  ifname: string;
  port: string;
  priority: number;
  socket: string;
  config: string;
  proc: LabProcess | undefined;
  /** Output of every run of this box, oldest first (a restart appends). */
  log(): string;
}

/**
 * A pair file's hooks: beforeAll runs `start` (PairLab.startPair({...}) usually) when namespaces
 * are available (without them the suite's describeRequiring fails, or skips) and hands the lab to
 * `use`; afterAll runs `after` (if given) and then the lab's clean-up.
 *
 *   let p: PairLab;
 *   pairLabHooks(() => PairLab.startPair(), (lab) => (p = lab));
 */
export function pairLabHooks(start: () => Promise<PairLab>, use: (p: PairLab) => void, after?: () => Promise<void> | void): void {
  let lab: PairLab | undefined;
  beforeAll(async () => {
    if (!NetnsLab.available()) return;
    lab = await start();
    use(lab);
  }, patience(60_000));
  afterAll(async () => {
    await after?.();
    await lab?.cleanup();
  }, patience(60_000));
}

export class PairLab {
  lab!: NetnsLab;
  s!: Netns;
  c!: Netns;
  a!: Box;
  b!: Box;
  dir!: string;
  serial: SocatPair | undefined;
  /** A serial line of the test's own (startPair's `line`), closed by cleanup(). */
  line: SerialLine | undefined;
  private readonly past = new Map<string, string>();

  static async create(): Promise<PairLab> {
    const p = new PairLab();
    await p.setup();
    return p;
  }

  /**
   * The set-up most pair tests share: the lab, a serial cable, both configurations, both daemons
   * started (see PairStart). It returns once the daemons are spawned; a test waits for the states
   * it needs (masterIs).
   */
  static async startPair(opts: PairStart = {}): Promise<PairLab> {
    const p = await PairLab.create();
    try {
      await p.startPair(opts);
    } catch (err) {
      // The caller never gets the lab: its namespaces, socat and daemons go here.
      await p.cleanup().catch(() => undefined);
      throw err;
    }
    return p;
  }

  /** startPair on a lab already created (a test that adds namespaces or addresses first). */
  async startPair(opts: PairStart = {}): Promise<void> {
    if (opts.line) this.line = await opts.line(this.lab, this.dir);
    else await this.startSerial();
    await opts.before?.(this);
    for (const box of [this.a, this.b]) {
      const line = this.line;
      const o = { ...(line ? { device: line.device(box.id) } : {}), ...opts.options?.(box) };
      await this.writeConfig(box, opts.config?.(box) ?? {}, o);
    }
    if (opts.start === 'a-first') {
      // a must be MASTER before b starts (a test of a pair whose roles do not move, preempt off).
      this.start(this.a);
      await this.waitFor(async () => (await this.state(this.a)) === 'MASTER', () => `a MASTER${this.logs()}`, 30_000);
      this.start(this.b);
    } else {
      this.start(this.a);
      this.start(this.b);
    }
  }

  private async setup(): Promise<void> {
    this.lab = await NetnsLab.create();
    const lab = this.lab;
    this.s = await lab.namespace('s');
    await lab.bridge(this.s, 'br0');
    const na = await lab.namespace('a');
    const nb = await lab.namespace('b');
    this.c = await lab.namespace('c');
    await lab.vethToBridge(na, 'la', this.s, 'br0');
    await lab.vethToBridge(nb, 'lb', this.s, 'br0');
    await lab.vethToBridge(this.c, 'lc', this.s, 'br0');
    await lab.addr(na, 'la', '10.77.0.1/24');
    await lab.addr(nb, 'lb', '10.77.0.2/24');
    await lab.addr(this.c, 'lc', '10.77.0.9/24');
    this.dir = await lab.tmpdir();
    const box = (id: 'a' | 'b', ns: Netns, priority: number): Box => {
      const b: Box = {
        id, ns, ifname: `l${id}`, port: `pl${id}`, priority,
        socket: join(this.dir, `ctl-${id}.sock`),
        config: join(this.dir, `twinvip-${id}.json`),
        proc: undefined,
        log: () => (this.past.get(id) ?? '') + (b.proc ? b.proc.stdout + b.proc.stderr : ''),
      };
      return b;
    };
    this.a = box('a', na, 150);
    this.b = box('b', nb, 100);
  }

  async startSerial(): Promise<void> {
    this.serial = new SocatPair();
    await this.serial.start();
  }

  /**
   * `opts.device`: the serial device the box opens. Default (and 'link'): socat's link path in
   * this run's temp dir, never the /dev/pts/N it points to. A killed socat removes its links
   * before its ptys are freed, so the daemon's reopen finds nothing; had it opened /dev/pts/N,
   * the next socat on the machine (another run's) gets the freed numbers and its pty pair joins
   * our two boxes again: dual-heartbeat (b) saw the serial channel ok 6 s after its cable was cut
   * under load. A restarted socat of ours (same links, new pts) is found again. 'pts' opens the
   * /dev/pts/N the link points to now; any other string is used as it is.
   * `opts.serial` / `opts.fence` are merged into heartbeat.serial / set as heartbeat.fence.
   */
  async writeConfig(box: Box, extra: Record<string, unknown> = {}, opts: ConfigOptions = {}): Promise<void> {
    const link = () => (box.id === 'a' ? this.serial!.a : this.serial!.b);
    const device = opts.device === undefined || opts.device === 'link' ? link() : opts.device === 'pts' ? realpathSync(link()) : opts.device;
    await writeFile(
      box.config,
      JSON.stringify({
        node: { name: `box-${box.id}`, state_dir: this.dir },
        control: { socket: box.socket },
        logging: { level: 'info', format: 'text' },
        instances: {
          VI_1: { interface: box.ifname, vrid: 77, priority: box.priority, advert_int: 1, vips: [`${VIP}/24`] },
        },
        heartbeat: {
          // Dead after 2 s (20 periods), not the 500 ms of the benchmarks: these tests check which
          // row of the decision table acts, and on a loaded machine a daemon or the socat relay can
          // stall for most of a second, which with 500 ms reads as "twin dead" and races the row
          // under test (seen: a release frame arriving after the twin was declared dead).
          serial: { device, node_id: box.id === 'a' ? 1 : 2, key: KEY, period_ms: 100, dead_periods: 20, ...opts.serial },
          // The probe of a silent twin likewise waits 1.5 s of serial silence here (150 ms by
          // default) and gives the twin 250 ms to answer: on a loaded machine a stalled daemon
          // must not read as a dead one in tests of other rows (twin-probe.test.ts sets its own).
          probe: { after_ms: 1500, tries: 5, interval_ms: 50, ...opts.probe },
          ...(opts.fence ? { fence: opts.fence } : {}),
        },
        ...extra,
      }),
    );
  }

  /** `status --json` counters.heartbeat of the box (rejected.*, accepted.*, sent.*, garp_bursts, ...). */
  async counters(box: Box): Promise<Record<string, number> | null> {
    const r = await requestOnce(box.socket, 'status', undefined, { timeoutMs: 3000 });
    if (!r.ok || r.response.status !== 'ok') return null;
    return (r.response.data as { counters: Record<string, Record<string, number>> }).counters.heartbeat ?? null;
  }

  async mac(box: Box): Promise<string> {
    const l = await box.ns.ipJson<{ address: string }[]>(['link', 'show', 'dev', box.ifname]);
    return l[0]!.address;
  }

  start(box: Box): LabProcess {
    if (box.proc) this.past.set(box.id, box.log());
    box.proc = box.ns.spawn(NODE, [BUNDLE, 'run', '-c', box.config]);
    return box.proc;
  }

  async state(box: Box): Promise<string | null> {
    const r = await requestOnce(box.socket, 'status', undefined, { timeoutMs: 3000 });
    if (!r.ok || r.response.status !== 'ok') return null;
    const s = r.response.data as { instances: { state: string }[] };
    return s.instances[0]?.state ?? null;
  }

  async heartbeat(box: Box, args?: Record<string, unknown>): Promise<HeartbeatView | null> {
    const r = await requestOnce(box.socket, 'heartbeat', args, { timeoutMs: 5000 });
    if (!r.ok || r.response.status !== 'ok') return null;
    return r.response.data as HeartbeatView;
  }

  /** Both boxes' logs, for the message of a wait that timed out. */
  logs(): string {
    return `\n--- a ---\n${this.a.log()}\n--- b ---\n${this.b.log()}`;
  }

  /** `box` MASTER and `other` BACKUP by their status, and the VIP on `box`. */
  async masterIs(box: Box, other: Box): Promise<void> {
    await this.waitFor(async () => (await this.state(box)) === 'MASTER' && (await this.state(other)) === 'BACKUP', () => `${box.id} MASTER, ${other.id} BACKUP${this.logs()}`, 30_000);
    await this.waitFor(() => this.hasVip(box), `VIP on ${box.id}`);
  }

  async hasVip(box: Box): Promise<boolean> {
    const addrs = await box.ns.ipJson<{ addr_info: { local: string }[] }[]>(['addr', 'show', 'dev', box.ifname]);
    return addrs.some((i) => i.addr_info.some((x) => x.local === VIP));
  }

  /** Disables the box's bridge port: frames stop, but the box's own link stays UP (carrier on). */
  async cutLan(box: Box): Promise<void> {
    await this.s.run('bridge', ['link', 'set', 'dev', box.port, 'state', '0']);
  }

  async healLan(box: Box): Promise<void> {
    await this.s.run('bridge', ['link', 'set', 'dev', box.port, 'state', '3']);
  }

  waitFor<T>(cond: () => Promise<T> | T, what: string | (() => string), timeoutMs = 20_000): Promise<NonNullable<T>> {
    return this.lab.waitFor(cond, { timeoutMs, what, intervalMs: 100 });
  }

  async cleanup(): Promise<void> {
    this.line?.close();
    await this.lab?.cleanup();
    await this.serial?.cleanup().catch(() => undefined);
  }
}

/** A serial line between the boxes other than the plain socat pair (NoisyLine, RecordingLine). */
export interface SerialLine {
  device(end: 'a' | 'b'): string;
  close(): void;
}

/** What PairLab.startPair does besides the common part. Every field is optional. */
export interface PairStart {
  /** The cable: default a socat pty pair (startSerial); else a line of the test's own, whose device(id) each box opens. */
  line?: (lab: NetnsLab, dir: string) => Promise<SerialLine>;
  /** After the cable, before the configurations are written: files they name, a broker. */
  before?: (p: PairLab) => Promise<void> | void;
  /** Extra top-level keys of the box's configuration (writeConfig's `extra`). */
  config?: (box: Box) => Record<string, unknown>;
  /** writeConfig's options for the box (serial, probe, fence, device). */
  options?: (box: Box) => ConfigOptions;
  /** 'both' (default): both daemons at once; 'a-first': b starts once a is MASTER. */
  start?: 'both' | 'a-first';
}

export interface ConfigOptions {
  device?: string;
  serial?: Record<string, unknown>;
  fence?: Record<string, unknown>;
  probe?: Record<string, unknown>;
}

export interface HeartbeatView {
  enabled: boolean;
  serial: { ok: boolean; port_open: boolean; last_heard_ms_ago: number | null };
  ethernet: { instance: string; ok: boolean; last_advert_ms_ago: number | null }[];
  peer: { node_id: string; config_matches: boolean; instances: { state: string; priority: number; hears_our_adverts: boolean | null }[] } | null;
  alarms: { id: string; message: string }[];
}
