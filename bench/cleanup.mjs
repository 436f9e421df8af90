// `twinvip cleanup` benchmark: how long a crashed box keeps answering for its VIPs after the
// service manager starts the clean-up (ExecStopPost=): from spawning the command to its exit,
// with the VIP removed (checked after every run). In one namespace with a veth `lan0`, the
// configuration examples/master-backup-a.json (its control socket moved into the lab's
// directory, where no daemon answers). Each --bundles entry runs in turn per repetition (so an
// old build and a new one are compared in the same sitting), beside a bare `node -e 0` start (the floor).
//   node bench/cleanup.mjs [--reps 11] [--bundles dist/twinvip.js,/tmp/old-dist/twinvip.js] [--out FILE]
// Needs root.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Lab, exec, median } from './lab.mjs';
import { describeMachine } from './machine.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { reps: { type: 'string', default: '11' }, bundles: { type: 'string' }, out: { type: 'string' } },
});
const REPS = Number(values.reps);
const BUNDLES = (values.bundles ?? join(ROOT, 'dist/twinvip.js')).split(',').map((b) => resolve(b));
const NODE = process.execPath;
const VIP = '192.168.1.1';

function run(ns, args) {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const child = spawn('ip', ['netns', 'exec', ns, NODE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', rej);
    child.on('exit', (code) => res({ ms: performance.now() - t0, code, out }));
  });
}

const lab = new Lab();
const results = { floor: [], ...Object.fromEntries(BUNDLES.map((b) => [b, []])) };
try {
  const ns = await lab.addNs('a');
  await exec('ip', ['-n', ns, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan0p']);
  await exec('ip', ['-n', ns, 'link', 'set', 'lan0', 'up']);
  const config = JSON.parse(readFileSync(join(ROOT, 'examples/master-backup-a.json'), 'utf8'));
  config.control = { socket: join(lab.dir, 'control.sock') };
  const cfg = join(lab.dir, 'a.json');
  writeFileSync(cfg, JSON.stringify(config, null, 2));
  for (let i = 0; i < REPS; i++) {
    results.floor.push((await run(ns, ['-e', '0'])).ms);
    for (const b of BUNDLES) {
      await exec('ip', ['-n', ns, 'addr', 'add', `${VIP}/24`, 'dev', 'lan0']);
      const r = await run(ns, ['--max-semi-space-size=1', b, 'cleanup', '-c', cfg]);
      if (r.code !== 0 || !r.out.includes(`removed VIP ${VIP}/24 from lan0`)) throw new Error(`${b}: exit ${r.code}: ${r.out}`);
      const left = await exec('ip', ['-n', ns, '-j', 'addr', 'show', 'dev', 'lan0']);
      if (left.includes(VIP)) throw new Error(`${b}: the VIP is still on lan0 after cleanup`);
      results[b].push(r.ms);
    }
  }
} finally {
  await lab.cleanup();
}
const summary = Object.fromEntries(
  Object.entries(results).map(([k, v]) => [k, { median: Math.round(median(v)), min: Math.round(Math.min(...v)), max: Math.round(Math.max(...v)) }]),
);
console.log(`cleanup, medians of ${REPS} (ms; spawn -> exit, VIP removed), load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const [k, s] of Object.entries(summary)) console.log(`  ${k === 'floor' ? 'node -e 0 (floor)' : k}: ${s.median} (${s.min}-${s.max})`);
const out = values.out ?? join(ROOT, 'bench/results', `cleanup-${new Date().toISOString().slice(0, 10)}.json`);
writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), machine: await describeMachine(), reps: REPS, results, summary }, null, 2));
console.log(`written ${out}`);
