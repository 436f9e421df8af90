// First-boot pairing (issue #25) with two real daemons: each starts with a heartbeat key_file
// that does not exist, runs plain VRRP and says "unpaired" in status; `twinvip pair` on box a
// shows a code, `twinvip pair --confirm CODE` on box b checks it; both write the same key (mode
// 0600) and the authenticated serial heartbeat then flows. Then a tampering relay on the cable
// (recording-line.ts with a rewrite hook) runs its own key exchange with each box, public keys
// swapped, commitments kept consistent so nothing but the code can tell: the code typed on b
// does not match, b says so, and neither box writes a key.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { type Box, PairLab } from './pair-lab';
import { RecordingLine } from './recording-line';
import { describeRequiring } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';
import { runCli } from '../../helpers/bundle';
import { requestOnce } from '../../../src/control';
import { FrameDecoder, encodeFrame } from '../../../src/heartbeat/framing';
import { commitment, decodePairing, encodePairing } from '../../../src/heartbeat/pairing';
import { nodePairingCrypto } from '../../../src/ha/heartbeat/pair-crypto';

const keyOf = (p: PairLab, box: Box) => join(p.dir, `heartbeat-${box.id}.key`);

async function status(box: Box): Promise<{ features: Record<string, { state: string; detail?: string }> } | null> {
  const r = await requestOnce(box.socket, 'status', undefined, { timeoutMs: 3000 });
  return r.ok && r.response.status === 'ok' ? (r.response.data as never) : null;
}

async function startUnpaired(p: PairLab, devices: { a: string; b: string } | undefined): Promise<void> {
  for (const box of [p.a, p.b]) {
    const device = devices ? devices[box.id] : undefined;
    await p.writeConfig(box, {}, { ...(device ? { device } : {}), serial: { key: undefined, key_file: keyOf(p, box) } });
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

describeRequiring(NetnsLab.prerequisites, 'first-boot pairing over the serial cable', () => {
  let p: PairLab;

  beforeAll(async () => {
    if (!NetnsLab.available()) return;
    p = await PairLab.create();
    await p.startSerial();
  }, patience(60_000));

  afterAll(async () => {
    await p?.cleanup();
  }, patience(60_000));

  it('unpaired boxes run plain VRRP; the code shown on a, typed on b, gives both the same 0600 key and the authenticated heartbeat starts', async () => {
    await startUnpaired(p, undefined);
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
