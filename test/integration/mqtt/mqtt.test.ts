import cp from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
// The MQTT extension against a real mosquitto on loopback (own config file, free port). Waits
// are on received messages (poll with timeout), never fixed sleeps.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { publicKeyText } from '../../../src/fleet/keys';
import { signRequest } from '../../../src/fleet/signed-request';
import type { HaActions } from '../../../src/mqtt';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { waitFor } from '../../helpers/wait';
import { freePort, Mosquitto, Recorder } from './broker';
import { startDaemon, type Harness } from './harness';

let dir: TempDir;
let broker: Mosquitto;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = makeTempDir('tvmq-');
  broker = new Mosquitto({ dir: dir.path, port: await freePort() });
  await broker.start();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

afterAll(async () => {
  await broker?.stop();
  dir?.remove();
});

async function daemon(name: string, mqtt: Record<string, unknown> = {}, opts: Parameters<typeof startDaemon>[3] = {}, extra: Record<string, unknown> = {}): Promise<Harness> {
  const h = await startDaemon(dir.path, name, { url: broker.url, ...mqtt }, opts, extra);
  cleanups.push(() => h.stop());
  return h;
}

async function recorder(filter: string | string[], opts: Parameters<typeof Recorder.open>[2] = {}): Promise<Recorder> {
  const r = await Recorder.open(broker.url, filter, opts);
  cleanups.push(() => r.close());
  return r;
}

const transition = (h: Harness, to: 'MASTER' | 'BACKUP', i: number) =>
  h.daemon.bus.emit('transition', { instance: 'VI_1', from: to === 'MASTER' ? 'BACKUP' : 'MASTER', to, cause: `test ${i}`, at: Date.now() });

describe('status, state and events', () => {
  it('a fresh subscriber sees retained status online and the full state', async () => {
    const h = await daemon('box-a');
    await waitFor(() => h.ext.connected, { what: 'extension connected', timeoutMs: 20_000 });
    const sub = await recorder('twinvip/box-a/#');
    const status = await sub.wait((m) => m.topic === 'twinvip/box-a/status', 'retained status');
    expect(status.text).toBe('online');
    expect(status.retain).toBe(true);
    const state = await sub.wait((m) => m.topic === 'twinvip/box-a/state', 'retained state');
    expect(state.retain).toBe(true);
    const s = JSON.parse(state.text);
    expect(s.node).toBe('box-a');
    expect(s.config_hash).toBe(h.daemon.configHash);
    expect(s.instances.VI_1).toMatchObject({ state: 'INIT', priority: 150, vips: ['192.0.2.10/24'] });
    expect(s).toHaveProperty('heartbeat');
    expect(s).toHaveProperty('nginx');
    expect(typeof s.uptime_s).toBe('number');
  });

  it('transitions and alarms become events with a monotonic seq; the state follows', async () => {
    const h = await daemon('box-b');
    const sub = await recorder('twinvip/box-b/#');
    await waitFor(() => h.ext.connected, { what: 'extension connected', timeoutMs: 20_000 });
    transition(h, 'MASTER', 1);
    h.daemon.bus.emit('alarm', { id: 'serial-heartbeat-lost', active: true, severity: 'warning', message: 'no frame for 3 s', at: Date.now() });
    transition(h, 'BACKUP', 2);
    await waitFor(() => sub.on('twinvip/box-b/event').length >= 3, { what: '3 events' });
    const events = sub.json('twinvip/box-b/event');
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events.map((e) => e.type)).toEqual(['transition', 'alarm', 'transition']);
    expect(events[0]).toMatchObject({ instance: 'VI_1', from: 'BACKUP', to: 'MASTER', cause: 'test 1' });
    expect(sub.on('twinvip/box-b/event').every((m) => !m.retain)).toBe(true);
    const state = await sub.wait((m) => m.topic === 'twinvip/box-b/state' && JSON.parse(m.text).instances.VI_1.state === 'BACKUP', 'state after transitions');
    const s = JSON.parse(state.text);
    expect(s.instances.VI_1.last_transition).toMatchObject({ from: 'MASTER', to: 'BACKUP', cause: 'test 2' });
    expect(s.alarms).toEqual([expect.objectContaining({ id: 'serial-heartbeat-lost', severity: 'warning' })]);
  });

  it('pair identity in the state; instance/<name>/state retained, following transitions; cleared when the instance leaves the config', async () => {
    const h = await daemon('box-i', {}, {}, { node: { name: 'box-i', state_dir: `${dir.path}/state-box-i`, twin: 'box-j' } });
    const sub = await recorder('twinvip/box-i/#');
    await waitFor(() => h.ext.connected, { what: 'extension connected', timeoutMs: 20_000 });
    const state = await sub.wait((m) => m.topic === 'twinvip/box-i/state', 'retained state');
    expect(JSON.parse(state.text).pair).toEqual({ id: 'box-i~box-j', twin: 'box-j', source: 'names' });
    const first = await sub.wait((m) => m.topic === 'twinvip/box-i/instance/VI_1/state', 'instance topic');
    expect(JSON.parse(first.text)).toEqual({ state: 'INIT', priority: 150, vips: ['192.0.2.10/24'], since: null, cause: null });
    transition(h, 'MASTER', 1);
    const master = await sub.wait((m) => m.topic === 'twinvip/box-i/instance/VI_1/state' && JSON.parse(m.text).state === 'MASTER', 'instance MASTER');
    expect(JSON.parse(master.text)).toMatchObject({ state: 'MASTER', cause: 'test 1', since: expect.stringMatching(/^\d{4}-/) });
    // Only a change is republished: an alarm changes the state document, not the instance's.
    const before = sub.on('twinvip/box-i/instance/VI_1/state').length;
    h.daemon.bus.emit('alarm', { id: 'serial-heartbeat-lost', active: true, severity: 'warning', message: 'no frame', at: Date.now() });
    await sub.wait((m) => m.topic === 'twinvip/box-i/state' && JSON.parse(m.text).alarms.length === 1, 'state with the alarm');
    expect(sub.on('twinvip/box-i/instance/VI_1/state').length).toBe(before);
    // A fresh subscriber gets the retained instance document.
    const fresh = await recorder('twinvip/+/instance/+/state');
    const retained = await fresh.wait((m) => m.topic === 'twinvip/box-i/instance/VI_1/state', 'retained instance state');
    expect(retained.retain).toBe(true);
    expect(JSON.parse(retained.text).state).toBe('MASTER');

    // A reload that renames the instance: the old topic is cleared (empty retained), the new one appears.
    const cfg = JSON.parse(readFileSync(h.configPath, 'utf8'));
    cfg.instances = { VI_2: cfg.instances.VI_1 };
    writeFileSync(h.configPath, JSON.stringify(cfg));
    expect((await h.daemon.reload('test')).ok ?? true).toBeTruthy();
    await sub.wait((m) => m.topic === 'twinvip/box-i/instance/VI_1/state' && m.text === '', 'VI_1 cleared');
    await sub.wait((m) => m.topic === 'twinvip/box-i/instance/VI_2/state' && m.text !== '', 'VI_2 published');
  });

  it('state providers add fields to the retained state', async () => {
    const h = await daemon('box-p');
    h.ext.addStateProvider('nginx', () => ({ running: true, generation: 7 }));
    const sub = await recorder('twinvip/box-p/state');
    const st = await sub.wait((m) => JSON.parse(m.text).nginx?.generation === 7, 'state with the nginx provider');
    expect(JSON.parse(st.text).nginx).toEqual({ running: true, generation: 7 });
  });
});

describe('commands', () => {
  const calls: string[] = [];
  const ha: HaActions = {
    // The in-process harness has no VRRP part; this stub records what the extension asks of it
    // (the namespace pair in fleet-trust.test.ts runs the real one).
    maintenance: async (on) => (calls.push(`maintenance ${on}`), { ok: true, data: { maintenance: on } }),
    failover: async () => (calls.push('failover'), { ok: false, error: 'no MASTER instance to hand over' }),
    exclusive: (name, act) => (calls.push(name), act()),
  };
  const ops = generateKeyPairSync('ed25519').privateKey;
  const boss = generateKeyPairSync('ed25519').privateKey;
  const trust = { trusted_keys: { ops: { role: 'operator', public_key: publicKeyText(ops) }, boss: { role: 'admin', public_key: publicKeyText(boss) } } };
  const commands = (c: Record<string, unknown> = {}) => ({ allow_plaintext_commands: true, commands: { enabled: true, unsigned: ['status'], config_push: true, ...c } });

  /** Publishes (signed with `key` when given) and waits for the answer correlated by MQTT 5 correlation data. */
  async function request(sub: Recorder, node: string, command: string, payload: unknown, corr: string, key?: KeyObject): Promise<Record<string, unknown>> {
    const topic = `twinvip/${node}/request/${command}`;
    const responseTopic = `twinvip/${node}/response/${command}/me`;
    const body = key ? JSON.stringify(signRequest(key, topic, payload, { validSeconds: 30 })) : typeof payload === 'string' ? payload : JSON.stringify(payload);
    sub.client.publish(topic, body, { qos: 1, properties: { responseTopic, correlationData: Buffer.from(corr) } });
    const m = await sub.wait((x) => x.topic === responseTopic && Buffer.from((x.properties?.correlationData as Buffer) ?? []).toString() === corr, `response ${corr}`);
    return JSON.parse(m.text);
  }

  it('commands are off unless enabled: the box does not even subscribe to its request topics', async () => {
    const off = await daemon('box-off');
    const on = await daemon('box-on', commands(), {}, trust);
    await waitFor(() => off.ext.connected && on.ext.connected, { what: 'extensions connected', timeoutMs: 20_000 });
    // A publisher with no subscriptions of its own: MQTT 5 PUBACK says 0x10 "no matching
    // subscribers" when nobody (the box included) listens on the topic.
    const pub = await recorder('nothing/at/all', { protocolVersion: 5 });
    const reasonCode = (topic: string) => new Promise<number>((resolve, reject) => {
      const seen = (p: { cmd: string; reasonCode?: number }) => {
        if (p.cmd !== 'puback') return;
        pub.client.off('packetreceive', seen);
        resolve(p.reasonCode ?? 0);
      };
      pub.client.on('packetreceive', seen);
      pub.client.publish(topic, '{}', { qos: 1 }, (err) => err && reject(err));
    });
    await waitFor(async () => (await reasonCode('twinvip/box-on/request/status')) === 0, { what: 'box-on subscribed', timeoutMs: 10_000 });
    expect(await reasonCode('twinvip/box-off/request/status')).toBe(0x10);
    expect((await statusCounters(off)).requests).toBe(0);
  });

  it('MQTT 5: every command, signed; its own response subtree; malformed ones answered with errors', async () => {
    calls.length = 0;
    const h = await daemon('box-c', commands(), { ha }, trust);
    await waitFor(() => h.ext.connected, { what: 'extension connected', timeoutMs: 20_000 });
    const sub = await recorder('twinvip/box-c/response/#', { protocolVersion: 5 });

    expect(await request(sub, 'box-c', 'status', {}, 'c1')).toMatchObject({ status: 'ok', data: { node: 'box-c' } });
    expect(await request(sub, 'box-c', 'maintenance', { on: true }, 'c2', ops)).toMatchObject({ status: 'ok', data: { maintenance: true }, nonce: expect.any(String) });
    expect(calls).toEqual(['maintenance true']);
    expect(await request(sub, 'box-c', 'failover', {}, 'c4', ops)).toMatchObject({ status: 'error', error: 'no MASTER instance to hand over' });

    const diag = await request(sub, 'box-c', 'diagnostics', { log_lines: 5 }, 'c5', ops);
    expect(diag.status).toBe('ok');
    const d = diag.data as { counters: Record<string, unknown>; log: string[] };
    expect(d.counters).toHaveProperty('mqtt');
    expect(d.log.length).toBeGreaterThan(0);
    expect(d.log.length).toBeLessThanOrEqual(5);
    expect(await request(sub, 'box-c', 'reload', {}, 'c6', ops)).toMatchObject({ status: 'ok', data: { changed: false } });

    // Malformed and unknown: answered, never a crash, never run.
    const bad1 = await request(sub, 'box-c', 'maintenance', { on: 'yes' }, 'b1', ops);
    expect(bad1.error).toMatch(/\/on: must be boolean/);
    expect(await request(sub, 'box-c', 'status', '{not json', 'b2')).toMatchObject({ status: 'error', error: expect.stringMatching(/not JSON/) });
    expect(await request(sub, 'box-c', 'selfdestruct', {}, 'b3', ops)).toMatchObject({ status: 'error', error: expect.stringMatching(/unknown command 'selfdestruct'/) });
    expect(await request(sub, 'box-c', 'maintenance', { on: false }, 'b4')).toMatchObject({ status: 'error', error: expect.stringMatching(/^refused \(unsigned\)/) });
    // reload ran as one operator action (the guard the console shares).
    expect(calls).toEqual(['maintenance true', 'failover', 'reload']);
    expect(h.ext.connected).toBe(true);
  });

  it('a response topic outside the box\'s response/ subtree is not used: the answer goes to response/<command>', async () => {
    const h = await daemon('box-rt', commands(), {}, trust);
    await waitFor(() => h.ext.connected, { what: 'extension connected', timeoutMs: 20_000 });
    const sub = await recorder(['twinvip/box-rt/#', 'twinvip/other-box/#', 'fleet/#', 'elsewhere'], { protocolVersion: 5 });
    for (const responseTopic of ['fleet/replies/x', 'twinvip/box-rt/state', 'twinvip/other-box/response/status', 'elsewhere']) {
      sub.client.publish('twinvip/box-rt/request/status', JSON.stringify({ transaction: responseTopic }), { qos: 1, properties: { responseTopic, correlationData: Buffer.from('x') } });
      const m = await sub.wait((x) => x.topic === 'twinvip/box-rt/response/status' && JSON.parse(x.text).transaction === responseTopic, `answer for ${responseTopic}`);
      expect(JSON.parse(m.text).status).toBe('ok');
    }
    expect(sub.messages.filter((m) => !m.topic.startsWith('twinvip/box-rt/') || (m.topic === 'twinvip/box-rt/state' && m.text.includes('"transaction"')))).toEqual([]);
    expect((await statusCounters(h)).response_topics_refused).toBe(4);
  });

  it('MQTT 3.1.1: response/<command> with the transaction field and the nonce of a signed request', async () => {
    const h = await daemon('box-d', { protocol_version: 4, ...commands() }, {}, trust);
    await waitFor(() => h.ext.connected, { what: 'extension connected', timeoutMs: 20_000 });
    const sub = await recorder('twinvip/box-d/response/#', { protocolVersion: 4 });
    sub.client.publish('twinvip/box-d/request/status', JSON.stringify({ transaction: 'tx-42' }), { qos: 1 });
    const m = await sub.wait((x) => x.topic === 'twinvip/box-d/response/status', 'status response');
    expect(JSON.parse(m.text)).toMatchObject({ status: 'ok', transaction: 'tx-42', data: { node: 'box-d' } });
    const signed = signRequest(boss, 'twinvip/box-d/request/config', { transaction: 7, config: 'nope' }, { validSeconds: 30 });
    sub.client.publish('twinvip/box-d/request/config', JSON.stringify(signed), { qos: 1 });
    const e = await sub.wait((x) => x.topic === 'twinvip/box-d/response/config', 'config error response');
    expect(JSON.parse(e.text)).toMatchObject({ status: 'error', transaction: 7, nonce: signed.nonce });
  });

  it('config push: a valid one is written and applied like SIGHUP; an invalid one is refused with its errors', async () => {
    const h = await daemon('box-e', commands(), { ha }, trust);
    await waitFor(() => h.ext.connected, { what: 'extension connected', timeoutMs: 20_000 });
    const sub = await recorder('twinvip/box-e/response/#', { protocolVersion: 5 });
    const before = readFileSync(h.configPath, 'utf8');
    const instances = structuredClone(JSON.parse(before).instances);

    instances.VI_1.priority = 300;
    const refused = await request(sub, 'box-e', 'config', { config: { instances } }, 'p1', boss);
    expect(refused.status).toBe('error');
    expect(JSON.stringify(refused.data)).toMatch(/\/instances\/VI_1\/priority/);
    expect(readFileSync(h.configPath, 'utf8')).toBe(before);

    instances.VI_1.priority = 120;
    const oldHash = h.daemon.configHash;
    const applied = await request(sub, 'box-e', 'config', { config: { instances } }, 'p2', boss);
    expect(applied).toMatchObject({ status: 'ok', data: { changed: true, old_hash: oldHash } });
    expect(h.daemon.configHash).not.toBe(oldHash);
    expect(h.daemon.config.instances.VI_1!.priority).toBe(120);
    const written = JSON.parse(readFileSync(h.configPath, 'utf8'));
    expect(written.instances.VI_1.priority).toBe(120);
    // What the push left out stays as the box had it.
    expect(written.mqtt).toEqual(JSON.parse(before).mqtt);
    expect(written.trusted_keys).toEqual(JSON.parse(before).trusted_keys);
  });
});

async function statusCounters(h: Harness): Promise<Record<string, number>> {
  return h.daemon.counters.snapshot().mqtt ?? {};
}

describe('outage tolerance', () => {
  it('a broker down at start-up does not stop the daemon; it connects once the broker comes', async () => {
    const port = await freePort();
    const late = new Mosquitto({ dir: dir.path, port });
    cleanups.push(() => late.stop());
    const t0 = Date.now();
    const h = await startDaemon(dir.path, 'box-late', { url: late.url });
    cleanups.push(() => h.stop());
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(h.ext.connected).toBe(false);
    transition(h, 'MASTER', 1);
    await late.start();
    const sub = await Recorder.open(late.url, 'twinvip/box-late/#');
    cleanups.push(() => sub.close());
    await sub.wait((m) => m.topic === 'twinvip/box-late/status' && m.text === 'online', 'online after the broker came up');
  });

  it('events raised while the broker is down are delivered in order, gap-free, after it returns', async () => {
    const port = await freePort();
    const b = new Mosquitto({ dir: `${dir.path}`, port, persistence: true });
    cleanups.push(() => b.stop());
    await b.start();
    const h = await startDaemon(dir.path, 'box-f', { url: b.url });
    cleanups.push(() => h.stop());
    await waitFor(() => h.ext.connected, { what: 'extension connected', timeoutMs: 20_000 });
    // A persistent 3.1.1 session: mosquitto keeps what arrives while this subscriber is away.
    const sub = await Recorder.open(b.url, 'twinvip/box-f/event', { protocolVersion: 4, clean: false, clientId: 'tv-outage-sub' });
    cleanups.push(() => sub.close());
    transition(h, 'MASTER', 1);
    await waitFor(() => sub.on('twinvip/box-f/event').length >= 1, { what: 'first event' });

    await b.stop();
    await waitFor(() => !h.ext.connected, { what: 'extension sees the broker gone' });
    for (let i = 2; i <= 6; i++) transition(h, i % 2 ? 'MASTER' : 'BACKUP', i);
    expect(h.ext.pendingEvents().map((e) => (e as { seq: number }).seq)).toEqual([2, 3, 4, 5, 6]);
    const outboxFile = `${dir.path}/state-box-f/mqtt-outbox.jsonl`;
    await waitFor(() => existsSync(outboxFile) && readFileSync(outboxFile, 'utf8').trim().split('\n').length === 5, { what: '5 events on disk' });

    await b.start();
    await waitFor(() => sub.on('twinvip/box-f/event').length >= 6, { what: 'all 6 events after the restart', timeoutMs: 30_000 }).catch((err) => {
      throw new Error(`${(err as Error).message}\npending ${JSON.stringify(h.ext.pendingEvents())} connected ${h.ext.connected}\nreceived ${sub.messages.map((m) => m.text).join('\n')}\nbroker: ${b.log}\n${h.sink.lines.filter((l) => l.includes('mqtt')).join('\n')}`);
    });
    const seqs = sub.json('twinvip/box-f/event').map((e) => e.seq as number);
    // At-least-once: a duplicate is allowed, a gap or a reordering is not.
    const firstSeen = seqs.filter((s, i) => seqs.indexOf(s) === i);
    expect(firstSeen).toEqual([1, 2, 3, 4, 5, 6]);
    await waitFor(() => h.ext.pendingEvents().length === 0, { what: 'outbox drained' });
    await waitFor(() => readFileSync(outboxFile, 'utf8') === '', { what: 'outbox file emptied' });
  });

  it('telemetry never blocks the event loop: no synchronous child process on the main thread (delay measured, figure in bench)', async () => {
    // systeminformation's currentLoad() runs execSync, which stalls VRRP adverts (DESIGN.md):
    // count every synchronous child-process call made on this thread while telemetry and the
    // start-up inventory (async reads of /proc, /sys, /etc) run.
    let syncCalls = 0;
    const originals = { execSync: cp.execSync, execFileSync: cp.execFileSync, spawnSync: cp.spawnSync };
    for (const name of Object.keys(originals) as (keyof typeof originals)[]) {
      const orig = originals[name] as (...a: unknown[]) => unknown;
      (cp as unknown as Record<string, unknown>)[name] = (...a: unknown[]) => {
        syncCalls++;
        return orig(...a);
      };
    }
    syncBuiltinESMExports();
    const h = await daemon('box-g', { telemetry_interval: 1 }, { inventory: true });
    const sub = await recorder('twinvip/box-g/telemetry');
    const hist = monitorEventLoopDelay({ resolution: 10 });
    hist.enable();
    try {
      await waitFor(() => sub.messages.length >= 4, { what: '4 telemetry messages', timeoutMs: 30_000 });
    } finally {
      hist.disable();
      Object.assign(cp, originals);
      syncBuiltinESMExports();
    }
    expect(syncCalls).toBe(0);
    const p99 = hist.percentile(99) / 1e6;
    const max = hist.max / 1e6;
    // A measurement, not a pass mark: timing targets live in bench/ (this machine is shared).
    console.log(`event-loop delay while telemetry ran: p50 ${(hist.percentile(50) / 1e6).toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms over ${sub.messages.length} telemetry messages`);
    const t = JSON.parse(sub.messages.at(-1)!.text);
    expect(t.load.load1).toBeTypeOf('number');
    expect(t.memory.total_kb).toBeGreaterThan(0);
    expect(typeof t.cpu_pct).toBe('number');
    expect(Object.keys(t.nics).length).toBeGreaterThan(0);
    void h;
  });
});
