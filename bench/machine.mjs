// The machine a benchmark ran on, for its result file and the "machine" column of bench/README.md.
// systeminformation names the CPU, memory, OS and virtualisation so that figures from different
// machines can be told apart. It runs execSync and spawns helpers, which is why the appliance never
// loads it (README, MQTT inventory); a benchmark calls this once its measurement is over.
import { cpus, loadavg, machine } from 'node:os';
import si from 'systeminformation';

export async function describeMachine() {
  const [cpu, mem, os, sys] = await Promise.all([si.cpu(), si.mem(), si.osInfo(), si.system()]);
  return {
    arch: process.arch,
    uname_m: machine(),
    nproc: cpus().length,
    cpu: cpus()[0]?.model,
    // The model string of a cloud CPU is often just its brand; family/model and L3 tell them apart.
    cpu_id: `${cpu.vendor} family ${cpu.family} model ${cpu.model}, ${cpu.physicalCores} physical core(s), L3 ${Math.round((cpu.cache?.l3 ?? 0) / 2 ** 20)} MiB`,
    mem_total_mb: Math.round(mem.total / 2 ** 20),
    os: `${os.distro} ${os.release}`.trim(),
    kernel: os.kernel,
    platform: sys.virtual ? `virtual (${sys.virtualHost || 'unknown host'})` : [sys.manufacturer, sys.model].filter(Boolean).join(' ') || 'unknown',
    node: process.version,
    loadavg: loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}
