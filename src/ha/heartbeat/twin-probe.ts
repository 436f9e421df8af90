// The shell of the twin probe (src/heartbeat/probe.ts): one UDP socket per address family on
// heartbeat.probe.port that answers the twin's questions at once, and asks the twin when the
// arbiter wants a verdict. A round sends `tries` questions `intervalMs` apart and ends at the first
// authenticated answer (the daemon lives) or when the window is over (it does not). Each question
// also goes out once more from a socket of the round connected to the twin's probe port: when no
// socket is bound there — the twin's daemon is gone, its box up — the twin's kernel answers with
// ICMP port unreachable (ECONNREFUSED on that socket) and the round ends one probe interval
// later instead of after the whole window (the daemon crash case; a stalled daemon keeps its
// socket bound, so it is never mistaken for a dead one this way). That interval is the living
// daemon's chance to overrule the refusal: any host on the LAN can forge an ICMP port unreachable
// (nothing authenticates it, and the kernel matches it to the socket by the quoted addresses and
// ports alone), but nobody can forge the daemon's authenticated answer, which arrives a round trip
// after the question. A refusal followed by an answer is counted and logged (a forged ICMP, or a
// daemon restarting at that moment) and the twin lives. The connected socket is only
// that second channel: answers are taken from either socket, so a twin answering from another of
// its addresses is still heard on the bound one. Beside it, an ARP request for the twin's address
// (`arping`, when installed) says whether the box itself is up: it never decides, it tells the
// log which of "box down" and "daemon gone" it was.
import { createSocket, type Socket } from 'node:dgram';
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { randomBytes } from 'node:crypto';
import { decodeProbe, encodeProbe, PROBE_NONCE_LENGTH, type ProbeInstance, type ProbeVerdict } from '../../heartbeat/probe';
import type { FrameMac } from '../../heartbeat/frame';
import { hmacSha256 } from './frame-crypto';
import { buildUdpFrame } from '../../net/udp-frame';
import { loadAddon, type NativeHandle } from '../../net/native';

/**
 * Where the twin is on the LAN at the link layer (its MAC, known over serial): questions then go
 * out a third time as whole Ethernet frames to that MAC through an AF_PACKET socket, so they
 * leave even when the kernel's neighbour entry for the twin has failed (a one-way fault: the
 * box whose direction works never gets the twin's ARP reply). No neighbour entry is written.
 */
export interface ProbeLinkLayer {
  ifname: string;
  /** Our MAC on ifname and our address there (the answer comes back to it, on the bound socket). */
  srcMac: string;
  srcIp: string;
  dstMac: string;
}

/** Sends one Ethernet frame on an interface (the addon's packet socket; a fake in unit tests). */
export type FrameSender = (ifname: string, frame: Uint8Array) => void;

export interface TwinProbeOptions {
  port: number;
  key: Uint8Array;
  nodeId: string;
  tries: number;
  intervalMs: number;
  log: (line: string) => void;
  /** What this box's instances are doing, for the answers. */
  instances: () => ProbeInstance[];
  /** Monotonic ms; performance.now() by default. */
  clock?: () => number;
  /** How MAC-addressed questions are sent; the addon's AF_PACKET socket by default. */
  sendFrame?: FrameSender;
}

export interface TwinProbeCounters {
  questions_sent: number;
  questions_answered: number;
  answers_received: number;
  /** Datagrams on the port that were not an authenticated probe (counted, never logged one by one). */
  rejected: number;
  /** Questions not answered because more than ANSWER_RATE arrived in a second. */
  rate_limited: number;
  rounds: number;
  rounds_unanswered: number;
  /** Rounds ended by the twin kernel's ICMP port unreachable (no daemon listening). */
  refused: number;
  /** Rounds with an ICMP port unreachable that the twin's daemon then answered (forged, or a restart). */
  refused_then_answered: number;
  /** Questions also sent as Ethernet frames to the twin's MAC (ProbeLinkLayer), and those that failed. */
  questions_to_mac: number;
  mac_send_errors: number;
}

/** Answers per second at most: a flood on the port costs a bounded amount of work. */
const ANSWER_RATE = 100;
const ARPING_PATHS = ['/usr/bin/arping', '/usr/sbin/arping', '/bin/arping', '/sbin/arping'];

export class TwinProbe {
  readonly counters: TwinProbeCounters = { questions_sent: 0, questions_answered: 0, answers_received: 0, rejected: 0, rate_limited: 0, rounds: 0, rounds_unanswered: 0, refused: 0, refused_then_answered: 0, questions_to_mac: 0, mac_send_errors: 0 };
  private readonly packetSockets = new Map<string, NativeHandle>();
  private readonly sockets = new Map<4 | 6, Socket>();
  private readonly pending = new Map<string, (instances: ProbeInstance[]) => void>();
  private readonly clock: () => number;
  private arping: string | null = null;
  private answeredThisSecond = 0;
  private secondStart = 0;
  private readonly mac: FrameMac;

  constructor(private readonly o: TwinProbeOptions) {
    this.clock = o.clock ?? (() => performance.now());
    this.mac = hmacSha256(o.key);
  }

  /** Binds the port (IPv4, and IPv6 where the box has it). Throws when IPv4 cannot be bound. */
  async start(): Promise<void> {
    for (const p of ARPING_PATHS) {
      if (await access(p, constants.X_OK).then(() => true, () => false)) {
        this.arping = p;
        break;
      }
    }
    for (const family of [4, 6] as const) {
      const sock = createSocket({ type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 });
      sock.on('message', (msg, rinfo) => this.onMessage(sock, msg, rinfo.address, rinfo.port));
      try {
        await new Promise<void>((resolve, reject) => {
          sock.once('error', reject);
          sock.bind(this.o.port, family === 4 ? '0.0.0.0' : '::', () => {
            sock.off('error', reject);
            resolve();
          });
        });
        sock.on('error', (err) => this.o.log(`twin probe socket (IPv${family}): ${err.message}`));
        this.sockets.set(family, sock);
      } catch (err) {
        sock.close();
        if (family === 4) throw new Error(`twin probe: cannot listen on UDP port ${this.o.port}: ${(err as Error).message}`);
      }
    }
  }

  stop(): void {
    for (const s of this.sockets.values()) s.close();
    this.sockets.clear();
    for (const h of this.packetSockets.values()) loadAddon().close(h);
    this.packetSockets.clear();
    for (const done of this.pending.values()) done([]);
    this.pending.clear();
  }

  /**
   * One round against the twin at `address` (its primary address on `ifname`). With `link`, each
   * question is also sent to the twin's MAC as a whole frame (see ProbeLinkLayer).
   */
  async round(address: string, ifname: string | undefined, link?: ProbeLinkLayer): Promise<ProbeVerdict> {
    this.counters.rounds++;
    const family = address.includes(':') ? 6 : 4;
    // An IPv6 link-local twin (a VRRPv3 instance's source) is reached through ifname only.
    const target = scoped(address, ifname);
    const sock = this.sockets.get(family);
    const windowMs = this.o.tries * this.o.intervalMs;
    const t0 = this.clock();
    let arp: Promise<boolean | null> = Promise.resolve(null);
    let sent = 0;
    let refused = false;
    const nonces: string[] = [];
    let instances: ProbeInstance[] = [];
    const daemon = await new Promise<boolean>((resolve) => {
      let settled = false;
      const timers: NodeJS.Timeout[] = [];
      // Connected to the twin's probe port: its errors are the twin kernel's ICMP answers.
      const direct = sock ? createSocket(family === 4 ? 'udp4' : 'udp6') : undefined;
      let directReady = false;
      const finish = (answered: boolean, said: ProbeInstance[] = []) => {
        if (settled) return;
        settled = true;
        instances = said;
        for (const t of timers) clearTimeout(t);
        for (const n of nonces) this.pending.delete(n);
        direct?.close();
        resolve(answered);
      };
      const sendDirect = (datagram: Buffer) => {
        if (!directReady || settled) return;
        try {
          direct!.send(datagram, () => undefined);
        } catch (err) {
          // Not connected after all: the main socket asked anyway; never throw in a timer.
          this.o.log(`twin probe to ${address}: ${(err as Error).message}`);
        }
      };
      const ask = () => {
        if (settled || !sock) return;
        const nonce = randomBytes(PROBE_NONCE_LENGTH).toString('hex');
        nonces.push(nonce);
        this.pending.set(nonce, (said) => finish(true, said));
        const question = encodeProbe({ kind: 'question', nodeId: this.o.nodeId, nonce }, this.mac);
        sock.send(question, this.o.port, target, (err) => {
          if (err) this.o.log(`twin probe to ${address}: ${err.message}`);
        });
        sendDirect(question);
        if (link) this.sendToMac(link, address, question);
        sent++;
        this.counters.questions_sent++;
      };
      if (direct) {
        direct.on('message', (msg) => this.onMessage(direct, msg, target, this.o.port));
        direct.on('error', (err: NodeJS.ErrnoException) => {
          if (err.code !== 'ECONNREFUSED' || settled || refused) return;
          // ICMP port unreachable "from the twin": its kernel is up and nothing listens on the
          // port — unless the ICMP is forged, which the daemon's answer shows within one interval.
          refused = true;
          timers.push(setTimeout(() => finish(false), this.o.intervalMs));
        });
        // A connect that fails (ENETUNREACH with the LAN link down, EACCES) calls back with the
        // error and leaves the socket unconnected, where send(datagram, cb) would throw (the
        // callback read as the port: seen as 'HA thread uncaught error: Port should be > 0' in
        // handover.test.ts under load). Then only the main socket asks.
        direct.connect(this.o.port, target, (err?: Error) => {
          if (err) return;
          directReady = true;
          // The questions already asked, again on this socket (the first one usually: connect
          // completes on the next tick).
          for (const n of nonces) sendDirect(encodeProbe({ kind: 'question', nodeId: this.o.nodeId, nonce: n }, this.mac));
        });
      }
      ask();
      for (let i = 1; i < this.o.tries; i++) timers.push(setTimeout(ask, i * this.o.intervalMs));
      timers.push(setTimeout(() => finish(false), windowMs));
      // arping is a child process (a fork of this one): started after the first question, so
      // the fork is not between the round's start and its first datagram.
      if (family === 4 && ifname && this.arping) arp = this.arpOnce(address, ifname, windowMs);
    });
    if (!daemon) this.counters.rounds_unanswered++;
    if (refused && !daemon) this.counters.refused++;
    if (refused && daemon) {
      this.counters.refused_then_answered++;
      this.o.log(`twin probe to ${address}: an ICMP port unreachable said nothing listens, then the twin's daemon answered: the ICMP was forged by a host on the LAN, or the daemon was restarting; the answer wins`);
    }
    // ARP only qualifies the verdict: never wait for it past the round's window (a box that is
    // up answers within a few ms; no answer by then counts as none). A refusal proves the box up.
    const asked = family === 4 && ifname !== undefined && this.arping !== null;
    const late = new Promise<boolean | null>((r) => setTimeout(() => r(asked ? false : null), Math.max(0, t0 + windowMs - this.clock())));
    const arpResult = daemon || refused ? null : await Promise.race([arp, late]);
    return { daemon, instances, arp: arpResult, refused, sent, windowMs: this.clock() - t0 };
  }

  private sendToMac(link: ProbeLinkLayer, address: string, question: Uint8Array): void {
    try {
      const frame = buildUdpFrame({ srcMac: link.srcMac, dstMac: link.dstMac, srcIp: link.srcIp, dstIp: address, srcPort: this.o.port, dstPort: this.o.port, payload: question });
      (this.o.sendFrame ?? this.packetSend)(link.ifname, frame);
      this.counters.questions_to_mac++;
    } catch (err) {
      // Counted; the kernel's sockets asked anyway. Never throw in a timer.
      if (this.counters.mac_send_errors++ === 0) this.o.log(`twin probe to ${link.dstMac} on ${link.ifname}: ${(err as Error).message}`);
    }
  }

  /** The addon's AF_PACKET socket on ifname (opened once, closed on stop). */
  private readonly packetSend: FrameSender = (ifname, frame) => {
    const addon = loadAddon();
    let h = this.packetSockets.get(ifname);
    if (!h) this.packetSockets.set(ifname, (h = addon.openPacket(ifname)));
    addon.sendFrame(h, frame);
  };

  private arpOnce(address: string, ifname: string, windowMs: number): Promise<boolean | null> {
    return new Promise((resolve) => {
      // iputils arping takes whole seconds; it returns at the first reply anyway.
      const seconds = String(Math.max(1, Math.ceil(windowMs / 1000)));
      execFile(this.arping!, ['-c', '1', '-w', seconds, '-I', ifname, address], { timeout: windowMs + 1000 }, (err, stdout) => {
        if (!err) resolve(true);
        else if (/Received 0 response/i.test(String(stdout)) || (err as { code?: unknown }).code === 1) resolve(false);
        else resolve(null);
      });
    });
  }

  private onMessage(sock: Socket, msg: Buffer, from: string, port: number): void {
    const d = decodeProbe(msg, this.mac);
    if (!d.ok || d.message.nodeId === this.o.nodeId) {
      this.counters.rejected++;
      return;
    }
    const m = d.message;
    if (m.kind === 'answer') {
      const done = this.pending.get(m.nonce);
      if (!done) {
        this.counters.rejected++;
        return;
      }
      this.counters.answers_received++;
      done(m.instances ?? []);
      return;
    }
    const now = this.clock();
    if (now - this.secondStart >= 1000) {
      this.secondStart = now;
      this.answeredThisSecond = 0;
    }
    if (++this.answeredThisSecond > ANSWER_RATE) {
      this.counters.rate_limited++;
      return;
    }
    this.counters.questions_answered++;
    sock.send(encodeProbe({ kind: 'answer', nodeId: this.o.nodeId, nonce: m.nonce, instances: this.o.instances() }, this.mac), port, from);
  }
}

/**
 * The address with its scope where it needs one: an IPv6 link-local address (fe80::/10) means
 * nothing without its interface. Without the scope the kernel refuses connect() (EINVAL: the
 * round's connected socket, and so the twin kernel's port-unreachable, were lost) and routes a
 * datagram by the first fe80::/64 route, on a box with several interfaces maybe the wrong one.
 */
export function scoped(address: string, ifname: string | undefined): string {
  if (!ifname || address.includes('%') || !/^fe[89ab][0-9a-f]:/i.test(address)) return address;
  return `${address}%${ifname}`;
}
