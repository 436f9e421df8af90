// The cost, on the daemon's main thread, of the largest request a box may allow: a signed config
// push of mqtt.commands.max_payload bytes (the default 64 KiB and the schema's ceiling 128 KiB).
//   gate        size check, JSON.parse of the envelope, Ed25519 verify, JSON.parse of the payload,
//               the command's schema: everything authorizeRequest does before a command runs
//   clone       the structured copy of the pushed config handed to the worker
//   plan inline what the worker does (merge, validate like the file, local-only diff), if it ran
//               on the main thread: the reason it does not
//   loop delay  the main thread's worst event-loop delay while the worker plans the push, and
//               (the machine's noise floor) while it just waits as long, interleaved
// Run: node bench/fleet/run.mjs parse  (about a minute)
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { parseConfigText } from '../../src/config';
import { configWorkerAvailable, runConfigTaskOffThread } from '../../src/config/off-thread';
import { planPush } from '../../src/config/push-plan';
import { MAX_REQUEST_BYTES } from '../../src/config/schema/services';
import { publicKeyText } from '../../src/fleet/keys';
import { signRequest } from '../../src/fleet/signed-request';
import { authorizeRequest } from '../../src/mqtt/commands/authorize';
import { NonceCache } from '../../src/mqtt/commands/nonce-cache';
import { TrustStore } from '../../src/mqtt/commands/trust-store';

const REPS = Number(process.env.FLEET_BENCH_REPS ?? 40);
const admin = generateKeyPairSync('ed25519').privateKey;
const TOPIC = 'twinvip/gw-a/request/config';

function localText(maxPayload: number): string {
  return JSON.stringify({
    node: { name: 'gw-a', state_dir: '/tmp' },
    instances: { VI_1: { interface: 'lan0', vrid: 1, priority: 150, vips: ['192.0.2.10/24'] } },
    mqtt: { enabled: true, url: 'mqtts://broker:8883', commands: { enabled: true, config_push: true, max_payload: maxPayload } },
    trusted_keys: { boss: { role: 'admin', public_key: publicKeyText(admin) } },
  }, null, 2);
}

/** A valid pushed config of many instances and VIPs whose signed envelope is at most `bytes`. */
function pushedConfig(bytes: number): { config: Record<string, unknown>; envelopeBytes: number } {
  let best: { config: Record<string, unknown>; envelopeBytes: number } | undefined;
  for (let vips = 10; ; vips += 10) {
    const instances: Record<string, unknown> = {};
    let left = vips;
    for (let i = 0; left > 0; i++) {
      const n = Math.min(left, 200);
      left -= n;
      instances[`VI_${i + 1}`] = { interface: 'lan0', vrid: i + 1, priority: 100 + (i % 50), vips: Array.from({ length: n }, (_, k) => `10.${i}.${k >> 8}.${(k & 255) + 1}/32`) };
    }
    const config = { instances };
    const size = Buffer.byteLength(JSON.stringify(signRequest(admin, TOPIC, { config }, { validSeconds: 30 })));
    if (size > bytes) return best!;
    best = { config, envelopeBytes: size };
  }
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  return { median: +q(50).toFixed(2), p99: +q(99).toFixed(2), max: +s[s.length - 1]!.toFixed(2) };
};

const results = [];
for (const cap of [65536, MAX_REQUEST_BYTES]) {
  const local = localText(cap);
  const parsed = parseConfigText(local);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
  const cfg = parsed.config;
  const trust = new TrustStore(cfg.trusted_keys);
  const { config, envelopeBytes } = pushedConfig(cap);
  const gate: number[] = [];
  const clone: number[] = [];
  const plan: number[] = [];
  const loop: number[] = [];
  const idle: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const payload = Buffer.from(JSON.stringify(signRequest(admin, TOPIC, { config }, { validSeconds: 30 })));
    const t0 = performance.now();
    const r = authorizeRequest('config', TOPIC, payload, { retain: false }, { now: Date.now(), settings: cfg.mqtt.commands, maxAgeMs: 60_000, trust, nonces: new NonceCache(100) });
    gate.push(performance.now() - t0);
    if (!r.ok) throw new Error(`gate refused the benchmark request: ${r.error}`);
    const t1 = performance.now();
    structuredClone(r.request.args.config);
    clone.push(performance.now() - t1);
    if (i < Math.min(REPS, 20)) {
      const t2 = performance.now();
      const p = planPush(local, r.request.args.config);
      plan.push(performance.now() - t2);
      if (!p.ok) throw new Error(`plan refused: ${p.error} ${p.errors.slice(0, 3).join('; ')}`);
      const h = monitorEventLoopDelay({ resolution: 1 });
      const t3 = performance.now();
      h.enable();
      const off = await runConfigTaskOffThread({ kind: 'plan-push', localText: local, pushed: r.request.args.config });
      h.disable();
      if (!off.ok) throw new Error(`worker plan refused: ${off.error}`);
      loop.push(h.max / 1e6);
      const waited = performance.now() - t3;
      const h2 = monitorEventLoopDelay({ resolution: 1 });
      h2.enable();
      await new Promise((res) => setTimeout(res, waited));
      h2.disable();
      idle.push(h2.max / 1e6);
    }
  }
  results.push({ max_payload: cap, envelope_bytes: envelopeBytes, gate_ms: stats(gate), clone_ms: stats(clone), plan_inline_ms: stats(plan), loop_delay_during_worker_plan_ms: stats(loop), loop_delay_idle_same_time_ms: stats(idle) });
}

const machine = { nproc: cpus().length, cpu: cpus()[0]?.model, node: process.version, worker: configWorkerAvailable() };
const report = { date: new Date().toISOString(), machine, reps: REPS, results };
const out = join(process.env.FLEET_BENCH_OUT ?? 'bench/results', `fleet-parse-${report.date.slice(0, 10)}.json`);
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`largest allowed request on the main thread, ${report.date}, ${machine.nproc} CPU(s), ${REPS} reps, config worker ${machine.worker ? 'on' : 'MISSING'}`);
console.log('| max_payload | request bytes | gate median / p99 / max ms | clone to worker ms (median / max) | plan if inline ms (median / max) | loop delay while the worker plans, max ms (median / max) | idle, as long (median / max) |');
console.log('|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.max_payload} | ${r.envelope_bytes} | ${r.gate_ms.median} / ${r.gate_ms.p99} / ${r.gate_ms.max} | ${r.clone_ms.median} / ${r.clone_ms.max} | ${r.plan_inline_ms.median} / ${r.plan_inline_ms.max} | ${r.loop_delay_during_worker_plan_ms.median} / ${r.loop_delay_during_worker_plan_ms.max} | ${r.loop_delay_idle_same_time_ms.median} / ${r.loop_delay_idle_same_time_ms.max} |`);
}
console.log(`written to ${out}`);
