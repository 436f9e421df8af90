// Benchmark: upstream death -> removal. Each mode is its own real Nginx under its own twinvip
// controller, with one group of two upstream processes, A (the victim) and B (the survivor),
// round robin, and a paced client (one request every CLIENT_PERIOD_MS on a fresh connection,
// each carrying a sequence number). All modes run side by side; in each of RUNS runs every A is
// SIGKILLed at the same instant, and for WINDOW_MS we measure:
//   detect   kill -> the active check declares A down (fall failures in a row)
//   removal  kill -> the config with A `down` is confirmed serving (generation probe)
//   last A   kill -> the last request Nginx tried on A (its error log names the request's
//            sequence number: `connect() failed ... request: "GET /p?seq=N"`); every request
//            after that one went 100 % to B
//   retried  requests Nginx tried on A and then passed to B (proxy_next_upstream error)
//   failed   requests the client saw fail (error or non-200)
// Modes: the active check at 0.5 s / fall 2 and at 1 s / fall 3, each with Nginx's passive
// check at its default (max_fails=1 fail_timeout=10s) and with it off (max_fails=0, so the
// active check alone decides), and plain Nginx with only the passive check.
// NBENCH_FAULT=stop hangs A instead (SIGSTOP: the kernel still accepts connections, nothing
// answers, as with a wedged server); Nginx logs nothing until proxy_read_timeout (60 s), so there
// `last A` is the last request not answered within PROMPT_MS, and `stuck` counts them.
// Loopback only; bounded: RUNS x (restore + QUIET_MS + WINDOW_MS + PROMPT_MS).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { NginxController } from '../../src/nginx';
import { benchDir, freePort, get, machine, main, median, model, sleep, startController, startUpstream, timedLogger, type TimedLine, type Upstream } from './lib';
import { writeResult } from './results';

const RUNS = Number(process.env.NBENCH_RUNS ?? 5);
const WINDOW_MS = Number(process.env.NBENCH_WINDOW_MS ?? 11_000);
/** Longer than reload.min_interval (default 2 s): the removal is never held back by the rate limit. */
const QUIET_MS = 2500;
const CLIENT_PERIOD_MS = 10;
const FAULT = process.env.NBENCH_FAULT === 'stop' ? 'stop' : 'kill';
/** Hung mode: a request answered later than this after it was sent went to the hung A first. */
const PROMPT_MS = 1000;

interface ModeSpec {
  id: string;
  label: string;
  check?: { interval: number; fall: number };
  maxFails: number;
}

const MODES: ModeSpec[] = [
  { id: 'a05', label: 'twinvip active 0.5 s / fall 2 + passive', check: { interval: 0.5, fall: 2 }, maxFails: 1 },
  { id: 'a1', label: 'twinvip active 1 s / fall 3 + passive', check: { interval: 1, fall: 3 }, maxFails: 1 },
  { id: 'a05np', label: 'twinvip active 0.5 s / fall 2, passive off', check: { interval: 0.5, fall: 2 }, maxFails: 0 },
  { id: 'a1np', label: 'twinvip active 1 s / fall 3, passive off', check: { interval: 1, fall: 3 }, maxFails: 0 },
  { id: 'plain', label: 'plain Nginx passive (max_fails=1 fail_timeout=10s)', maxFails: 1 },
];

interface Sent {
  seq: number;
  at: number;
  outcome?: 'A' | 'B' | 'failed';
  doneAt?: number;
  why?: string;
}

interface Mode {
  spec: ModeSpec;
  a: Upstream;
  b: Upstream;
  web: number;
  c: NginxController;
  lines: TimedLine[];
  errorLog: string;
  seq: number;
  sent: Map<number, Sent>;
}

interface RunResult {
  detect_ms: number | null;
  removal_ms: number | null;
  last_a_ms: number | null;
  all_to_b_from_ms: number;
  retried: number;
  failed: number;
  stuck: number;
  requests: number;
  failures: Record<string, number>;
  /** Nginx error-log lines "worker_connections are not enough" in the window. */
  exhausted: number;
}

/** A paced client until `stop()`; requests are recorded in mode.sent. stop(false) leaves requests in flight. */
function client(m: Mode): (drain?: boolean) => Promise<void> {
  let running = true;
  const inflight = new Set<Promise<void>>();
  const loop = (async () => {
    let next = Date.now();
    while (running) {
      const s: Sent = { seq: ++m.seq, at: Date.now() };
      m.sent.set(s.seq, s);
      const p = get(m.web, `/p?seq=${s.seq}`, 90_000).then(
        (r) => {
          s.doneAt = Date.now();
          s.outcome = r.status === 200 && (r.body.startsWith('A ') || r.body.startsWith('B ')) ? (r.body[0] as 'A' | 'B') : 'failed';
          if (s.outcome === 'failed') s.why = `HTTP ${r.status}`;
        },
        (err: Error) => {
          s.doneAt = Date.now();
          s.outcome = 'failed';
          s.why = err.message;
        },
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
      next += CLIENT_PERIOD_MS;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      else next = Date.now();
    }
  })();
  return async (drain = true) => {
    running = false;
    await loop;
    if (drain) await Promise.all([...inflight]);
  };
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Restarts (or continues) A, then waits until a request is answered by A again. */
async function restore(m: Mode): Promise<void> {
  if (m.a.pid === -1) m.a = await startUpstream('A', m.a.port);
  else m.a.signal('SIGCONT');
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const r = await get(m.web, '/p?restore').catch(() => undefined);
    if (r?.body.startsWith('A ')) return;
    await sleep(50);
  }
  throw new Error(`${m.spec.id}: A (${m.a.port}) never served again`);
}

function analyse(m: Mode, t0: number, logMark: number): RunResult {
  const aKey = `app/127.0.0.1:${m.a.port}`;
  const detect = m.lines.find((l) => l.at >= t0 && l.line.includes(`upstream ${aKey}: down`));
  const removal = m.lines.find((l) => l.at >= t0 && / serving \(/.test(l.line) && l.line.includes(`upstream ${aKey} down`));
  const inWindow = [...m.sent.values()].filter((s) => s.at >= t0 && s.at < t0 + WINDOW_MS);
  const attempts: number[] = [];
  const text = readFileSync(m.errorLog, 'utf8').slice(logMark);
  const exhausted = text.split('\n').filter((l) => l.includes('worker_connections are not enough')).length;
  if (FAULT === 'kill') {
    // Every attempt on the dead A is an [error] line naming the request (and so its seq):
    // `connect() failed (111...)`, or a reset of a request A was serving when it died.
    for (const line of text.split('\n')) {
      if (!line.includes('[error]') || !line.includes(`upstream: "http://127.0.0.1:${m.a.port}/`)) continue;
      const seq = /seq=(\d+)/.exec(line);
      if (seq) attempts.push(Number(seq[1]));
    }
  } else {
    // A hung A answers nothing and Nginx logs nothing before proxy_read_timeout: a request
    // not answered promptly is one Nginx sent to A.
    for (const s of inWindow) if (s.doneAt === undefined || s.doneAt - s.at > PROMPT_MS) attempts.push(s.seq);
  }
  const lastSeq = attempts.length > 0 ? Math.max(...attempts) : undefined;
  const lastSent = lastSeq !== undefined ? m.sent.get(lastSeq) : undefined;
  // The first request after which every request went to B.
  const firstAllB = inWindow.find((s) => lastSeq === undefined || s.seq > lastSeq);
  return {
    detect_ms: detect ? detect.at - t0 : null,
    removal_ms: removal ? removal.at - t0 : null,
    last_a_ms: lastSent ? lastSent.at - t0 : null,
    all_to_b_from_ms: firstAllB ? firstAllB.at - t0 : WINDOW_MS,
    retried: FAULT === 'kill' ? attempts.length : 0,
    failed: inWindow.filter((s) => s.outcome === 'failed').length,
    stuck: FAULT === 'stop' ? attempts.length : 0,
    exhausted,
    failures: inWindow.filter((s) => s.outcome === 'failed').reduce<Record<string, number>>((acc, s) => ((acc[s.why ?? '?'] = (acc[s.why ?? '?'] ?? 0) + 1), acc), {}),
    requests: inWindow.length,
  };
}

main(async () => {
  const info = await machine();
  const modes: Mode[] = [];
  for (const spec of MODES) {
    const dir = benchDir(`up-${spec.id}`);
    const a = await startUpstream('A');
    const b = await startUpstream('B');
    const web = await freePort();
    const { log, lines } = timedLogger();
    const server = (u: Upstream) => ({ address: '127.0.0.1', port: u.port, max_fails: spec.maxFails, fail_timeout: 10 });
    const m = model({
      prefix: join(dir, 'prefix'),
      status: { port: await freePort() },
      upstreams: {
        app: {
          servers: [server(a), server(b)],
          ...(spec.check ? { check: { type: 'http', path: '/health', interval: spec.check.interval, timeout: spec.check.interval, fall: spec.check.fall, rise: 2 } } : {}),
        },
      },
      http: [{ listen: [{ address: '127.0.0.1', port: web }], locations: [{ type: 'proxy', path: '/', upstream: 'app' }] }],
    });
    const c = await startController(m, log);
    modes.push({ spec, a, b, web, c, lines, errorLog: c.applier.paths.errorLog, seq: 0, sent: new Map() });
  }

  const runs: Record<string, RunResult[]> = Object.fromEntries(MODES.map((s) => [s.id, []]));
  for (let run = 1; run <= RUNS; run++) {
    await Promise.all(modes.map((m) => restore(m)));
    for (const m of modes) m.sent.clear();
    const stops = modes.map((m) => client(m));
    await sleep(QUIET_MS);
    for (const m of modes) {
      const before = [...m.sent.values()].filter((s) => s.outcome === 'A').length;
      if (before === 0) throw new Error(`${m.spec.id}: A received nothing before the kill`);
    }
    const marks = modes.map((m) => fileSize(m.errorLog));
    const t0 = Date.now();
    if (FAULT === 'kill') await Promise.all(modes.map((m) => m.a.kill('SIGKILL')));
    else for (const m of modes) m.a.signal('SIGSTOP');
    await sleep(WINDOW_MS);
    if (FAULT === 'kill') {
      await Promise.all(stops.map((s) => s()));
    } else {
      // Requests stuck on the hung A stay in flight (Nginx would wait proxy_read_timeout);
      // the prompt ones get PROMPT_MS to finish, then the rest count as stuck.
      await Promise.all(stops.map((s) => s(false)));
      await sleep(PROMPT_MS);
    }
    modes.forEach((m, i) => {
      const r = analyse(m, t0, marks[i]!);
      runs[m.spec.id]!.push(r);
      if (FAULT === 'kill') m.a = { ...m.a, pid: -1 };
    });
    console.log(`run ${run}/${RUNS}: ${modes.map((m) => { const r = runs[m.spec.id]!.at(-1)!; return `${m.spec.id} removal ${r.removal_ms ?? '-'} ms, last A ${r.last_a_ms ?? '-'} ms, retried ${r.retried}, stuck ${r.stuck}, failed ${r.failed}${r.failed ? ` ${JSON.stringify(r.failures)}` : ''}${r.exhausted ? ` (worker_connections exhausted x${r.exhausted})` : ''}`; }).join('; ')}`);
  }

  const med = (xs: (number | null)[]) => {
    const v = xs.filter((x): x is number => x !== null);
    return v.length === xs.length ? Math.round(median(v)) : null;
  };
  const table = MODES.map((s) => {
    const rs = runs[s.id]!;
    return {
      mode: s.label,
      id: s.id,
      detect_ms: med(rs.map((r) => r.detect_ms)),
      removal_ms: med(rs.map((r) => r.removal_ms)),
      removal_ms_all: rs.map((r) => r.removal_ms),
      last_a_ms: med(rs.map((r) => r.last_a_ms)),
      last_a_ms_all: rs.map((r) => r.last_a_ms),
      all_to_b_from_ms: med(rs.map((r) => r.all_to_b_from_ms)),
      retried: med(rs.map((r) => r.retried)),
      retried_all: rs.map((r) => r.retried),
      failed: med(rs.map((r) => r.failed)),
      failed_total: rs.reduce((n, r) => n + r.failed, 0),
      stuck: med(rs.map((r) => r.stuck)),
      stuck_all: rs.map((r) => r.stuck),
      requests: med(rs.map((r) => r.requests)),
    };
  });
  console.log(`\nfault ${FAULT === 'kill' ? 'SIGKILL' : 'SIGSTOP (hung)'}; medians of ${RUNS} runs, window ${WINDOW_MS} ms after the fault, one request per ${CLIENT_PERIOD_MS} ms per mode`);
  console.log(`| mode | detect ms | removal ms | last request to A, ms after fault | 100 % to B from, ms | ${FAULT === 'kill' ? 'retried on B' : `stuck > ${PROMPT_MS} ms`} | failed | requests in window |`);
  console.log('|---|---|---|---|---|---|---|---|');
  for (const t of table) {
    console.log(`| ${t.mode} | ${t.detect_ms ?? '-'} | ${t.removal_ms ?? '-'} | ${t.last_a_ms ?? '-'} | ${t.all_to_b_from_ms ?? '-'} | ${FAULT === 'kill' ? t.retried : t.stuck} | ${t.failed} (total ${t.failed_total}) | ${t.requests} |`);
  }
  const name = FAULT === 'kill' ? 'upstream-removal' : 'upstream-removal-hung';
  const file = writeResult(name, { info, params: { runs: RUNS, window_ms: WINDOW_MS, quiet_ms: QUIET_MS, client_period_ms: CLIENT_PERIOD_MS, fault: FAULT === 'kill' ? 'SIGKILL' : 'SIGSTOP', prompt_ms: PROMPT_MS }, table, runs });
  console.log(`results: ${file}`);
});
