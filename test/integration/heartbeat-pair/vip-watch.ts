// Two independent witnesses of where the VIP is, for the "never on both boxes" checks:
//  - AddrMonitor: `ip -ts monitor address` in a namespace, started (and proven listening) before
//    the fault, so every add/delete of an address is seen. The time stamp is not the kernel's:
//    `ip` takes it (gettimeofday) when it reads the netlink message, so a monitor the scheduler
//    wakes late stamps the event late. Two of them compared (a VIP deleted in one namespace,
//    added in the other) then show an overlap that never was: handover "graceful stop" read
//    1 ms under stress-ng --cpu 2 --io 1. The monitors therefore run SCHED_FIFO (chrt -f, they
//    only sleep in recvmsg) and are woken at once; the daemons keep the ordinary policy;
//  - sampleVip: both boxes' addresses read together (`ip -j addr`) every ~10 ms.
// The monitor sees every change however short; the sampler is the check the issue asks for
// literally. Neither decides anything: they only record.
import { randomInt } from 'node:crypto';
import type { LabProcess, Netns } from '../helpers/netns';
import { type PairLab, VIP } from './pair-lab';

export interface AddrEvent {
  /** Wall clock ms (the machine's local time, as `ip -ts` prints it). */
  at: number;
  deleted: boolean;
  dev: string;
  addr: string;
}

export class AddrMonitor {
  private readonly markers: string[] = [];

  private constructor(
    private readonly p: PairLab,
    private readonly ns: Netns,
    private readonly proc: LabProcess,
  ) {}

  /** Starts the monitor and returns once it has reported a marker address added to lo. */
  static async start(p: PairLab, ns: Netns): Promise<AddrMonitor> {
    const m = new AddrMonitor(p, ns, ns.spawn('chrt', ['-f', '10', 'ip', '-ts', 'monitor', 'address']));
    await m.sync();
    return m;
  }

  /**
   * Adds a fresh marker address to lo and waits until the monitor reports it. Called at start it
   * proves the monitor listening; called after the fault it proves every event up to now has been
   * read (the monitor's output is a pipe: a busy machine delivers it late).
   */
  async sync(): Promise<void> {
    const marker = `127.77.${randomInt(1, 255)}.${randomInt(1, 255)}`;
    this.markers.push(marker);
    // lo only: the daemons never look at it, and the namespace takes it away at clean-up.
    await this.p.lab.waitFor(async () => {
      if (this.events().some((e) => e.addr === marker)) return true;
      await this.ns.tryRun('ip', ['addr', 'replace', `${marker}/32`, 'dev', 'lo']);
      return false;
    }, { timeoutMs: 20_000, intervalMs: 100, what: () => `ip monitor in ${this.ns.name} reporting ${marker} (its stderr: ${this.proc.stderr.trim() || 'none'})` });
  }

  /** Every address event seen so far, oldest first. */
  events(): AddrEvent[] {
    const out: AddrEvent[] = [];
    for (const line of this.proc.stdout.split('\n')) {
      const m = /^\[(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})\d*\]\s+(Deleted\s+)?\d+:\s+(\S+)\s+inet6?\s+([^/\s]+)/.exec(line);
      if (!m) continue;
      const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[];
      out.push({ at: new Date(y!, mo! - 1, d!, h!, mi!, s!, ms!).getTime(), deleted: m[8] !== undefined, dev: m[9]!, addr: m[10]! });
    }
    return out;
  }

  /** Events for `addr` after the first marker (i.e. while the monitor was proven listening). */
  eventsFor(addr: string): AddrEvent[] {
    const all = this.events();
    const from = all.findIndex((e) => e.addr === this.markers[0]);
    return all.slice(from + 1).filter((e) => e.addr === addr);
  }
}

/**
 * Intervals during which the VIP was present, from an initial state and the monitor's events,
 * clipped to [from, to].
 */
export function presence(initial: boolean, events: AddrEvent[], from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let since: number | null = initial ? from : null;
  for (const e of events) {
    if (!e.deleted && since === null) since = Math.max(from, e.at);
    if (e.deleted && since !== null) {
      out.push([since, e.at]);
      since = null;
    }
  }
  if (since !== null) out.push([since, to]);
  return out.filter(([a, b]) => b > from && a < to);
}

/** Total ms during which two sets of intervals overlap. */
export function overlapMs(x: [number, number][], y: [number, number][]): number {
  let total = 0;
  for (const [a0, a1] of x) for (const [b0, b1] of y) total += Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
  return total;
}

export interface VipSample {
  /** ms since the sampling began, when the pair of reads started and when both had answered. */
  start: number;
  end: number;
  a: boolean;
  b: boolean;
}

/**
 * Reads both boxes' addresses together every `everyMs` for `durationMs` and returns every sample.
 * The wait between samples only paces the sampling; it synchronises nothing.
 */
export async function sampleVip(p: PairLab, durationMs: number, everyMs = 10): Promise<VipSample[]> {
  const t0 = performance.now();
  const out: VipSample[] = [];
  while (performance.now() - t0 < durationMs) {
    const start = performance.now() - t0;
    const [a, b] = await Promise.all([p.hasVip(p.a), p.hasVip(p.b)]);
    out.push({ start, end: performance.now() - t0, a, b });
    const next = start + everyMs - (performance.now() - t0);
    if (next > 0) await new Promise((r) => setTimeout(r, next));
  }
  return out;
}

export { VIP };
