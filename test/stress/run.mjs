#!/usr/bin/env node
// `make test-stress`: the integration tests (both projects side by side, as `make test` runs them)
// run N times in a row while stress-ng keeps the CPUs
// (and the disk) busy, then the failures per test, so flakiness is measured rather than guessed.
//
//   STRESS_RUNS=5        integration runs (default 5)
//   STRESS_CPU=N         stress-ng --cpu workers (default: the number of CPUs); 0 = no CPU load
//   STRESS_IO=1          stress-ng --io workers (default 1)
//   STRESS_FILES="a b"   only these test files (default: the whole integration project)
//
// Writes out/stress/<stamp>/run-<i>.json (both projects' vitest JSON reports merged), run-<i>-<project>.log, summary.json and
// summary.md (the table test/README.md records). Exits 1 when any test failed in any run.
// stress-ng is started once for the whole series and stopped by its PID at the end.
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const VITEST = join(ROOT, 'node_modules', '.bin', 'vitest');
const PROJECTS = ['integration', 'integration-local'];
const runs = Number(process.env.STRESS_RUNS ?? 5);
const cpuWorkers = Number(process.env.STRESS_CPU ?? cpus().length);
const ioWorkers = Number(process.env.STRESS_IO ?? 1);
const files = (process.env.STRESS_FILES ?? '').split(/\s+/).filter(Boolean);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`STRESS_RUNS must be a positive integer, got ${process.env.STRESS_RUNS}`);

const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const outDir = join(ROOT, 'out', 'stress', stamp);
mkdirSync(outDir, { recursive: true });

const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();

function startLoad() {
  if (cpuWorkers === 0 && ioWorkers === 0) return undefined;
  const args = ['--cpu', String(cpuWorkers), '--io', String(ioWorkers), '--timeout', '0', '--quiet'];
  let child;
  try {
    execFileSync('stress-ng', ['--version'], { stdio: 'ignore' });
  } catch {
    console.error('test-stress: stress-ng is not installed (Debian package stress-ng): run make deps-system');
    process.exit(2);
  }
  child = spawn('stress-ng', args, { stdio: 'ignore' });
  console.log(`test-stress: stress-ng ${args.join(' ')} (pid ${child.pid})`);
  return { child, args };
}

async function stopLoad(load) {
  if (!load || load.child.exitCode !== null) return;
  const exited = new Promise((r) => load.child.once('exit', r));
  load.child.kill('SIGTERM'); // stress-ng stops its own workers on SIGTERM
  const t = setTimeout(() => load.child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(t);
}

/**
 * One run of the integration tests: the two projects at the same time, as `make test` runs them
 * (`integration`, the namespace files one at a time, beside `integration-local`, vitest.config.ts).
 * Their reports are merged: run-<i>.json holds both projects' files.
 */
function runProject(i, project) {
  const report = join(outDir, `run-${i}-${project}.json`);
  const log = createWriteStream(join(outDir, `run-${i}-${project}.log`));
  const args = [VITEST, 'run', '--project', project, '--passWithNoTests', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...files];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    child.on('close', (code) => {
      log.end();
      let json;
      try {
        json = JSON.parse(readFileSync(report, 'utf8'));
      } catch {
        json = undefined;
      }
      resolve({ code, json, text });
    });
  });
}

async function runOnce(i) {
  const started = Date.now();
  const parts = await Promise.all(PROJECTS.map((p) => runProject(i, p)));
  const json = parts.every((p) => p.json)
    ? { numTotalTests: parts.reduce((n, p) => n + (p.json.numTotalTests ?? 0), 0), testResults: parts.flatMap((p) => p.json.testResults ?? []) }
    : undefined;
  if (json) writeFileSync(join(outDir, `run-${i}.json`), JSON.stringify(json));
  const code = parts.reduce((c, p) => (p.code === 0 ? c : (p.code ?? 1)), 0);
  return { code, seconds: (Date.now() - started) / 1000, json, text: parts.map((p) => p.text).join('\n') };
}

/** Failed tests of one run: "file > suite > test" -> first line of the failure. */
function failuresOf(json) {
  const out = new Map();
  for (const f of json?.testResults ?? []) {
    const file = relative(ROOT, f.name);
    let any = false;
    for (const a of f.assertionResults ?? []) {
      if (a.status !== 'failed') continue;
      any = true;
      out.set(`${file} > ${a.fullName}`, String(a.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 200));
    }
    // A file that failed without a failed test: collection error or a failing hook.
    if (f.status === 'failed' && !any) out.set(`${file} (file)`, String(f.message ?? '').split('\n')[0].slice(0, 200));
  }
  return out;
}

/**
 * Seconds per file. The JSON report spans a file's tests only; the default reporter's line
 * (" ✓ |integration| FILE (N tests) 12345ms") includes its beforeAll/afterAll (a tarball build,
 * a lab's set-up), so the larger of the two is taken.
 */
function fileSeconds(json, text) {
  const fromLog = new Map();
  for (const m of (text ?? '').matchAll(/^ \S+ \|integration(?:-local)?\| (\S+) \([^)]*\) (\d+)ms$/gm)) fromLog.set(m[1], Number(m[2]) / 1000);
  return (json?.testResults ?? []).map((f) => {
    const file = relative(ROOT, f.name);
    return [file, Math.max((f.endTime - f.startTime) / 1000, fromLog.get(file) ?? 0)];
  });
}

const load = startLoad();
const onSignal = async () => {
  await stopLoad(load);
  process.exit(130);
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);

const before = { uptime: uptime(), loadavg: loadavg() };
console.log(`test-stress: ${runs} integration run(s) at ${commit}; ${before.uptime}; results in ${relative(ROOT, outDir)}`);
const results = [];
try {
  for (let i = 1; i <= runs; i++) {
    const r = await runOnce(i);
    const failures = failuresOf(r.json);
    const tests = (r.json?.numTotalTests ?? 0);
    const entry = { run: i, exit: r.code, seconds: Math.round(r.seconds), tests, failed: failures.size, failures: Object.fromEntries(failures), uptime: uptime(), files: fileSeconds(r.json, r.text) };
    if (!r.json) entry.failures['(no report: vitest did not finish)'] = `exit ${r.code}, see run-${i}.log`;
    results.push(entry);
    console.log(`run ${i}/${runs}: exit ${r.code}, ${entry.seconds} s, ${tests} tests, ${failures.size} failed; ${entry.uptime}`);
    for (const [name, msg] of failures) console.log(`  FAIL ${name}: ${msg}`);
  }
} finally {
  await stopLoad(load);
}

const perTest = new Map();
for (const r of results) for (const name of Object.keys(r.failures)) perTest.set(name, (perTest.get(name) ?? 0) + 1);
const totalFailures = [...perTest.values()].reduce((a, b) => a + b, 0);
const loads = results.map((r) => Number(/load average: ([\d.]+)/.exec(r.uptime)?.[1] ?? NaN));
const slowest = new Map();
for (const r of results) for (const [f, s] of r.files) slowest.set(f, [...(slowest.get(f) ?? []), s]);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const md = [
  `${new Date().toISOString().slice(0, 10)}, commit ${commit}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ` +
    `load: ${load ? `stress-ng ${load.args.join(' ')}` : 'no stress-ng'} plus whatever else ran on the machine; ` +
    `1-minute load average before: ${before.loadavg[0].toFixed(1)}, after each run: ${loads.map((l) => l.toFixed(1)).join(', ')}.`,
  '',
  `\`STRESS_RUNS=${runs}${files.length ? ` STRESS_FILES="${files.join(' ')}"` : ''} make test-stress\`: ${results.length} runs, ` +
    `${results.map((r) => `${r.tests} tests in ${r.seconds} s`).join('; ')}; **${totalFailures} failure(s)**.`,
  '',
  '| test | failed runs |',
  '|---|---|',
  ...(perTest.size === 0 ? ['| (none) | 0 of ' + results.length + ' |'] : [...perTest].sort((a, b) => b[1] - a[1]).map(([n, c]) => `| ${n.replaceAll('|', '\\|')} | ${c} of ${results.length} |`)),
  '',
  'Slowest files (median seconds over the runs):',
  '',
  '| file | s |',
  '|---|---|',
  ...[...slowest].map(([f, xs]) => [f, median(xs)]).sort((a, b) => b[1] - a[1]).slice(0, 10).map(([f, s]) => `| ${f} | ${s.toFixed(1)} |`),
].join('\n');
writeFileSync(join(outDir, 'summary.json'), JSON.stringify({ commit, runs: results, perTest: Object.fromEntries(perTest), load: load?.args ?? null, before }, null, 2));
writeFileSync(join(outDir, 'summary.md'), md + '\n');
console.log(`\n${md}\n\ntest-stress: summary in ${relative(ROOT, join(outDir, 'summary.md'))}`);
process.exit(totalFailures === 0 ? 0 : 1);
