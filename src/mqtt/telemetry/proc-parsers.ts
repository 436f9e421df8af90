// Parsers of the kernel's text files read on the telemetry path. Pure functions over strings,
// so they are tested on fixture text; the reading is in collect.ts.

export interface Load {
  load1: number;
  load5: number;
  load15: number;
}

/** /proc/loadavg: "0.97 1.36 0.90 1/129 619". */
export function parseLoadavg(text: string): Load | undefined {
  const [a, b, c] = text.trim().split(/\s+/).map(Number);
  if (a === undefined || b === undefined || c === undefined || [a, b, c].some(Number.isNaN)) return undefined;
  return { load1: a, load5: b, load15: c };
}

/** Aggregate CPU jiffies from /proc/stat's first line; busy = everything but idle and iowait. */
export interface CpuTimes {
  total: number;
  idle: number;
}

export function parseProcStatCpu(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  if (v.length < 4 || v.some(Number.isNaN)) return undefined;
  // user nice system idle iowait irq softirq steal guest guest_nice: guest time is already in user/nice.
  const fields = v.slice(0, 8);
  const total = fields.reduce((s, x) => s + x, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { total, idle };
}

/** Busy percentage between two samples, 0..100 with one decimal; undefined without a previous sample. */
export function cpuPercent(prev: CpuTimes | undefined, cur: CpuTimes): number | undefined {
  if (!prev) return undefined;
  const dt = cur.total - prev.total;
  if (dt <= 0) return undefined;
  const busy = dt - (cur.idle - prev.idle);
  return Math.round((1000 * Math.min(Math.max(busy, 0), dt)) / dt) / 10;
}

export interface Memory {
  total_kb: number;
  available_kb: number;
  used_pct: number;
  swap_total_kb: number;
  swap_free_kb: number;
}

/** /proc/meminfo; MemAvailable (since Linux 3.14) is the kernel's own estimate of what is free for use. */
export function parseMeminfo(text: string): Memory | undefined {
  const kv = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)/.exec(line);
    if (m) kv.set(m[1]!, Number(m[2]));
  }
  const total = kv.get('MemTotal');
  if (total === undefined || total === 0) return undefined;
  const available = kv.get('MemAvailable') ?? (kv.get('MemFree') ?? 0) + (kv.get('Buffers') ?? 0) + (kv.get('Cached') ?? 0);
  return {
    total_kb: total,
    available_kb: available,
    used_pct: Math.round((1000 * (total - available)) / total) / 10,
    swap_total_kb: kv.get('SwapTotal') ?? 0,
    swap_free_kb: kv.get('SwapFree') ?? 0,
  };
}

export interface NicCounters {
  rx_bytes: number;
  rx_packets: number;
  rx_errors: number;
  rx_dropped: number;
  tx_bytes: number;
  tx_packets: number;
  tx_errors: number;
  tx_dropped: number;
}

/** /proc/net/dev: every interface's counters in one read (instead of eight sysfs files each). */
export function parseNetDev(text: string): Map<string, NicCounters> {
  const out = new Map<string, NicCounters>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const v = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === '' || v.length < 16 || v.some(Number.isNaN)) continue;
    out.set(name, {
      rx_bytes: v[0]!, rx_packets: v[1]!, rx_errors: v[2]!, rx_dropped: v[3]!,
      tx_bytes: v[8]!, tx_packets: v[9]!, tx_errors: v[10]!, tx_dropped: v[11]!,
    });
  }
  return out;
}

/** /sys/class/net/IF/speed: Mbit/s, or undefined when the link is down (-1 or EINVAL) or unknown. */
export function parseSpeed(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.trim());
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** /sys/class/thermal/thermal_zone*\/temp: millidegrees Celsius -> degrees with one decimal. */
export function parseMilliCelsius(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text.trim());
  return Number.isFinite(n) && text.trim() !== '' ? Math.round(n / 100) / 10 : undefined;
}
