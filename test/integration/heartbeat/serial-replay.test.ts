// Issue #19: a recorder on the serial cable. Two SerialLinks talk through two socat pty pairs
// joined by a relay in this process that records every frame in both directions, can withhold
// frames (the receiver never sees them), and later plays its tape back into either end: in
// order, reversed, shuffled, each frame twice, releases first; before and after a restart of
// either box (a new SerialLink on the same boot-number file, as a restarted daemon).
//
// What must hold: no recorded frame is ever accepted (every frame a box accepts passed the relay
// as live traffic, and no frame is accepted twice), a recorded release or request never acts,
// the genuine peer keeps being heard through every replay, and a reboot is reported only when
// the peer really restarted.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createHmac } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { autoDetect } from '@serialport/bindings-cpp';
import { SerialPortStream } from '@serialport/stream';
import { decodePeerFrame, type HeartbeatBody } from '../../../src/heartbeat/frame';
import { FrameDecoder } from '../../../src/heartbeat/framing';
import { SerialLink } from '../../../src/ha/heartbeat/serial-link';
import { patience } from '../../helpers/patience';
import { SocatPair, waitFor } from './socat-pair';

const KEY = Buffer.from('replay-test-key-0123456789abcdef');
const mac = (b: Uint8Array) => createHmac('sha256', KEY).update(b).digest();
const PERIOD_MS = 100;
const DEAD_PERIODS = 10;

interface Frame {
  wire: Buffer;
  kind: string;
  key: string;
  bootId: string;
}

/** One direction of the cable: forwards whole frames (so injections land between frames), records them. */
class Direction {
  readonly tape: Frame[] = [];
  /** bootId:seq of every frame forwarded as live traffic. */
  readonly passed = new Set<string>();
  withhold = false;
  private seg: number[] = [];

  constructor(private readonly out: SerialPortStream) {}

  push(chunk: Buffer): void {
    for (const byte of chunk) {
      if (byte !== 0) {
        this.seg.push(byte);
        continue;
      }
      if (this.seg.length === 0) continue;
      const wire = Buffer.from([0, ...this.seg, 0]);
      this.seg = [];
      const [d] = new FrameDecoder().push(wire);
      const m = d?.ok ? decodePeerFrame(d.body, mac) : null;
      if (!m?.ok) continue;
      const f: Frame = { wire, kind: m.frame.kind, key: `${m.frame.bootId}:${m.frame.seq}`, bootId: m.frame.bootId };
      this.tape.push(f);
      if (this.withhold) continue;
      this.passed.add(f.key);
      this.out.write(wire);
    }
  }

  inject(frames: Frame[]): void {
    for (const f of frames) this.out.write(f.wire);
  }
}

const body = (state: 'MASTER' | 'BACKUP'): HeartbeatBody => ({
  uptimeMs: Math.round(performance.now()), configHash: 'cafe', health: { uplink: true, gateway: true, nginx: true },
  instances: [{ vrid: 51, family: 4, state, effectivePriority: state === 'MASTER' ? 150 : 100, advertIntervalCs: 100, address: state === 'MASTER' ? '10.1.0.1' : '10.1.0.2' }],
});

/** One box: its SerialLink of the moment (a restart replaces it) and everything it accepted. */
class Box {
  link!: SerialLink;
  /** bootId:seq of every frame accepted, over all lives of this box. */
  readonly accepted: string[] = [];
  readonly releases: string[] = [];
  readonly reboots: string[] = [];
  requestsAnswered = 0;
  heartbeats = 0;
  lives = 0;

  constructor(
    readonly nodeId: string,
    private readonly path: string,
    readonly bootFile: string,
  ) {}

  start(): void {
    this.lives++;
    const l = new SerialLink({
      path: this.path, nodeId: this.nodeId, key: KEY, periodMs: PERIOD_MS, deadPeriods: DEAD_PERIODS,
      bootNumberFile: this.bootFile,
      heartbeat: () => body(this.nodeId === 'gw-a' ? 'MASTER' : 'BACKUP'),
      onRequest: () => {
        this.requestsAnswered++;
        return '{"ok":true}';
      },
    });
    l.on('heartbeat', (f) => {
      this.heartbeats++;
      this.accepted.push(`${f.bootId}:${f.seq}`);
    });
    l.on('release', (f) => {
      this.releases.push(`${f.bootId}:${f.seq}`);
      this.accepted.push(`${f.bootId}:${f.seq}`);
    });
    l.on('peer-rebooted', (f) => this.reboots.push(f.bootId));
    l.start();
    this.link = l;
  }

  async restart(): Promise<void> {
    await this.link.stop();
    this.start();
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** The orders a recorder plays its tape in. */
function orders(frames: Frame[]): [string, Frame[]][] {
  let x = 99;
  const rnd = () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const shuffled = [...frames].map((f) => [rnd(), f] as const).sort((p, q) => p[0] - q[0]).map(([, f]) => f);
  const rev = [...frames].reverse();
  return [
    ['in order', frames],
    ['reversed', rev],
    ['shuffled', shuffled],
    ['each twice', frames.flatMap((f) => [f, f])],
    ['releases and requests first, newest first', [...rev.filter((f) => f.kind !== 'heartbeat'), ...rev.filter((f) => f.kind === 'heartbeat')]],
  ];
}

describe('serial heartbeat against a recorder on the cable (socat ptys)', () => {
  it('recorded frames played back in every order, across restarts of either box: none accepted, the peer stays heard, no release acts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tv-replay-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const p1 = new SocatPair();
    const p2 = new SocatPair();
    cleanups.push(() => p1.cleanup(), () => p2.cleanup());
    await p1.start();
    await p2.start();
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
    const aToB = new Direction(r2);
    const bToA = new Direction(r1);
    r1.on('data', (c: Buffer) => { if (relaying) aToB.push(c); });
    r2.on('data', (c: Buffer) => { if (relaying) bToA.push(c); });

    const a = new Box('gw-a', p1.a, join(dir, 'a-serial-boot'));
    const b = new Box('gw-b', p2.b, join(dir, 'b-serial-boot'));
    cleanups.push(() => a.link.stop(), () => b.link.stop());
    a.start();
    b.start();
    const heardBoth = async (n: number, what: string) => {
      const ha = a.heartbeats;
      const hb = b.heartbeats;
      await waitFor(() => a.heartbeats >= ha + n && b.heartbeats >= hb + n, 20_000, what);
    };
    await heardBoth(10, 'the pair talking');

    // Recording: live traffic, a release, requests both ways.
    expect(a.link.sendRelease(51, 4)).toBe(true);
    await waitFor(() => b.releases.length === 1, 10_000, 'the live release at b');
    expect((await b.link.request('status', patience(5000))).ok).toBe(true);
    expect((await a.link.request('status', patience(5000))).ok).toBe(true);
    await heardBoth(5, 'more traffic');
    const requestsAtB = b.requestsAnswered;
    let requestsAtA = a.requestsAnswered;
    expect(requestsAtA + requestsAtB).toBe(2);
    const releasesAtB = b.releases.length;
    let rebootsAtB = b.reboots.length;
    let replayed = 0;
    let unseenBoot = '';

    /** Plays the whole tape (a's frames into b, b's into a, each box's own frames back into it). */
    const playTape = async (when: string) => {
      const fromA = [...aToB.tape];
      const fromB = [...bToA.tape];
      // b's own frames, reflected back into it (its node id).
      const own = fromB.slice(-20);
      for (const [name, order] of orders(fromA)) {
        const rejectedBefore = sumRejected(b.link);
        aToB.inject([...order, ...own]);
        replayed += order.length + own.length;
        const n = order.length + own.length;
        await waitFor(() => sumRejected(b.link) >= rejectedBefore + n, 20_000, `${when}, ${name}: b rejects all ${n} recorded frames`);
        await heardBoth(3, `${when}, ${name}: the twins still hear each other`);
      }
      for (const [name, order] of orders(fromB)) {
        const rejectedBefore = sumRejected(a.link);
        bToA.inject(order);
        replayed += order.length;
        await waitFor(() => sumRejected(a.link) >= rejectedBefore + order.length, 20_000, `${when}, ${name}: a rejects all ${order.length} recorded frames`);
        await heardBoth(3, `${when}, ${name}: the twins still hear each other`);
      }
      // Every frame each box accepted passed the relay as live traffic, once.
      for (const [box, dirn] of [[b, aToB], [a, bToA]] as const) {
        expect(new Set(box.accepted).size, `${box.nodeId} accepted a frame twice (${when})`).toBe(box.accepted.length);
        const foreign = box.accepted.filter((k) => !dirn.passed.has(k));
        expect(foreign, `${box.nodeId} accepted recorded frames (${when})`).toEqual([]);
      }
      expect(b.releases.length, `a recorded release acted (${when})`).toBe(releasesAtB);
      expect(b.requestsAnswered, `a recorded request was answered by b (${when})`).toBe(requestsAtB);
      expect(a.requestsAnswered, `a recorded request was answered by a (${when})`).toBe(requestsAtA);
      expect(b.reboots.length, `b saw a reboot that did not happen (${when})`).toBe(rebootsAtB);
    };

    await playTape('both running');
    // Push b's seq far ahead (every request is a frame of b), so the life of a recorded next
    // echoes seqs that b's next life will not have reached when the tape is played to it.
    const tapeLength = { ab: aToB.tape.length, ba: bToA.tape.length };
    await Promise.all(Array.from({ length: 500 }, () => b.link.request('status', 1000)));
    aToB.tape.splice(tapeLength.ab + 10);
    bToA.tape.splice(tapeLength.ba + 10);
    requestsAtA = a.requestsAnswered;

    // A life of a that b never hears (the recorder withholds it): the reported attack's material.
    aToB.withhold = true;
    await a.restart();
    unseenBoot = a.link.bootId;
    await waitFor(() => aToB.tape.filter((f) => f.bootId === unseenBoot).length >= 10, 20_000, 'a life of a recorded, withheld');
    a.link.sendRelease(51, 4);
    await waitFor(() => aToB.tape.some((f) => f.bootId === unseenBoot && f.kind === 'release'), 10_000, 'its release recorded');
    await a.restart();
    aToB.withhold = false;
    await heardBoth(5, 'a\'s next life heard');
    expect(b.accepted.some((k) => k.startsWith(unseenBoot))).toBe(false);
    expect(readFileSync(a.bootFile, 'utf8').trim()).toBe('3');
    expect(b.reboots.length).toBe(++rebootsAtB);

    await playTape('after a life of a that b never heard');
    // b restarts late in its life: the recorded frames echo seqs of b's old life far above what
    // its new life has sent, so only the echoed boot id tells them apart.
    await b.restart();
    await heardBoth(3, 'b restarted and synced');
    await playTape('after b restarted');
    await a.restart();
    await heardBoth(3, 'a restarted and synced');
    // The one genuine reboot of a since the mark.
    expect(b.reboots.length).toBe(rebootsAtB + 1);
    expect(b.reboots.at(-1)).toBe(a.link.bootId);
    rebootsAtB = b.reboots.length;
    await playTape('after a restarted');
    expect(b.reboots).not.toContain(unseenBoot);
    expect(replayed).toBeGreaterThan(300);
    expect(b.link.counters.rejected.replayed + b.link.counters.rejected.stale + b.link.counters.rejected.unsynced).toBeGreaterThan(0);
    expect(relayErrors).toEqual([]);
  });
});

function sumRejected(l: SerialLink): number {
  return Object.values(l.counters.rejected).reduce((n, v) => n + v, 0);
}
