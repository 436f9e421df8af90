// `make bench`: every benchmark in turn, each writing bench/results/<name>-<date>.json and
// printing a markdown table. About 8 min (failover, 5 repetitions) + 2.5 min (steady, 60 s each).
// BENCH_REPS and BENCH_SECONDS shorten it.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const runs = [
  ['failover.mjs', ['--reps', process.env.BENCH_REPS ?? '5']],
  ['steady.mjs', ['--seconds', process.env.BENCH_SECONDS ?? '60']],
];
let failed = 0;
for (const [script, args] of runs) {
  const r = spawnSync(process.execPath, [join(here, script), ...args], { stdio: 'inherit', timeout: 30 * 60_000 });
  if (r.status !== 0) {
    failed++;
    process.stderr.write(`bench ${script} failed (${r.status ?? r.signal})\n`);
  }
}
process.exit(failed ? 1 : 0);
