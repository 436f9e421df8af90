// A small namespace lab for the benchmarks (plain JS so the pinned node runs it without a build):
// two boxes and a client on a bridge that lives in its own namespace, a socat pty pair as the
// serial cable, and event streams (`ip monitor`) timestamped on arrival with performance.now().
// Everything it creates carries a random prefix and is removed by cleanup(), even on failure;
// only the PIDs it started are ever signalled.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function exec(cmd, args, timeoutMs = 20_000) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

export async function waitFor(cond, what, timeoutMs = 20_000, intervalMs = 20) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch {
      /* not yet */
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export class Proc {
  constructor(child, label) {
    this.child = child;
    this.label = label;
    this.out = '';
    child.stdout?.on('data', (d) => (this.out += d));
    child.stderr?.on('data', (d) => (this.out += d));
    this.exited = new Promise((r) => child.once('exit', (code, sig) => r(code ?? sig)));
  }
  get running() {
    return this.child.exitCode === null && this.child.signalCode === null;
  }
  signal(sig) {
    if (this.running) this.child.kill(sig);
  }
  async stop(graceMs = 3000) {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}

export class Lab {
  constructor() {
    this.prefix = `tv${randomBytes(2).toString('hex')}`;
    this.namespaces = [];
    this.procs = [];
    this.dir = mkdtempSync(join(tmpdir(), `${this.prefix}-bench-`));
  }

  ns(role) {
    return `${this.prefix}${role}`;
  }

  async addNs(role) {
    const n = this.ns(role);
    await exec('ip', ['netns', 'add', n]);
    this.namespaces.push(n);
    await exec('ip', ['-n', n, 'link', 'set', 'lo', 'up']);
    return n;
  }

  /**
   * ns a/b/c (and k, a third router, when asked) on bridge br0 in ns s: interface l<role>,
   * bridge port pl<role>.
   */
  async build(roles = ['a', 'b', 'c']) {
    const s = await this.addNs('s');
    await exec('ip', ['-n', s, 'link', 'add', 'br0', 'type', 'bridge']);
    await exec('ip', ['-n', s, 'link', 'set', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
    await exec('ip', ['-n', s, 'link', 'set', 'br0', 'up']);
    const addrs = { a: '10.88.0.1/24', b: '10.88.0.2/24', c: '10.88.0.9/24', k: '10.88.0.3/24' };
    for (const role of roles) {
      const n = await this.addNs(role);
      const tmp = `${this.prefix}t${role}`;
      await exec('ip', ['-n', n, 'link', 'add', `l${role}`, 'type', 'veth', 'peer', 'name', tmp]);
      await exec('ip', ['-n', n, 'link', 'set', tmp, 'netns', s]);
      await exec('ip', ['-n', s, 'link', 'set', tmp, 'name', `pl${role}`]);
      await exec('ip', ['-n', s, 'link', 'set', `pl${role}`, 'master', 'br0', 'up']);
      await exec('ip', ['-n', n, 'link', 'set', `l${role}`, 'up']);
      await exec('ip', ['-n', n, 'addr', 'add', addrs[role], 'dev', `l${role}`]);
    }
  }

  async mac(role) {
    const j = JSON.parse(await exec('ip', ['-n', this.ns(role), '-j', 'link', 'show', 'dev', `l${role}`]));
    return j[0].address;
  }

  /** `env`: variables added to this environment for the process (e.g. TWINVIP_DIAGNOSE=off). */
  spawn(role, cmd, args, env) {
    const p = new Proc(spawn('ip', ['netns', 'exec', this.ns(role), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) }), `${role}:${cmd}`);
    this.procs.push(p);
    return p;
  }

  /** A socat pty pair; returns the two /dev/pts paths (reachable from every namespace). */
  async serialPair() {
    const a = join(this.dir, 'ser-a');
    const b = join(this.dir, 'ser-b');
    const p = new Proc(spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] }), 'socat');
    this.procs.push(p);
    await waitFor(() => existsSync(a) && existsSync(b), 'socat pty links', 10_000);
    return { proc: p, a: realpathSync(a), b: realpathSync(b) };
  }

  async cleanup() {
    await Promise.all(this.procs.map((p) => p.stop().catch(() => {})));
    for (const n of this.namespaces.reverse()) await exec('ip', ['netns', 'del', n]).catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Who holds the VIP, from `ip monitor address` in each box's namespace: every change is
 * timestamped when it arrives (performance.now()), so intervals come from kernel events, not
 * from polling.
 */
export class VipWatch {
  constructor(lab, roles, vip) {
    this.vip = vip;
    this.events = []; // { t, role, present }
    this.state = Object.fromEntries(roles.map((r) => [r, false]));
    this.procs = roles.map((role) => {
      const p = new Proc(spawn('ip', ['-n', lab.ns(role), 'monitor', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] }), `mon-${role}`);
      lab.procs.push(p);
      let buf = '';
      p.child.stdout.on('data', (d) => {
        const t = performance.now();
        buf += d;
        const lines = buf.split('\n');
        buf = lines.pop();
        for (const line of lines) {
          if (!line.includes(` ${vip}/`)) continue;
          const present = !line.startsWith('Deleted');
          if (this.state[role] !== present) {
            this.state[role] = present;
            this.events.push({ t, role, present });
          }
        }
      });
      return p;
    });
  }

  async sync(lab) {
    for (const role of Object.keys(this.state)) {
      const j = JSON.parse(await exec('ip', ['-n', lab.ns(role), '-j', 'addr', 'show']));
      this.state[role] = j.some((i) => (i.addr_info ?? []).some((x) => x.local === this.vip));
    }
  }

  /** First time after t0 the VIP appeared on `role`. */
  appearedAfter(role, t0) {
    return this.events.find((e) => e.role === role && e.present && e.t >= t0)?.t;
  }

  /** Milliseconds in [from, to] during which every role held the VIP at once. */
  overlapMs(from, to, initial) {
    const held = { ...initial };
    let t = from;
    let total = 0;
    const all = () => Object.values(held).every(Boolean);
    for (const e of this.events.filter((x) => x.t >= from && x.t <= to)) {
      if (all()) total += e.t - t;
      t = e.t;
      held[e.role] = e.present;
    }
    if (all()) total += to - t;
    return total;
  }

  async stop() {
    await Promise.all(this.procs.map((p) => p.stop()));
  }
}

/** When the client's neighbour entry for `ip` first shows `mac` after t0 (gratuitous ARP reached it). */
export class NeighWatch {
  constructor(lab, role, ip) {
    this.events = [];
    const p = new Proc(spawn('ip', ['-n', lab.ns(role), 'monitor', 'neigh'], { stdio: ['ignore', 'pipe', 'ignore'] }), `neigh-${role}`);
    lab.procs.push(p);
    this.proc = p;
    let buf = '';
    p.child.stdout.on('data', (d) => {
      const t = performance.now();
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const line of lines) {
        if (!line.startsWith(`${ip} `)) continue;
        const m = / lladdr ([0-9a-f:]+)/.exec(line);
        if (m) this.events.push({ t, mac: m[1] });
      }
    });
  }
  movedTo(mac, t0) {
    return this.events.find((e) => e.mac === mac && e.t >= t0)?.t;
  }
  async stop() {
    await this.proc.stop();
  }
}

/**
 * Writes box `role`'s twinvip config for the bench pair (interface l<role>, VRID 88, one VIP,
 * the serial heartbeat over `serial`) and returns its path; failover and steady share it.
 */
export async function writeTwinvipConfig(lab, role, priority, vip, serial, opts = {}) {
  const conf = join(lab.dir, `twinvip-${role}.json`);
  await writeFile(conf, JSON.stringify({
    node: { name: `bench-${role}`, state_dir: lab.dir },
    control: { socket: join(lab.dir, `ctl-${role}.sock`) },
    logging: { level: 'info', format: 'text' },
    instances: { VI_1: { interface: `l${role}`, vrid: 88, priority, advert_int: 1, vips: [`${vip}/24`], ...(opts.mixedGroup ? { mixed_group: true } : {}), ...opts.instance } },
    // opts.noSerial: VRRP alone (the minimal configuration of the footprint figures).
    heartbeat: opts.noSerial ? {} : {
      serial: {
        device: role === 'a' ? serial.a : serial.b, node_id: role === 'a' ? 1 : 2, key: 'bench-shared-key-0123456789',
        period_ms: opts.periodMs ?? 100, dead_periods: opts.deadPeriods ?? 5, ...opts.serial,
      },
    },
  }));
  return conf;
}

/**
 * Counts the packets each box sends on the LAN, from a capture in the client's namespace
 * (`tcpdump -tt`, so every packet carries its own time): VRRP adverts and anything else from
 * the boxes' own addresses (twinvip's probes of a silent twin, for instance), per second of a
 * window. ARP is not counted (both daemons send the same gratuitous ARP on a takeover).
 */
export class LanCount {
  constructor(lab, role, sources) {
    this.packets = []; // { t: epoch ms, src }
    this.sources = new Set(sources);
    const p = new Proc(spawn('ip', ['netns', 'exec', lab.ns(role), 'tcpdump', '-tt', '-n', '-l', '-i', `l${role}`, 'ip'], { stdio: ['ignore', 'pipe', 'ignore'] }), `tcpdump-${role}`);
    lab.procs.push(p);
    this.proc = p;
    let buf = '';
    p.child.stdout.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const line of lines) {
        const m = /^(\d+\.\d+) IP (\d+\.\d+\.\d+\.\d+)/.exec(line);
        if (m && this.sources.has(m[2])) this.packets.push({ t: Number(m[1]) * 1000, src: m[2] });
      }
    });
  }

  /** Packets per second from `src` (or every box) in the wall-clock window [from, to]. */
  rate(from, to, src) {
    const n = this.packets.filter((p) => p.t >= from && p.t <= to && (src === undefined || p.src === src)).length;
    return to > from ? (n * 1000) / (to - from) : null;
  }

  async stop() {
    await this.proc.stop();
  }
}

export function median(xs) {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
