import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  cpuPercent, parseLoadavg, parseMeminfo, parseMilliCelsius, parseNetDev, parseProcStatCpu, parseSpeed,
  type CpuTimes, type Load, type Memory, type NicCounters,
} from './proc-parsers';

/** Extra telemetry (Nginx stub_status, ...): resolves to any JSON value, or rejects. */
export type TelemetryProvider = () => Promise<unknown>;

export interface NicTelemetry extends Partial<NicCounters> {
  /** operstate: up, down, dormant, unknown... */
  state?: string;
  carrier?: boolean;
  speed_mbps?: number;
}

export interface Telemetry {
  ts: string;
  load?: Load;
  cpu_pct?: number;
  memory?: Memory;
  uptime_s?: number;
  nics: Record<string, NicTelemetry>;
  temperatures: Record<string, number>;
  [provider: string]: unknown;
}

/**
 * Reads load, CPU, memory, NICs and temperatures straight from /proc and /sys with async reads
 * only. No systeminformation (not shipped in the image either): its currentLoad() runs execSync and
 * networkStats() spawns processes (DESIGN.md pitfalls), which would delay VRRP adverts.
 * `root` lets tests point it at a fixture tree.
 */
export class TelemetryCollector {
  private prevCpu: CpuTimes | undefined;
  readonly providers = new Map<string, TelemetryProvider>();

  constructor(private readonly root = '/', private readonly providerTimeoutMs = 2000) {}

  async collect(now: number = Date.now()): Promise<Telemetry> {
    const [loadavg, stat, meminfo, netdev, uptime, nics, temperatures, extra] = await Promise.all([
      this.read('proc/loadavg'),
      this.read('proc/stat'),
      this.read('proc/meminfo'),
      this.read('proc/net/dev'),
      this.read('proc/uptime'),
      this.nicStates(),
      this.temperatures(),
      this.runProviders(),
    ]);
    const out: Telemetry = { ts: new Date(now).toISOString(), nics: {}, temperatures };
    const load = loadavg !== undefined ? parseLoadavg(loadavg) : undefined;
    if (load) out.load = load;
    const cpu = stat !== undefined ? parseProcStatCpu(stat) : undefined;
    if (cpu) {
      const pct = cpuPercent(this.prevCpu, cpu);
      if (pct !== undefined) out.cpu_pct = pct;
      this.prevCpu = cpu;
    }
    const mem = meminfo !== undefined ? parseMeminfo(meminfo) : undefined;
    if (mem) out.memory = mem;
    const up = uptime !== undefined ? Number(uptime.trim().split(/\s+/)[0]) : NaN;
    if (Number.isFinite(up)) out.uptime_s = Math.round(up);
    const counters = netdev !== undefined ? parseNetDev(netdev) : new Map<string, NicCounters>();
    for (const [name, st] of nics) out.nics[name] = { ...st, ...counters.get(name) };
    for (const [name, value] of Object.entries(extra)) out[name] = value;
    return out;
  }

  private async nicStates(): Promise<Map<string, NicTelemetry>> {
    const out = new Map<string, NicTelemetry>();
    const names = await this.list('sys/class/net');
    await Promise.all(
      names.filter((n) => n !== 'lo').map(async (name) => {
        const [state, carrier, speed] = await Promise.all([
          this.read(`sys/class/net/${name}/operstate`),
          this.read(`sys/class/net/${name}/carrier`),
          this.read(`sys/class/net/${name}/speed`),
        ]);
        const nic: NicTelemetry = {};
        if (state !== undefined) nic.state = state.trim();
        if (carrier !== undefined && carrier.trim() !== '') nic.carrier = carrier.trim() === '1';
        const s = parseSpeed(speed);
        if (s !== undefined) nic.speed_mbps = s;
        out.set(name, nic);
      }),
    );
    return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Boards without thermal zones (most VMs) give an empty object. */
  private async temperatures(): Promise<Record<string, number>> {
    const zones = (await this.list('sys/class/thermal')).filter((z) => z.startsWith('thermal_zone')).sort();
    const out: Record<string, number> = {};
    await Promise.all(
      zones.map(async (zone) => {
        const [type, temp] = await Promise.all([this.read(`sys/class/thermal/${zone}/type`), this.read(`sys/class/thermal/${zone}/temp`)]);
        const c = parseMilliCelsius(temp);
        if (c !== undefined) out[type?.trim() || zone] = c;
      }),
    );
    return out;
  }

  private async runProviders(): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    await Promise.all(
      [...this.providers].map(async ([name, provider]) => {
        let timer: NodeJS.Timeout | undefined;
        try {
          out[name] = await Promise.race([
            provider(),
            new Promise((_, reject) => {
              timer = setTimeout(() => reject(new Error(`no answer within ${this.providerTimeoutMs} ms`)), this.providerTimeoutMs);
            }),
          ]);
        } catch (err) {
          out[name] = { error: err instanceof Error ? err.message : String(err) };
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    return out;
  }

  private async read(rel: string): Promise<string | undefined> {
    try {
      return await readFile(join(this.root, rel), 'utf8');
    } catch {
      return undefined;
    }
  }

  private async list(rel: string): Promise<string[]> {
    try {
      return await readdir(join(this.root, rel));
    } catch {
      return [];
    }
  }
}
