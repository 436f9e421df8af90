// Replay protection of the serial heartbeat, bound to the receiver. I/O-free: the shell passes
// our boot id in (its boot number kept on disk, its random part drawn by the shell) and the time.
//
// A valid MAC proves a frame was made by a holder of the key, not when. State kept only by the
// receiver (the last seq per peer boot) is lost when the receiver restarts, and a boot id the
// receiver has never seen cannot be told from a reboot: a recorded frame then passes and can even
// retire the live peer. So freshness is proved to the receiver by the sender, with the receiver's
// own values: every frame echoes the receiver's current boot id and the highest seq the sender
// has heard from it (frame.ts). The receiver accepts a frame only when
//   1. it does not carry our own node id or boot id (our transmission looped back, or a box
//      configured with our node id);
//   2. it echoes our *current* boot id: anything recorded before we started answers another life
//      of ours ('replayed' while we hear our peer, 'unsynced' while we do not: at (re)start the
//      peer's first frames echo our previous boot; a frame that echoes nothing is 'unsynced');
//   3. the seq it echoes is one we sent at most `windowMs` ago: a frame recorded in our current
//      life and played later is 'stale' (the sender made it after hearing that seq, so it is at
//      most that old);
//   4. of the peer boot we hear, its seq is above the last accepted ('replayed');
//   5. a boot other than the one we hear (the peer restarted, or another node id) is taken only
//      when the seq it echoes is above every seq the live boot ever echoed: the frame was made
//      after the live boot's last one, so a delayed frame of a dead life never retires the live
//      one ('replayed').
// Nothing of this needs to survive our restart: a new boot id makes every earlier frame fail
// rule 2. What survives on disk is the boot number (the shell's), which lets the peer tell the
// newer of our lives when it must choose whom to echo.
//
// Which of the peer's boots we echo: the one we accepted while we hear it. Otherwise (we just
// started, or the peer fell silent) the authenticated boot with the highest boot number heard
// within the window: the live peer, whose number is above every recorded life of it. A peer
// that restarts needs no echo from us to be accepted: its new life echoes *our* boot (rule 5),
// after which we echo it.

import { bootNumberOf, makeBootId, type Echo, type FrameHeader } from './frame';

/** Sent seqs whose time we remember; an echo older than these is 'stale'. */
const SENT_REMEMBERED = 1024;
const MAX_SEQ = 0xffffffff;

export type ReplayVerdict = 'fresh' | 'new-boot' | 'own-frame' | 'unsynced' | 'replayed' | 'stale';

export interface ReplayGuardOptions {
  /** Our node id: a frame carrying it is refused. */
  nodeId: string;
  /** Our boot id (makeBootId: boot number from disk, random part). */
  bootId: string;
  /** How old the seq a frame echoes may be: round trip plus a period, with room for a busy box. */
  windowMs: number;
}

interface Heard {
  nodeId: string;
  bootId: string;
  seq: number;
  at: number;
}

interface Accepted extends Heard {
  /** The highest of our seqs this boot of the peer echoed: rule 5. */
  maxEcho: number;
}

export class ReplayGuard {
  private ownBootId: string;
  private seq = 0;
  /** seq -> when we sent it; insertion order is seq order. */
  private readonly sentAt = new Map<number, number>();
  /** The peer boot we accepted last. */
  private peer: Accepted | null = null;
  /** The best authenticated peer boot heard lately, accepted or not (whom to echo at sync). */
  private candidate: Heard | null = null;

  constructor(private readonly opts: ReplayGuardOptions) {
    this.ownBootId = opts.bootId;
  }

  get bootId(): string {
    return this.ownBootId;
  }

  /** The peer boot we hear (accepted), if any. */
  get livePeer(): { nodeId: string; bootId: string; seq: number } | undefined {
    const p = this.peer;
    return p ? { nodeId: p.nodeId, bootId: p.bootId, seq: p.seq } : undefined;
  }

  /** The header of our next frame: boot id, seq (recorded with its send time) and the echo. */
  next(now: number): { bootId: string; seq: number; echo?: Echo } {
    if (this.seq >= MAX_SEQ) {
      // 32 bits of seq last 13 years at 10 Hz. Rather than wrap into values the peer refuses,
      // take the next boot number (same random part): the peer sees a newer life of ours.
      const next = (bootNumberOf(this.ownBootId) + 1) >>> 0;
      this.ownBootId = makeBootId(next, Buffer.from(this.ownBootId.slice(8), 'hex'));
      this.seq = 0;
      this.sentAt.clear();
    }
    const seq = ++this.seq;
    this.sentAt.set(seq, now);
    if (this.sentAt.size > SENT_REMEMBERED) this.sentAt.delete(this.sentAt.keys().next().value!);
    const echo = this.echo(now);
    return echo ? { bootId: this.ownBootId, seq, echo } : { bootId: this.ownBootId, seq };
  }

  /** Checks an authenticated frame's header and, when it is fresh, records it. */
  check(f: FrameHeader, now: number): ReplayVerdict {
    if (f.nodeId === this.opts.nodeId || f.bootId === this.ownBootId) return 'own-frame';
    this.consider(f, now);
    const e = f.echo;
    // No echo: the sender has not heard us (a new life of the peer, a one-way line).
    if (e === undefined) return 'unsynced';
    if (e.bootId !== this.ownBootId) return this.hearsPeer(now) ? 'replayed' : 'unsynced';
    const p = this.peer;
    const samePeer = p !== null && p.nodeId === f.nodeId && p.bootId === f.bootId;
    if (samePeer && f.seq <= p.seq) return 'replayed';
    const sent = this.sentAt.get(e.seq);
    if (sent === undefined || now - sent > this.opts.windowMs) return 'stale';
    if (samePeer) {
      p.seq = f.seq;
      p.at = now;
      p.maxEcho = Math.max(p.maxEcho, e.seq);
      return 'fresh';
    }
    if (p !== null && e.seq <= p.maxEcho) return 'replayed';
    this.peer = { nodeId: f.nodeId, bootId: f.bootId, seq: f.seq, at: now, maxEcho: e.seq };
    return 'new-boot';
  }

  private hearsPeer(now: number): boolean {
    return this.peer !== null && now - this.peer.at <= this.opts.windowMs;
  }

  /** Keeps the best authenticated peer boot heard within the window: highest boot number. */
  private consider(f: FrameHeader, now: number): void {
    const c = this.candidate;
    if (c !== null && c.nodeId === f.nodeId && c.bootId === f.bootId) {
      c.seq = Math.max(c.seq, f.seq);
      c.at = now;
      return;
    }
    if (c === null || now - c.at > this.opts.windowMs || bootNumberOf(f.bootId) > bootNumberOf(c.bootId)) {
      this.candidate = { nodeId: f.nodeId, bootId: f.bootId, seq: f.seq, at: now };
    }
  }

  private echo(now: number): Echo | undefined {
    const p = this.peer;
    const c = this.candidate;
    const pLive = p !== null && now - p.at <= this.opts.windowMs;
    const cLive = c !== null && now - c.at <= this.opts.windowMs;
    if (p !== null && (pLive || !cLive)) {
      const more = c !== null && c.nodeId === p.nodeId && c.bootId === p.bootId ? c.seq : 0;
      return { bootId: p.bootId, seq: Math.max(p.seq, more) };
    }
    return c !== null ? { bootId: c.bootId, seq: c.seq } : undefined;
  }
}
