import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TelemetryCollector } from '../../../src/mqtt/telemetry/collect';
import {
  cpuPercent, parseLoadavg, parseMeminfo, parseMilliCelsius, parseNetDev, parseProcStatCpu, parseSpeed,
} from '../../../src/mqtt/telemetry/proc-parsers';
import { parseStubStatus } from '../../../src/nginx/stub-status';
import { makeTempDir, type TempDir } from '../../helpers/tmp';

const STAT1 = 'cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\nintr 1 2 3\n';
const STAT2 = 'cpu  160 0 70 900 50 0 10 0 0 0\ncpu0 80 0 35 450 25 0 5 0 0 0\n';
const MEMINFO = 'MemTotal:        2000000 kB\nMemFree:          300000 kB\nMemAvailable:     500000 kB\nBuffers:           47204 kB\nSwapTotal:        100000 kB\nSwapFree:          90000 kB\n';
const NETDEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    3193      29    0    0    0     0          0         0     3193      29    0    0    0     0       0          0
  eth0: 123456789  98765    1    2    0     0          0        10 987654321  87654    3    4    0     0       0          0
`;
const STUB = 'Active connections: 2 \nserver accepts handled requests\n 10 10 31 \nReading: 0 Writing: 1 Waiting: 1 \n';

describe('proc parsers', () => {
  it('load average', () => {
    expect(parseLoadavg('0.97 1.36 0.90 1/129 619\n')).toEqual({ load1: 0.97, load5: 1.36, load15: 0.9 });
    expect(parseLoadavg('garbage')).toBeUndefined();
  });
  it('CPU busy percentage between two /proc/stat samples (iowait counts as idle)', () => {
    const a = parseProcStatCpu(STAT1)!;
    const b = parseProcStatCpu(STAT2)!;
    expect(a).toEqual({ total: 1000, idle: 850 });
    expect(cpuPercent(undefined, a)).toBeUndefined();
    // 190 jiffies elapsed, 100 of them idle: 47.4 % busy.
    expect(cpuPercent(a, b)).toBe(47.4);
    expect(cpuPercent(b, b)).toBeUndefined();
    expect(parseProcStatCpu('intr 1 2')).toBeUndefined();
  });
  it('meminfo uses MemAvailable', () => {
    expect(parseMeminfo(MEMINFO)).toEqual({ total_kb: 2000000, available_kb: 500000, used_pct: 75, swap_total_kb: 100000, swap_free_kb: 90000 });
    expect(parseMeminfo('')).toBeUndefined();
  });
  it('net/dev counters per interface', () => {
    const m = parseNetDev(NETDEV);
    expect([...m.keys()]).toEqual(['lo', 'eth0']);
    expect(m.get('eth0')).toEqual({ rx_bytes: 123456789, rx_packets: 98765, rx_errors: 1, rx_dropped: 2, tx_bytes: 987654321, tx_packets: 87654, tx_errors: 3, tx_dropped: 4 });
  });
  it('speed and temperatures', () => {
    expect(parseSpeed('1000\n')).toBe(1000);
    expect(parseSpeed('-1\n')).toBeUndefined();
    expect(parseSpeed(undefined)).toBeUndefined();
    expect(parseMilliCelsius('48312\n')).toBe(48.3);
    expect(parseMilliCelsius('')).toBeUndefined();
  });
  it('nginx stub_status', () => {
    expect(parseStubStatus(STUB)).toEqual({ active: 2, accepts: 10, handled: 10, requests: 31, reading: 0, writing: 1, waiting: 1 });
    expect(parseStubStatus('<html>404</html>')).toBeUndefined();
  });
});

let dir: TempDir | undefined;
afterEach(() => dir?.remove());

function put(root: string, rel: string, text: string): void {
  mkdirSync(dirname(`${root}/${rel}`), { recursive: true });
  writeFileSync(`${root}/${rel}`, text);
}

describe('telemetry collector on a fixture /proc and /sys', () => {
  it('reads load, CPU, memory, NICs, temperatures and providers (a failing provider is reported, not fatal)', async () => {
    dir = makeTempDir('tvtel-');
    const r = dir.path;
    put(r, 'proc/loadavg', '0.50 0.40 0.30 1/100 42\n');
    put(r, 'proc/stat', STAT1);
    put(r, 'proc/meminfo', MEMINFO);
    put(r, 'proc/net/dev', NETDEV);
    put(r, 'proc/uptime', '12345.67 20000.00\n');
    put(r, 'sys/class/net/lo/operstate', 'unknown\n');
    put(r, 'sys/class/net/eth0/operstate', 'up\n');
    put(r, 'sys/class/net/eth0/carrier', '1\n');
    put(r, 'sys/class/net/eth0/speed', '1000\n');
    put(r, 'sys/class/net/wan0/operstate', 'down\n');
    put(r, 'sys/class/thermal/thermal_zone0/type', 'cpu-thermal\n');
    put(r, 'sys/class/thermal/thermal_zone0/temp', '51234\n');
    const c = new TelemetryCollector(r, 200);
    c.providers.set('nginx', async () => ({ active: 1 }));
    c.providers.set('broken', async () => {
      throw new Error('down');
    });
    c.providers.set('slow', () => new Promise(() => {}));
    const t1 = await c.collect(0);
    expect(t1.cpu_pct).toBeUndefined();
    put(r, 'proc/stat', STAT2);
    const t = await c.collect(Date.parse('2026-01-01T00:00:00Z'));
    expect(t.ts).toBe('2026-01-01T00:00:00.000Z');
    expect(t.load).toEqual({ load1: 0.5, load5: 0.4, load15: 0.3 });
    expect(t.cpu_pct).toBe(47.4);
    expect(t.memory?.used_pct).toBe(75);
    expect(t.uptime_s).toBe(12346);
    expect(Object.keys(t.nics)).toEqual(['eth0', 'wan0']);
    expect(t.nics.eth0).toMatchObject({ state: 'up', carrier: true, speed_mbps: 1000, rx_bytes: 123456789, tx_errors: 3 });
    expect(t.nics.wan0).toEqual({ state: 'down' });
    expect(t.temperatures).toEqual({ 'cpu-thermal': 51.2 });
    expect(t.nginx).toEqual({ active: 1 });
    expect(t.broken).toEqual({ error: 'down' });
    expect(t.slow).toEqual({ error: 'no answer within 200 ms' });
  });

  it('an empty root gives empty sections rather than an error', async () => {
    dir = makeTempDir('tvtel-');
    const t = await new TelemetryCollector(dir.path).collect(0);
    expect(t.nics).toEqual({});
    expect(t.temperatures).toEqual({});
    expect(t.load).toBeUndefined();
  });
});
