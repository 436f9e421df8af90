// Fleet trust against a running pair (twinvip in two namespaces, VRRPv3 at 0.5 s) and a real
// mosquitto in a third namespace: a hostile publisher holding only a broker connection tries
// every attack of the issue and a few more, and each is refused, counted by reason and audited
// while VRRP keeps its state; then the legitimate signed path runs every command end to end with
// `twinvip request`. Everything runs inside the lab's namespaces (the broker on 10.66.0.3).
//
// Attacks that need a signature made with a trusted key (a replay, an expired or future-dated
// request, an admin trying to change local-only fields) are signed by the test, as a request
// captured on the wire or obtained from a careless or hostile key holder would be.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadPrivateKey } from '../../../src/fleet/keys';
import { signRequest } from '../../../src/fleet/signed-request';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { runCli } from '../../helpers/bundle';
import { BUNDLE, NODE, useVrrpLab, VrrpLab, type Twinvip } from '../vrrp/lab';
import { Mosquitto } from './broker';
import type { Payload, Report, Script, Step } from './hostile-publisher';

const VIP = '10.66.0.100';
const BROKER_HOST = '10.66.0.3';
const BROKER = `mqtt://${BROKER_HOST}:1883`;
const MAX_PAYLOAD = 65536;

const lab = useVrrpLab(['a', 'b', 'c']);

let broker: Mosquitto;
let hostileJs: string;
const keys: Record<'ops' | 'boss' | 'stranger', { file: string; key: import('node:crypto').KeyObject; pub: string }> = {} as never;

const instance = (priority: number) => ({ VI_1: { vrid: 71, version: 3, advert_int: 0.5, priority, vips: [`${VIP}/24`] } });
const mqttSection = (commands: Record<string, unknown> = {}) => ({
  enabled: true,
  url: BROKER,
  allow_plaintext_commands: true,
  reconnect_min: 0.2,
  reconnect_max: 2,
  telemetry_interval: 60,
  // A flood pause of 2 s (default 10) so the test sees the box listen again soon after.
  commands: { enabled: true, unsigned: ['status'], config_push: true, shed_pause: 2, ...commands },
});
const trusted = () => ({ ops: { role: 'operator', public_key: keys.ops.pub }, boss: { role: 'admin', public_key: keys.boss.pub } });

/** The pair: a MASTER (150, config push on), b BACKUP (100, config push off), both connected. */
async function pair(): Promise<{ a: Twinvip; b: Twinvip }> {
  const a = await lab().twinvip('a', instance(150), { mqtt: mqttSection(), trusted_keys: trusted() });
  const b = await lab().twinvip('b', instance(100), { mqtt: mqttSection({ config_push: false }), trusted_keys: trusted() });
  await lab().waitHolders(VIP, ['a'], 20_000);
  await a.waitLog(/connected to mqtt:/, 20_000);
  await b.waitLog(/connected to mqtt:/, 20_000);
  await lab().waitFor(async () => (await b.state()) === 'BACKUP', { what: 'b BACKUP', timeoutMs: 15_000 });
  return { a, b };
}

const transitions = (t: Twinvip) => t.out().match(/VI_1: [A-Z]+ -> [A-Z]+/g)?.length ?? 0;
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const mqttCounters = async (t: Twinvip) => (await t.status())?.counters.mqtt ?? {};

async function runHostile(script: Script): Promise<Report> {
  const file = join(lab().dir, `hostile-${Date.now()}.json`);
  writeFileSync(file, JSON.stringify(script));
  const r = await lab().box('c').ns.tryRun(NODE, [hostileJs, file], 180_000);
  if (r.code !== 0) throw new Error(`hostile publisher exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Report;
}

/** `twinvip request ...` from the fleet side (namespace c). */
async function request(args: string[]): Promise<{ code: number | null; answer: Record<string, unknown> | undefined; stderr: string }> {
  const r = await lab().box('c').ns.tryRun(NODE, [BUNDLE, 'request', ...args, '--broker', BROKER], 60_000);
  let answer: Record<string, unknown> | undefined;
  try {
    answer = JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    answer = undefined;
  }
  return { code: r.code, answer, stderr: r.stderr };
}

describeRequiring([...VrrpLab.prerequisites, needsProgram('mosquitto')], 'fleet trust: signed commands against a running pair and a real broker', () => {
  beforeAll(async () => {
    const dir = lab().dir;
    broker = new Mosquitto({ dir, port: 1883, host: BROKER_HOST, netns: lab().box('c').ns.name });
    await broker.start();
    // Keys made the way an operator makes them.
    for (const [name, role] of [['ops', 'operator'], ['boss', 'admin'], ['stranger', 'admin']] as const) {
      const file = join(dir, `${name}.key`);
      const r = await runCli(['keygen', '-o', file, '--role', role]);
      if (r.code !== 0) throw new Error(`keygen failed: ${r.stderr}`);
      const k = await loadPrivateKey(file);
      if (!k.ok) throw new Error(k.error);
      keys[name] = { file, key: k.key, pub: k.publicKey };
    }
    hostileJs = join(dir, 'hostile.mjs');
    await build({
      entryPoints: [new URL('./hostile-publisher.ts', import.meta.url).pathname], outfile: hostileJs, bundle: true, platform: 'node', format: 'esm', target: 'node24',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" }, logLevel: 'warning',
    });
  });

  afterAll(async () => {
    await broker?.stop();
  });

  it('every hostile request is refused, counted by reason and audited; VRRP keeps its state, nothing runs', async () => {
    const { a, b } = await pair();
    const cfgA = sha(a.configFile);
    const cfgB = sha(b.configFile);
    const transitionsA = transitions(a);
    const transitionsB = transitions(b);
    const p = 'twinvip/box-a/';
    const now = Date.now();
    const sign = (k: keyof typeof keys, topic: string, args: unknown, o: { now?: number; valid?: number } = {}) =>
      signRequest(keys[k].key, topic, args, { now: o.now ?? now, validSeconds: o.valid ?? 60 });
    const local = JSON.parse(readFileSync(a.configFile, 'utf8')) as Record<string, any>;

    const steps: Step[] = [];
    const expected: Record<string, string> = {};
    /** A request to box `box` whose answer comes back on response/<command>, correlated by `match`. */
    type Publish = Extract<Step, { kind: 'publish' }>;
    const attack = (name: string, reason: string, command: string, payload: Payload, match: string, extra: Partial<Publish> = {}, box = 'box-a') => {
      steps.push({ kind: 'publish', name, topic: `twinvip/${box}/request/${command}`, payload, correlation: match, answer: { topic: `twinvip/${box}/response/${command}`, match }, ...extra });
      expected[name] = reason;
    };
    const signedAttack = (name: string, reason: string, command: string, env: ReturnType<typeof signRequest>, extra: Partial<Publish> = {}, box = 'box-a') =>
      attack(name, reason, command, JSON.stringify(env), env.nonce, extra, box);

    // The list.
    attack('unsigned maintenance', 'unsigned', 'maintenance', '{"on":true,"transaction":"h1"}', 'h1');
    attack('unsigned failover', 'unsigned', 'failover', '{"transaction":"h2"}', 'h2');
    attack('unsigned config push', 'unsigned', 'config', JSON.stringify({ transaction: 'h3', config: { mqtt: { enabled: true, url: 'mqtt://evil:1883' } } }), 'h3');
    signedAttack('unknown key', 'unknown-key', 'failover', sign('stranger', `${p}request/failover`, {}));
    signedAttack('forged: stranger signs, claims the operator key', 'bad-signature', 'failover', { ...sign('stranger', `${p}request/failover`, {}), key: keys.ops.pub });
    signedAttack('operator key pushing a config', 'forbidden', 'config', sign('ops', `${p}request/config`, { config: { instances: local.instances } }));
    const original = sign('ops', `${p}request/reload`, {});
    steps.push({ kind: 'publish', name: 'captured: the operator\'s reload (legitimate, accepted)', topic: `${p}request/reload`, payload: JSON.stringify(original), answer: { topic: `${p}response/reload`, match: original.nonce } });
    signedAttack('replayed nonce', 'replay', 'reload', original);
    signedAttack('expired an hour ago', 'expired', 'maintenance', sign('ops', `${p}request/maintenance`, { on: true }, { now: now - 3_600_000, valid: 30 }));
    signedAttack('sent ten years in the future', 'future', 'maintenance', sign('ops', `${p}request/maintenance`, { on: true }, { now: now + 10 * 365 * 86_400_000 }));
    attack('oversized (cap + 1000 bytes)', 'oversize', 'maintenance', { bytes: MAX_PAYLOAD + 1000 }, 'h-over');
    const evil = structuredClone(local);
    evil.mqtt.url = 'mqtt://evil.example:1883';
    evil.mqtt.password_file = '/etc/shadow';
    evil.instances.VI_1.notify = { master: ['/bin/sh', '-c', 'id > /tmp/pwned'] };
    evil.heartbeat = { fence: { command: '/bin/sh' } };
    signedAttack('admin pushing local-only fields', 'local-only', 'config', sign('boss', `${p}request/config`, { config: evil }));
    steps.push({ kind: 'publish', name: 'response topic outside the prefix', topic: `${p}request/status`, payload: '{"transaction":"h-rt"}', responseTopic: 'evil/replies', correlation: 'h-rt', answer: { topic: `${p}response/status`, match: 'h-rt' } });
    // A few more.
    signedAttack('retained request', 'retained', 'failover', sign('ops', `${p}request/failover`, {}), { retain: true });
    signedAttack('signed for box-b, sent to box-a', 'bad-signature', 'failover', sign('ops', 'twinvip/box-b/request/failover', {}));
    signedAttack('signed failover sent as maintenance', 'bad-signature', 'maintenance', sign('ops', `${p}request/failover`, {}));
    signedAttack('tampered payload', 'bad-signature', 'maintenance', { ...sign('ops', `${p}request/maintenance`, { on: false }), payload: '{"on":true}' });
    signedAttack('valid for a day', 'too-long', 'maintenance', sign('ops', `${p}request/maintenance`, { on: true }, { valid: 86_400 }));
    signedAttack('unknown command, correctly signed', 'unknown-command', 'shell', sign('ops', `${p}request/shell`, { cmd: 'id' }));
    signedAttack('config push to a box that has it off', 'push-disabled', 'config', sign('boss', 'twinvip/box-b/request/config', { config: { instances: local.instances } }), {}, 'box-b');
    attack('JSON nested 60000 deep', 'malformed', 'status', '['.repeat(60_000), 'h-deep');
    attack('binary garbage', 'malformed', 'status', '\u0000\u00ff{\u0001', 'h-bin');
    attack('not even an object', 'malformed', 'status', '"status"', 'h-str');
    // Far over the cap: the broker never delivers it (MQTT 5 maximumPacketSize = 2 x cap).
    steps.push({ kind: 'publish', name: '8 MiB request', topic: `${p}request/config`, payload: { bytes: 8 << 20 }, correlation: 'h-huge', answer: { topic: `${p}response/config`, match: 'h-huge', timeoutMs: 3000 } });
    // A flood: dropped unread beyond the rate, counted, summarised in the audit trail; past
    // shed_after drops in a second the box stops listening for a while (alarm mqtt-request-flood).
    steps.push({ kind: 'flood', name: 'flood', topics: [`${p}request/failover`, `${p}request/maintenance`, `${p}request/status`], count: 3000, payloads: ['{"on":true}'] });
    steps.push({ kind: 'await', name: 'flood alarm', topic: `${p}event`, contains: '"mqtt-request-flood"', timeoutMs: 25_000 });
    steps.push({ kind: 'await', name: 'audit summary of the flood', topic: `${p}event`, contains: '"rate-limited"', timeoutMs: 25_000 });

    const report = await runHostile({ url: BROKER, subscribe: ['twinvip/+/response/#', 'twinvip/+/event', 'evil/#'], steps });
    const byName = new Map(report.results.map((r) => [r.name, r]));

    for (const [name, reason] of Object.entries(expected)) {
      const r = byName.get(name)?.answer;
      expect(r, `${name}: an answer`).toBeTruthy();
      expect(r, name).toMatchObject({ status: 'error', error: expect.stringMatching(new RegExp(`^refused \\(${reason}\\)`)) });
    }
    expect(byName.get('captured: the operator\'s reload (legitimate, accepted)')?.answer).toMatchObject({ status: 'ok', nonce: original.nonce });
    expect(byName.get('admin pushing local-only fields')?.answer?.data).toMatchObject({ local_only: expect.arrayContaining(['/heartbeat', '/instances/VI_1/notify/master', '/mqtt']) });
    // Answered on the box's own response topic; nothing ever published outside its prefix.
    expect(byName.get('response topic outside the prefix')).toMatchObject({ answer: { status: 'ok' }, answerTopic: `${p}response/status` });
    expect(report.received.filter((m) => m.topic.startsWith('evil/'))).toEqual([]);
    expect(byName.get('8 MiB request')?.answer).toBeNull();
    expect(byName.get('audit summary of the flood')?.answer).toEqual({ seen: true });
    expect(byName.get('flood alarm')?.answer).toEqual({ seen: true });
    const floodAlarm = report.received.filter((m) => m.topic === `${p}event`).map((m) => JSON.parse(m.text) as Record<string, any>).find((e) => e.type === 'alarm' && e.id === 'mqtt-request-flood');
    expect(floodAlarm).toMatchObject({ active: true, severity: 'warning', message: expect.stringMatching(/^request flood: \d+ requests over the rate limit within 1 s; not listening to requests for 2 s/) });

    // Counted by reason on the box.
    const ca = await mqttCounters(a);
    for (const reason of new Set(Object.entries(expected).filter(([n]) => !n.includes('box-b') && !n.includes('has it off')).map(([, r]) => r))) {
      expect(ca[`refused_${reason.replaceAll('-', '_')}`], reason).toBeGreaterThanOrEqual(1);
    }
    // The flood: at least shed_after (100) dropped by the rate limit, then a pause; what was
    // already on its way when the box unsubscribed is refused_shed (on a loaded machine that can
    // be the whole burst: bench/README.md "Fleet trust" measures what the pause saves).
    expect(ca.refused_rate_limited).toBeGreaterThanOrEqual(100);
    expect(ca.flood_pauses).toBeGreaterThanOrEqual(1);
    // The only requests run: the captured reload and the unsigned status (read-only, allowed).
    expect(ca.accepted).toBe(2);
    expect(ca.requests! - ca.refused!).toBe(2);
    // After the pause the box listens again: a legitimate request is answered.
    await a.waitLog(/listening to requests again after a flood pause/, 30_000);
    const after = await request(['box-a', 'status', '--key', keys.ops.file]);
    expect(after.code, after.stderr).toBe(0);
    expect((await mqttCounters(b)).refused_push_disabled).toBe(1);

    // Audited: on the MQTT event topic, each reason either on its own or in a summary.
    const audits = report.received.filter((m) => m.topic === `${p}event`).map((m) => JSON.parse(m.text) as Record<string, any>).filter((e) => e.type === 'audit');
    const audited = new Set<string>();
    for (const e of audits) {
      if (e.kind === 'request-refused') audited.add(e.reason);
      if (e.kind === 'refusals-summary') for (const r of Object.keys(e.counts)) audited.add(r);
    }
    for (const reason of ['unsigned', 'unknown-key', 'bad-signature', 'forbidden', 'replay', 'expired', 'future', 'oversize', 'local-only', 'retained', 'malformed', 'rate-limited']) {
      expect(audited.has(reason), `audit of ${reason}`).toBe(true);
    }
    expect(audits.filter((e) => e.kind === 'request-accepted').map((e) => e.command)).toEqual(['reload']);

    // VRRP never moved; no state-changing command ran; the config files are untouched.
    await lab().waitHolders(VIP, ['a']);
    expect(await a.state()).toBe('MASTER');
    expect(await b.state()).toBe('BACKUP');
    expect(transitions(a)).toBe(transitionsA);
    expect(transitions(b)).toBe(transitionsB);
    expect(a.out()).not.toMatch(/audit: (maintenance|failover|config) accepted/);
    expect(sha(a.configFile)).toBe(cfgA);
    expect(sha(b.configFile)).toBe(cfgB);
    // Nothing the pushes named ever ran, and no credential of a URL reached the log.
    expect(a.out()).not.toContain('/tmp/pwned');
    expect(a.proc.running && b.proc.running).toBe(true);
  });

  it('the legitimate path: every command signed with twinvip request, end to end', async () => {
    const { a } = await pair();
    const ops = ['--key', keys.ops.file];

    const unsigned = await request(['box-a', 'status']);
    expect(unsigned.code).toBe(0);
    expect(unsigned.answer).toMatchObject({ status: 'ok', data: { node: 'box-a' } });
    expect((await request(['box-a', 'status', ...ops])).answer).toMatchObject({ status: 'ok', nonce: expect.any(String) });
    const diag = await request(['box-a', 'diagnostics', '5', ...ops]);
    expect(diag.code).toBe(0);
    expect((diag.answer?.data as { log: string[] }).log.length).toBeLessThanOrEqual(5);
    expect((await request(['box-a', 'reload', ...ops])).answer).toMatchObject({ status: 'ok', data: { changed: false } });
    // Over MQTT 3.1.1 the nonce correlates the answer.
    expect((await request(['box-a', 'status', ...ops, '--mqtt', '4'])).code).toBe(0);

    // maintenance: the VIP goes to b, and comes back.
    const on = await request(['box-a', 'maintenance', 'on', ...ops]);
    expect(on.code, on.stderr).toBe(0);
    await lab().waitHolders(VIP, ['b']);
    expect((await request(['box-a', 'maintenance', 'off', ...ops])).code).toBe(0);
    await lab().waitHolders(VIP, ['a']);

    // failover: the BACKUP has nothing to hand over (an error answer: exit 1); the MASTER hands
    // its VIP to b and stays demoted until maintenance off.
    const nothing = await request(['box-b', 'failover', ...ops]);
    expect(nothing.code).toBe(1);
    expect(nothing.answer).toMatchObject({ status: 'error' });
    expect((await request(['box-a', 'failover', ...ops])).code).toBe(0);
    await lab().waitHolders(VIP, ['b']);
    expect((await request(['box-a', 'maintenance', 'off', ...ops])).code).toBe(0);
    await lab().waitHolders(VIP, ['a']);

    // config push: an admin key changes the priority; what the push leaves out stays local.
    const before = JSON.parse(readFileSync(a.configFile, 'utf8')) as Record<string, any>;
    const pushed = join(lab().dir, 'push.json');
    writeFileSync(pushed, JSON.stringify({ instances: { VI_1: { ...before.instances.VI_1, priority: 170 } } }));
    const refused = await request(['box-a', 'config', pushed, ...ops]);
    expect(refused.code).toBe(1);
    expect(refused.answer).toMatchObject({ error: expect.stringMatching(/^refused \(forbidden\)/) });
    const push = await request(['box-a', 'config', pushed, '--key', keys.boss.file]);
    expect(push.code, push.stderr).toBe(0);
    expect(push.answer).toMatchObject({ status: 'ok', data: { changed: true } });
    await lab().waitFor(async () => (await a.status())?.instances.find((i) => i.name === 'VI_1')?.priority === 170, { what: 'priority 170 on a' });
    const after = JSON.parse(readFileSync(a.configFile, 'utf8')) as Record<string, any>;
    expect(after.instances.VI_1.priority).toBe(170);
    expect(after.mqtt).toEqual(before.mqtt);
    expect(after.trusted_keys).toEqual(before.trusted_keys);
    expect(a.out()).toMatch(/audit: config accepted by key 'boss' \(admin/);
    await lab().waitHolders(VIP, ['a']);

    // No box behind the prefix: no answer, exit 3.
    const none = await request(['box-zz', 'status', '--timeout', '2']);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/no answer from box-zz/);
  });
});
