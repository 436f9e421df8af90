// The serial shell on a real pty pair (socat): heartbeats both ways, wrong key, line noise,
// the port vanishing and coming back, and the diagnostic request/response.
import { openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { autoDetect } from '@serialport/bindings-cpp';
import { SerialPortStream } from '@serialport/stream';
import type { HeartbeatBody, HeartbeatFrame } from '../../../src/heartbeat/frame';
import { MAX_QUEUED_RESPONSE_PARTS, SerialLink, type SerialLinkOptions } from '../../../src/ha/heartbeat/serial-link';
import { loopSafeSerialBinding, serialIoCounters } from '../../../src/ha/heartbeat/serial-binding';
import { SocatPair, waitFor } from './socat-pair';

const KEY = Buffer.from('integration-test-key-0123456789');
const body = (node: string, prio: number): HeartbeatBody => ({
  uptimeMs: Math.round(performance.now()), configHash: 'cafe', health: { uplink: true, gateway: true, nginx: true },
  instances: [{ vrid: 51, family: 4, state: prio > 100 ? 'MASTER' : 'BACKUP', effectivePriority: prio, advertIntervalCs: 100, address: node === 'gw-a' ? '10.1.0.1' : '10.1.0.2' }],
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

async function socat(): Promise<SocatPair> {
  const s = new SocatPair();
  cleanups.push(() => s.cleanup());
  await s.start();
  return s;
}

function link(path: string, nodeId: string, over: Partial<SerialLinkOptions> = {}) {
  const logs: string[] = [];
  const frames: HeartbeatFrame[] = [];
  const l = new SerialLink({
    path, nodeId, key: KEY, heartbeat: () => body(nodeId, nodeId === 'gw-a' ? 150 : 100),
    log: (line) => logs.push(line), ...over,
  });
  l.on('heartbeat', (f) => frames.push(f));
  cleanups.push(() => l.stop());
  l.start();
  return { l, logs, frames };
}

describe('serial link over a socat pty pair', () => {
  it('exchanges authenticated heartbeats both ways', async () => {
    const s = await socat();
    const a = link(s.a, 'gw-a');
    const b = link(s.b, 'gw-b');
    await waitFor(() => a.frames.length >= 10 && b.frames.length >= 10, 15_000, '10 heartbeats each way');
    expect(b.frames[0]).toMatchObject({ nodeId: 'gw-a', instances: [{ state: 'MASTER', effectivePriority: 150, address: '10.1.0.1' }] });
    expect(a.frames[0]).toMatchObject({ nodeId: 'gw-b', instances: [{ state: 'BACKUP', effectivePriority: 100, address: '10.1.0.2' }] });
    const seqs = b.frames.map((f) => f.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(a.l.peerAlive()).toBe(true);
    expect(a.l.counters.rejected['bad-hmac'] + b.l.counters.rejected['bad-hmac']).toBe(0);
    expect(a.l.counters.rejected.replayed + b.l.counters.rejected.replayed).toBe(0);
    expect(a.l.counters.rejected.stale + b.l.counters.rejected.stale).toBe(0);
  });

  it('with a wrong key on one side, every frame is rejected and counted, none accepted', async () => {
    const s = await socat();
    const a = link(s.a, 'gw-a');
    const b = link(s.b, 'gw-b', { key: Buffer.from('some-other-key-0123456789abcdef') });
    await waitFor(() => a.l.counters.rejected['bad-hmac'] >= 10 && b.l.counters.rejected['bad-hmac'] >= 10, 15_000, 'bad-hmac counted both sides');
    expect(a.frames).toEqual([]);
    expect(b.frames).toEqual([]);
    expect(a.l.counters.accepted.heartbeat + b.l.counters.accepted.heartbeat).toBe(0);
    expect(a.l.peerAlive()).toBe(false);
    // A diagnostic request to a peer that cannot authenticate us times out as a value.
    expect(await a.l.request('status', 500)).toEqual({ ok: false, error: 'timeout' });
    expect(a.l.counters.requestTimeouts).toBe(1);
  });

  it('two boxes configured with the same node id: every frame refused as own-frame, and the log says why', async () => {
    const s = await socat();
    const a = link(s.a, 'gw-a');
    const b = link(s.b, 'gw-a');
    await waitFor(() => a.l.counters.rejected['own-frame'] >= 10 && b.l.counters.rejected['own-frame'] >= 10, 15_000, 'own-frame counted both sides');
    expect(a.frames).toEqual([]);
    expect(b.frames).toEqual([]);
    expect(a.l.peerAlive()).toBe(false);
    expect(a.logs.join('\n')).toMatch(/rejected frames: own-frame \d+ \(our own node id or boot id: the line loops back, or the twin has our heartbeat\.serial\.node_id\)/);
  });

  it('garbage written into the line is counted, never accepted, and real heartbeats keep arriving', async () => {
    const s = await socat();
    const a = link(s.a, 'gw-a');
    const b = link(s.b, 'gw-b');
    await waitFor(() => b.frames.length >= 3, 15_000, 'first heartbeats');
    // A second writer on A's end of the cable: its bytes reach B interleaved with A's frames.
    const fd = openSync(s.a, 'w');
    cleanups.push(async () => closeSync(fd));
    const before = b.frames.length;
    const junk = () =>
      b.l.counters.rejected.noise + b.l.counters.rejected['bad-crc'] + b.l.counters.rejected.truncated +
      b.l.counters.rejected['too-long'] + b.l.counters.rejected['bad-version'] + b.l.counters.rejected['bad-hmac'] +
      b.l.counters.rejected.malformed + b.l.counters.rejected['unknown-kind'];
    for (let i = 0; i < 40; i++) {
      // Random bytes including 0x00 delimiters, in bursts between and inside A's frames.
      writeSync(fd, randomBytes(1 + (i * 37) % 300));
      if (i === 20) writeSync(fd, Buffer.alloc(3000, 0x41));
      await new Promise((r) => setTimeout(r, 25));
    }
    await waitFor(() => b.frames.length >= before + 10, 15_000, 'heartbeats after noise');
    expect(junk()).toBeGreaterThan(0);
    expect(b.l.counters.rejected['too-long']).toBeGreaterThan(0);
    // Every accepted frame is one A really sent.
    for (const f of b.frames) {
      expect(f).toMatchObject({ nodeId: 'gw-a', bootId: a.l.bootId, configHash: 'cafe', instances: [{ vrid: 51, address: '10.1.0.1' }] });
    }
    expect(b.l.counters.accepted.heartbeat).toBe(b.frames.length);
  });

  it('through a relay that flips bits and inserts bytes, no corrupted frame is accepted and heartbeats still count', async () => {
    // A -- pty pair 1 -- relay (mangles) -- pty pair 2 -- B
    const p1 = await socat();
    const p2 = await socat();
    const binding = autoDetect();
    const r1 = new SerialPortStream({ binding, path: p1.b, baudRate: 115200 });
    const r2 = new SerialPortStream({ binding, path: p2.a, baudRate: 115200 });
    // The relay's own port errors: none while it relays. At the end, relaying stops before the
    // ports close, and a write the binding still had queued may fail with EBADF then: not ours.
    let relaying = true;
    const relayErrors: Error[] = [];
    for (const r of [r1, r2]) r.on('error', (e: Error) => { if (relaying) relayErrors.push(e); });
    cleanups.push(async () => {
      relaying = false;
      for (const r of [r1, r2]) if (r.isOpen) await new Promise<void>((res) => r.close(() => res()));
    });
    let flipped = 0;
    let inserted = 0;
    // Deterministic noise: about one bit in 2500 flipped and one byte in 3000 inserted.
    let x = 12345;
    const rand = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const mangle = (chunk: Buffer): Buffer => {
      const out: number[] = [];
      for (const byte of chunk) {
        let b = byte;
        if (rand() < 8 / 2500) { b ^= 1 << Math.floor(rand() * 8); flipped++; }
        out.push(b);
        if (rand() < 1 / 3000) { out.push(Math.floor(rand() * 256)); inserted++; }
      }
      return Buffer.from(out);
    };
    r1.on('data', (c: Buffer) => { if (relaying) r2.write(mangle(c)); });
    r2.on('data', (c: Buffer) => { if (relaying) r1.write(mangle(c)); });
    const a = link(p1.a, 'gw-a');
    const b = link(p2.b, 'gw-b');
    await waitFor(() => b.frames.length >= 60 && a.frames.length >= 60, 30_000, '60 heartbeats each way through the noisy relay');
    expect(flipped + inserted).toBeGreaterThan(10);
    const damaged = (l: SerialLink) => l.counters.rejected['bad-crc'] + l.counters.rejected.truncated + l.counters.rejected.noise;
    expect(damaged(a.l) + damaged(b.l)).toBeGreaterThan(0);
    // Nothing forged its way past CRC and MAC: every accepted frame is exactly what the peer sent.
    for (const f of b.frames) expect(f).toMatchObject({ nodeId: 'gw-a', bootId: a.l.bootId, configHash: 'cafe', instances: [{ vrid: 51, effectivePriority: 150, address: '10.1.0.1' }] });
    for (const f of a.frames) expect(f).toMatchObject({ nodeId: 'gw-b', bootId: b.l.bootId, configHash: 'cafe', instances: [{ vrid: 51, effectivePriority: 100, address: '10.1.0.2' }] });
    expect(a.l.counters.rejected['bad-hmac'] + b.l.counters.rejected['bad-hmac']).toBe(0);
    expect(relayErrors).toEqual([]);
  });

  it('reports the port lost when the cable vanishes and reopens with back-off when it comes back', async () => {
    const s = await socat();
    const a = link(s.a, 'gw-a', { reopen: { initialMs: 100, maxMs: 800 } });
    const b = link(s.b, 'gw-b', { reopen: { initialMs: 100, maxMs: 800 } });
    await waitFor(() => a.frames.length >= 3 && b.frames.length >= 3, 15_000, 'heartbeats before the cut');
    const lost: string[] = [];
    a.l.on('port-lost', (why) => lost.push(why));
    const silent: number[] = [];
    a.l.on('peer-silent', (ms) => silent.push(ms));
    await s.kill();
    await waitFor(() => lost.length === 1, 10_000, 'port-lost on A');
    await waitFor(() => a.l.counters.openFailures >= 4, 15_000, 'several reopen attempts');
    const delays = a.logs.map((l) => /reopening in (\d+) ms/.exec(l)?.[1]).filter((d) => d !== undefined).map(Number);
    // 100 for the loss, then doubling on each failed open, capped at 800.
    expect(delays.slice(0, 5)).toEqual([100, 200, 400, 800, 800].slice(0, Math.min(5, delays.length)));
    expect(silent.length).toBe(1);
    expect(a.l.isOpen).toBe(false);
    const framesAtCut = a.frames.length;
    await s.start();
    await waitFor(() => a.frames.length > framesAtCut + 3 && a.l.isOpen && b.l.isOpen, 20_000, 'heartbeats after the cable is back');
    expect(a.l.counters.opens).toBe(2);
    expect(a.l.counters.portLosses).toBe(1);
    expect(a.logs.some((l) => l.includes('port lost'))).toBe(true);
  });

  it('heartbeats that waited in the cable while nobody read are not taken as current', async () => {
    const s = await socat();
    const a = link(s.a, 'gw-a');
    await waitFor(() => a.l.counters.sent.heartbeat >= 20, 15_000, 'A transmitting into an unread line');
    const delays: number[] = [];
    const b = link(s.b, 'gw-b');
    // Sender and receiver share this process's clock, so uptimeMs is the send time.
    b.l.on('heartbeat', (f, at) => delays.push(at - f.uptimeMs));
    await waitFor(() => delays.length >= 10, 15_000, 'current heartbeats at B');
    // Every accepted heartbeat is younger than the serial dead time (5 x 100 ms).
    expect(Math.max(...delays)).toBeLessThan(500);
  });

  it('answers a diagnostic request with a multi-frame body, exactly', async () => {
    const s = await socat();
    const status = JSON.stringify({ node: 'gw-a', instances: Array.from({ length: 40 }, (_, i) => ({ vrid: i + 1, note: 'état nominal ✓' })) });
    expect(Buffer.byteLength(status)).toBeGreaterThan(1500);
    const a = link(s.a, 'gw-a', { onRequest: async (what) => (what === 'status' ? status : JSON.stringify({ error: 'unknown', what })) });
    const b = link(s.b, 'gw-b');
    await waitFor(() => b.frames.length >= 1 && a.frames.length >= 1, 15_000, 'link up');
    expect(await b.l.request('status', 10_000)).toEqual({ ok: true, body: status });
    expect(b.l.counters.accepted.response).toBeGreaterThanOrEqual(4);
    expect(b.l.counters.rejected.replayed).toBe(0);
    expect(await b.l.request('bogus', 10_000)).toEqual({ ok: true, body: '{"error":"unknown","what":"bogus"}' });
    // B has no handler: A gets an explicit error body rather than silence.
    expect(await a.l.request('status', 10_000)).toEqual({ ok: true, body: '{"error":"no-handler","what":"status"}' });
  });

  it('a peer that floods requests cannot grow the response queue: answers beyond the bound are dropped and counted, heartbeats go on', async () => {
    const s = await socat();
    const big = JSON.stringify({ pad: 'x'.repeat(15_000) }); // 30 parts of 512 bytes
    let answered = 0;
    const a = link(s.a, 'gw-a', {
      onRequest: () => {
        answered++;
        return big;
      },
    });
    const b = link(s.b, 'gw-b');
    await waitFor(() => b.frames.length >= 1 && a.frames.length >= 1, 15_000, 'link up');
    let maxQueued = 0;
    const sampler = setInterval(() => (maxQueued = Math.max(maxQueued, a.l.queuedResponseParts)), 5);
    cleanups.push(async () => clearInterval(sampler));
    const heardBefore = b.frames.length;
    const accepted0 = a.l.counters.accepted.request;
    // 200 requests at once: unbounded, A would queue 6000 parts (3 MB) behind its heartbeats.
    const flood = Array.from({ length: 200 }, () => b.l.request('status', 2_000));
    // Every request B gave up on or got answered (each within its 2 s)...
    await Promise.all(flood);
    // ...and every one that reached A as a request was answered or dropped there. Count those A
    // accepted, not the 200 sent: a frame A rejected is neither (a wait for all 200 timed out once
    // under load, 2026-12-03, with no counters to tell why; a failure now prints both sides').
    const reached = () => a.l.counters.accepted.request - accepted0;
    await waitFor(() => answered + a.l.counters.responsesDropped >= reached(), 15_000, 'every request A accepted answered or dropped at A').catch((err: Error) => {
      const c = (l: typeof a.l) => ({ accepted: l.counters.accepted, rejected: l.counters.rejected, sent: l.counters.sent, timeouts: l.counters.requestTimeouts });
      throw new Error(`${err.message}; answered ${answered}, dropped ${a.l.counters.responsesDropped}; A ${JSON.stringify(c(a.l))}; B ${JSON.stringify(c(b.l))}`);
    });
    clearInterval(sampler);
    expect(a.l.counters.responsesDropped).toBeGreaterThan(0);
    expect(maxQueued).toBeLessThanOrEqual(MAX_QUEUED_RESPONSE_PARTS);
    // Heartbeats kept flowing during the flood, and the link answers again once it has drained.
    expect(b.frames.length).toBeGreaterThan(heardBefore);
    await waitFor(() => a.l.queuedResponseParts === 0, 15_000, 'A\'s response queue to drain');
    expect(await b.l.request('status', 10_000)).toEqual({ ok: true, body: big });
  });

  it('a burst of frames far beyond the cable\'s buffers arrives intact and in order: written at once while there is room, the rest through the binding when the port would block', async () => {
    const s = await socat();
    const binding = await loopSafeSerialBinding();
    const open = (path: string) => new Promise<SerialPortStream>((resolve, reject) => {
      const p = new SerialPortStream({ binding, path, baudRate: 115200, autoOpen: false });
      p.open((err) => (err ? reject(err) : resolve(p)));
    });
    const tx = await open(s.a);
    cleanups.push(() => new Promise((r) => (tx.isOpen ? tx.close(() => r()) : r())));
    // B is open before anything is sent (opening a port flushes its input queue), but nothing
    // reads it until the writer has met a full cable.
    const rx = await open(s.b);
    cleanups.push(() => new Promise((r) => (rx.isOpen ? rx.close(() => r()) : r())));
    const before = { ...serialIoCounters };
    // 2,000 frames of 256 bytes (512 KB): far more than the two ptys and socat hold while
    // nobody reads at B, so writes must meet EAGAIN and partial writes and still lose nothing.
    const frames = Array.from({ length: 2000 }, (_, i) => {
      const f = randomBytes(256);
      f.writeUInt32BE(i, 0);
      return f;
    });
    const written = Promise.all(frames.map((f) => new Promise<void>((resolve, reject) => tx.write(f, (err) => (err ? reject(err) : resolve())))));
    // Let the writer fill every buffer on the way before B starts reading.
    await waitFor(() => serialIoCounters.fallbackWrites > before.fallbackWrites, 15_000, 'a write that would block (the cable full)');
    const got: Buffer[] = [];
    let bytes = 0;
    rx.on('data', (c: Buffer) => {
      got.push(c);
      bytes += c.length;
    });
    await written;
    await waitFor(() => bytes >= 2000 * 256, 30_000, `all 512000 bytes at B (${bytes} so far)`);
    const all = Buffer.concat(got);
    expect(all.length).toBe(2000 * 256);
    expect(all.equals(Buffer.concat(frames))).toBe(true);
    // The stream hands its queue over as one buffer (_writev): one write(2) took what fitted,
    // the binding finished the rest once the port was writable again.
    expect(serialIoCounters.directWrites - before.directWrites).toBeGreaterThan(0);
    expect(serialIoCounters.fallbackWrites - before.fallbackWrites).toBeGreaterThan(0);
    expect(serialIoCounters.directReads - before.directReads).toBeGreaterThan(0);

    // At the heartbeat's pace (one frame, then the next when it is written) with B reading,
    // every frame is one write(2) on this thread: no thread-pool job, no fallback.
    const mid = { ...serialIoCounters };
    const paced = frames.slice(0, 50);
    for (const f of paced) await new Promise<void>((resolve, reject) => tx.write(f, (err) => (err ? reject(err) : resolve())));
    await waitFor(() => bytes >= 2050 * 256, 30_000, 'the 50 paced frames at B');
    expect(Buffer.concat(got).subarray(2000 * 256).equals(Buffer.concat(paced))).toBe(true);
    expect(serialIoCounters.directWrites - mid.directWrites).toBe(50);
    expect(serialIoCounters.fallbackWrites - mid.fallbackWrites).toBe(0);
  });
});
