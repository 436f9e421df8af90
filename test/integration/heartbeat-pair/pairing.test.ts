// First-boot pairing (issue #25) with two real daemons: each starts with a heartbeat key_file
// that does not exist, runs plain VRRP and says "unpaired" in status; `twinvip pair` on box a
// shows a code, `twinvip pair --confirm CODE` on box b checks it; both write the same key (mode
// 0600) and the authenticated serial heartbeat then flows. Then a tampering relay on the cable
// (recording-line.ts with a rewrite hook) runs its own key exchange with each box, public keys
// swapped, commitments kept consistent so nothing but the code can tell: the code typed on b
// does not match, b says so, and neither box writes a key. MQTT: a real mosquitto on the LAN
// shows `heartbeat.unpaired` in each box's retained state until the pairing, then the
// authenticated heartbeat. `twinvip pair --unpair` on both: unpaired again, no restart, and the
// same two daemons pair again with a new key.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { type Box, PairLab } from './pair-lab';
import { RecordingLine } from './recording-line';
import { describeRequiring, needsProgram } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';
import { runCli } from '../../helpers/bundle';
import { Mosquitto } from '../mqtt/broker';
import type { LabProcess } from '../helpers/netns';
import { requestOnce } from '../../../src/control';
import { FrameDecoder, encodeFrame } from '../../../src/heartbeat/framing';
import { commitment, decodePairing, encodePairing } from '../../../src/heartbeat/pairing';
import { nodePairingCrypto } from '../../../src/ha/heartbeat/pair-crypto';

const keyOf = (p: PairLab, box: Box) => join(p.dir, `heartbeat-${box.id}.key`);

async function status(box: Box): Promise<{ features: Record<string, { state: string; detail?: string }> } | null> {
  const r = await requestOnce(box.socket, 'status', undefined, { timeoutMs: 3000 });
  return r.ok && r.response.status === 'ok' ? (r.response.data as never) : null;
}

async function startUnpaired(p: PairLab, devices: { a: string; b: string } | undefined, extra: Record<string, unknown> = {}): Promise<void> {
  for (const box of [p.a, p.b]) {
    const device = devices ? devices[box.id] : undefined;
    await p.writeConfig(box, extra, { ...(device ? { device } : {}), serial: { key: undefined, key_file: keyOf(p, box) } });
    p.start(box);
  }
  // Plain VRRP meanwhile, and both say why there is no serial heartbeat.
  await p.masterIs(p.a, p.b);
  for (const box of [p.a, p.b]) {
    await p.waitFor(async () => /unpaired/.test((await status(box))?.features.heartbeat?.detail ?? ''), () => `${box.id} says unpaired${p.logs()}`);
    const pair = await runCli(['pair', '--status', '-s', box.socket]);
    expect(pair.stdout).toContain('not paired: plain VRRP until paired');
    expect(box.log()).toMatch(/unpaired: no heartbeat key at .*plain VRRP/);
  }
}

/** The broker on the LAN (client namespace c), port 1883 of that namespace. */
const BROKER = '10.77.0.9';

/** Every retained-state document `mosquitto_sub` in namespace c received from `node`, oldest first. */
function mqttStates(sub: LabProcess, node: string): { heartbeat: { enabled: boolean; unpaired?: { phase: string } } }[] {
  const prefix = `twinvip/${node}/state `;
  return sub.stdout.split('\n').filter((l) => l.startsWith(prefix)).map((l) => JSON.parse(l.slice(prefix.length)) as never);
}

describeRequiring([...NetnsLab.prerequisites, needsProgram('mosquitto'), needsProgram('mosquitto_sub', 'mosquitto-clients')], 'first-boot pairing over the serial cable', () => {
  let p: PairLab;
  let broker: Mosquitto | undefined;
  let sub: LabProcess;
  const firstKey: string[] = [];

  beforeAll(async () => {
    if (!NetnsLab.available()) return;
    p = await PairLab.create();
    await p.startSerial();
    broker = new Mosquitto({ dir: p.dir, port: 1883, host: BROKER, netns: p.c.name });
    await broker.start();
    sub = p.c.spawn('mosquitto_sub', ['-h', BROKER, '-p', '1883', '-t', 'twinvip/+/state', '-v']);
  }, patience(60_000));

  afterAll(async () => {
    await broker?.stop();
    await p?.cleanup();
  }, patience(60_000));

  /** Waits for a state of `box` on the broker, from the `from`-th on, that `pred` accepts. */
  const mqttStateOf = (box: Box, from: number, pred: (s: ReturnType<typeof mqttStates>[number]) => boolean, what: string) =>
    p.waitFor(() => mqttStates(sub, `box-${box.id}`).slice(from).find(pred), () => `MQTT state of ${box.id}: ${what}\n${sub.stdout.slice(-3000)}${sub.stderr}${p.logs()}`, 30_000);

  it('unpaired boxes run plain VRRP and say so over MQTT; the code shown on a, typed on b, gives both the same 0600 key, the authenticated heartbeat starts and MQTT shows it', async () => {
    // Telemetry only hourly: a republished state is the pairing's doing, not a timer's.
    await startUnpaired(p, undefined, { mqtt: { enabled: true, url: `mqtt://${BROKER}:1883`, telemetry_interval: 3600 } });
    for (const box of [p.a, p.b]) {
      const s = await mqttStateOf(box, 0, (x) => x.heartbeat?.unpaired !== undefined, 'heartbeat.unpaired');
      expect(s.heartbeat).toMatchObject({ enabled: false, unpaired: { phase: 'idle' } });
    }
    const seen = { a: mqttStates(sub, 'box-a').length, b: mqttStates(sub, 'box-b').length };
    const started = await runCli(['pair', '--no-wait', '-s', p.a.socket], { timeoutMs: 30_000 });
    expect(started.code, started.stderr).toBe(0);
    const code = /code (\d{3}) (\d{3})/.exec(started.stdout);
    expect(code, started.stdout).not.toBeNull();
    expect(existsSync(keyOf(p, p.a)) || existsSync(keyOf(p, p.b))).toBe(false);

    const confirmed = await runCli(['pair', '--confirm', `${code![1]} ${code![2]}`, '-s', p.b.socket], { timeoutMs: 30_000 });
    expect(confirmed.code, confirmed.stderr + p.logs()).toBe(0);
    expect(confirmed.stdout).toContain('paired with box-a');

    await p.waitFor(() => existsSync(keyOf(p, p.a)) && existsSync(keyOf(p, p.b)), () => `both keys written${p.logs()}`);
    const ka = readFileSync(keyOf(p, p.a), 'utf8');
    expect(ka).toMatch(/^[0-9a-f]{64}\n$/);
    expect(readFileSync(keyOf(p, p.b), 'utf8')).toBe(ka);
    for (const box of [p.a, p.b]) expect(statSync(keyOf(p, box)).mode & 0o777).toBe(0o600);
    firstKey.push(ka);

    // The authenticated heartbeat flows both ways with the agreed key.
    await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, () => `serial heartbeat ok on both${p.logs()}`);
    const before = (await p.counters(p.b))!['accepted.heartbeat']!;
    await p.waitFor(async () => ((await p.counters(p.b))?.['accepted.heartbeat'] ?? 0) >= before + 10, () => `b accepts a's heartbeats${p.logs()}`);
    expect((await p.counters(p.a))!['rejected.bad-hmac']).toBe(0);
    const st = await runCli(['pair', '--status', '-s', p.a.socket]);
    expect(st.stdout).toMatch(/^paired \(key /);
    // Pairing again is refused while paired.
    const again = await runCli(['pair', '--no-wait', '-s', p.a.socket]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already paired');
    await p.masterIs(p.a, p.b);
    // MQTT's retained state flips to the running heartbeat, without waiting for a telemetry tick.
    for (const box of [p.a, p.b]) {
      const s = await mqttStateOf(box, seen[box.id], (x) => x.heartbeat?.enabled === true, 'heartbeat enabled after pairing');
      expect(s.heartbeat.unpaired).toBeUndefined();
    }
  }, patience(180_000));

  it('twinvip pair --unpair on both: unpaired at once (status, MQTT), no restart, and the same daemons pair again with a new key', async () => {
    expect(firstKey).toHaveLength(1);
    const pids = { a: p.a.proc!.pid, b: p.b.proc!.pid };
    const seen = { a: mqttStates(sub, 'box-a').length, b: mqttStates(sub, 'box-b').length };
    for (const box of [p.a, p.b]) {
      const r = await runCli(['pair', '--unpair', '-s', box.socket], { timeoutMs: 30_000 });
      expect(r.code, r.stderr + p.logs()).toBe(0);
      expect(r.stdout).toContain('unpaired (plain VRRP)');
      expect(existsSync(keyOf(p, box))).toBe(false);
      const st = await runCli(['pair', '--status', '-s', box.socket]);
      expect(st.stdout).toContain('not paired: plain VRRP until paired');
      expect((await status(box))?.features.heartbeat?.detail).toMatch(/unpaired/);
      expect(box.log()).toMatch(/unpair: heartbeat key .* removed on request; the authenticated serial heartbeat stops/);
    }
    for (const box of [p.a, p.b]) await mqttStateOf(box, seen[box.id], (x) => x.heartbeat?.unpaired !== undefined, 'heartbeat.unpaired after --unpair');
    // Plain VRRP meanwhile: a (the higher priority) stays MASTER.
    await p.masterIs(p.a, p.b);

    const started = await runCli(['pair', '--no-wait', '-s', p.a.socket], { timeoutMs: 30_000 });
    expect(started.code, started.stderr + p.logs()).toBe(0);
    const code = /code (\d{3}) (\d{3})/.exec(started.stdout);
    expect(code, started.stdout).not.toBeNull();
    const confirmed = await runCli(['pair', '--confirm', `${code![1]}${code![2]}`, '-s', p.b.socket], { timeoutMs: 30_000 });
    expect(confirmed.code, confirmed.stderr + p.logs()).toBe(0);
    await p.waitFor(() => existsSync(keyOf(p, p.a)) && existsSync(keyOf(p, p.b)), () => `both keys written again${p.logs()}`);
    const key = readFileSync(keyOf(p, p.a), 'utf8');
    expect(readFileSync(keyOf(p, p.b), 'utf8')).toBe(key);
    expect(key).not.toBe(firstKey[0]);
    await p.waitFor(async () => (await p.heartbeat(p.a))?.serial.ok && (await p.heartbeat(p.b))?.serial.ok, () => `serial heartbeat ok on both with the new key${p.logs()}`);
    const before = (await p.counters(p.b))!['accepted.heartbeat']!;
    await p.waitFor(async () => ((await p.counters(p.b))?.['accepted.heartbeat'] ?? 0) >= before + 10, () => `b accepts a's heartbeats under the new key${p.logs()}`);
    // The same processes throughout: nothing restarted.
    for (const box of [p.a, p.b]) {
      expect(box.proc!.running).toBe(true);
      expect(box.proc!.pid).toBe(pids[box.id]);
    }
    await p.masterIs(p.a, p.b);
  }, patience(180_000));
});

/**
 * A man in the middle of the cable: a full key exchange of its own with each box. To a it
 * answers with its own public key (as b); to b it commits to and reveals another key of its own
 * (as a). Everything else passes unchanged.
 */
class KeySwapper {
  private readonly toA = nodePairingCrypto.keyPair();
  private readonly toB = nodePairingCrypto.keyPair();
  private readonly nonceToB = nodePairingCrypto.draw(16);
  private readonly nonceToA = nodePairingCrypto.draw(16);
  swapped = 0;

  rewrite(dir: 'ab' | 'ba', frame: Buffer): Buffer {
    const d = new FrameDecoder().push(frame)[0];
    if (!d?.ok) return frame;
    const m = decodePairing(d.body);
    if (!m) return frame;
    this.swapped++;
    if (dir === 'ab' && m.kind === 'commit') return encodeFrame(encodePairing({ ...m, commitment: commitment(nodePairingCrypto, this.toB.publicKey, this.nonceToB) }));
    if (dir === 'ab' && m.kind === 'reveal') return encodeFrame(encodePairing({ ...m, publicKey: this.toB.publicKey, nonce: this.nonceToB }));
    if (dir === 'ba' && m.kind === 'offer') return encodeFrame(encodePairing({ ...m, publicKey: this.toA.publicKey, nonce: this.nonceToA }));
    this.swapped--;
    return frame;
  }
}

describeRequiring(NetnsLab.prerequisites, 'pairing through a relay that swaps the public keys', () => {
  let p: PairLab;
  let line: RecordingLine;
  const mitm = new KeySwapper();

  beforeAll(async () => {
    if (!NetnsLab.available()) return;
    p = await PairLab.create();
    line = await RecordingLine.start(p.lab, p.dir);
    line.aToB.rewrite = (f) => mitm.rewrite('ab', f);
    line.bToA.rewrite = (f) => mitm.rewrite('ba', f);
  }, patience(60_000));

  afterAll(async () => {
    line?.close();
    await p?.cleanup();
  }, patience(60_000));

  it('the code typed on b does not match: b says so, neither box writes a key, both stay on plain VRRP', async () => {
    await startUnpaired(p, { a: line.device('a'), b: line.device('b') });
    const started = await runCli(['pair', '--no-wait', '-s', p.a.socket], { timeoutMs: 30_000 });
    expect(started.code, started.stderr + p.logs()).toBe(0);
    const code = /code (\d{3}) (\d{3})/.exec(started.stdout);
    expect(code, started.stdout).not.toBeNull();
    // The relay did swap: a's commit and reveal, b's offer.
    expect(mitm.swapped).toBeGreaterThanOrEqual(3);

    const confirmed = await runCli(['pair', '--confirm', `${code![1]}${code![2]}`, '-s', p.b.socket], { timeoutMs: 30_000 });
    expect(confirmed.code).toBe(1);
    expect(confirmed.stderr).toContain('code mismatch');
    expect(confirmed.stderr).toContain('tampered');
    // b's abort reaches a (the relay passes it): a gives up too and says why.
    await p.waitFor(async () => {
      const r = await runCli(['pair', '--status', '--json', '-s', p.a.socket]);
      return (JSON.parse(r.stdout) as { phase: string }).phase === 'failed';
    }, () => `a learns of the mismatch${p.logs()}`);
    expect(p.a.log()).toMatch(/aborted: the code did not match/);
    expect(existsSync(keyOf(p, p.a))).toBe(false);
    expect(existsSync(keyOf(p, p.b))).toBe(false);
    for (const box of [p.a, p.b]) expect((await status(box))?.features.heartbeat?.detail).toMatch(/unpaired/);
    await p.masterIs(p.a, p.b);
  }, patience(180_000));
});
