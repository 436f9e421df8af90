// Probe of the twin's daemon over the LAN (issue 21, "dead twin in a few periods"). When the
// serial link falls silent, the BACKUP asks the twin's twinvip daemon — not its kernel: a box
// whose daemon died still answers ARP and ping — with a small authenticated UDP datagram, a few
// tens of ms apart; an answer proves the daemon alive, silence (with the serial link silent too)
// that it is gone. The arbiter (arbiter.ts) decides when to probe and what the verdict means;
// the shell (src/ha/heartbeat/twin-probe.ts) owns the socket. Pure.
//
// Datagram (UDP, heartbeat.probe.port on both boxes), all integers big-endian:
//   0  4   magic "TVP1"
//   4  1   kind: 1 question, 2 answer
//   5  1   n = nodeId length (1..64), then n bytes UTF-8: the sender's serial node id
//   ..  8  nonce: random per question, echoed by the answer
//   ..  1  k instances (0 in a question, 0..32 in an answer), each: u8 vrid | u8 family (4|6) |
//          u8 state (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT) | u8 effective priority — what the
//          answering box is doing, so a backup that no longer hears its adverts (a filter) and
//          not its serial link still knows its twin holds the VIP
//   .. 16  HMAC-SHA256(serial heartbeat key, every byte before it), first 16 bytes
// An answer is accepted only for a nonce this node asked for, from another node id: a replayed
// or forged answer cannot make a dead twin look alive, and anything else is dropped unread.

import type { FrameMac } from './frame';

const MAGIC = Buffer.from('TVP1', 'ascii');
const MAC_LENGTH = 16;
export const PROBE_NONCE_LENGTH = 8;
const MAX_PROBE_INSTANCES = 32;
const STATES = ['INIT', 'BACKUP', 'MASTER', 'FAULT'] as const;
export const MAX_PROBE_DATAGRAM = 4 + 1 + 1 + 64 + PROBE_NONCE_LENGTH + 1 + 4 * MAX_PROBE_INSTANCES + MAC_LENGTH;
export const DEFAULT_PROBE_PORT = 17077;
export const DEFAULT_PROBE_TRIES = 3;
export const DEFAULT_PROBE_INTERVAL_MS = 20;

export type ProbeKind = 'question' | 'answer';

export interface ProbeInstance {
  vrid: number;
  family: 4 | 6;
  state: (typeof STATES)[number];
  priority: number;
}

export interface ProbeMessage {
  kind: ProbeKind;
  nodeId: string;
  /** 16 hex digits. */
  nonce: string;
  /** The answering box's instances (an answer only). */
  instances?: ProbeInstance[];
}

/** The MAC (HMAC-SHA256 over the heartbeat key, computed by the shell) cut to MAC_LENGTH bytes. */
function tag(mac: FrameMac, data: Uint8Array): Buffer {
  const t = mac(data);
  if (t.length < MAC_LENGTH) throw new RangeError(`probe: MAC shorter than ${MAC_LENGTH} bytes`);
  return Buffer.from(t.subarray(0, MAC_LENGTH));
}

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** `m.nonce`: 8 random bytes in hex, drawn by the shell for each question. */
export function encodeProbe(m: ProbeMessage, mac: FrameMac): Buffer {
  const id = Buffer.from(m.nodeId, 'utf8');
  if (id.length < 1 || id.length > 64) throw new RangeError('probe: nodeId must be 1..64 bytes');
  const nonce = Buffer.from(m.nonce, 'hex');
  if (nonce.length !== PROBE_NONCE_LENGTH || !/^[0-9a-f]+$/i.test(m.nonce)) throw new RangeError('probe: nonce must be 16 hex digits');
  const list = m.kind === 'answer' ? (m.instances ?? []).slice(0, MAX_PROBE_INSTANCES) : [];
  const inst = Buffer.from([list.length, ...list.flatMap((i) => [i.vrid & 0xff, i.family, STATES.indexOf(i.state), Math.max(0, Math.min(255, i.priority))])]);
  const body = Buffer.concat([MAGIC, Buffer.from([m.kind === 'question' ? 1 : 2, id.length]), id, nonce, inst]);
  return Buffer.concat([body, tag(mac, body)]);
}

export type ProbeDecode = { ok: true; message: ProbeMessage } | { ok: false; reason: 'malformed' | 'bad-mac' };

/** Never throws: a datagram from anyone on the LAN is bounded and authenticated first. */
export function decodeProbe(d: Uint8Array, mac: FrameMac): ProbeDecode {
  if (d.length < 4 + 2 + 1 + PROBE_NONCE_LENGTH + 1 + MAC_LENGTH || d.length > MAX_PROBE_DATAGRAM) return { ok: false, reason: 'malformed' };
  const b = Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  if (!b.subarray(0, 4).equals(MAGIC)) return { ok: false, reason: 'malformed' };
  const kind = b[4];
  const n = b[5]!;
  const at = 6 + n + PROBE_NONCE_LENGTH;
  if ((kind !== 1 && kind !== 2) || n < 1 || n > 64 || b.length < at + 1 + MAC_LENGTH) return { ok: false, reason: 'malformed' };
  const k = b[at]!;
  if (k > MAX_PROBE_INSTANCES || (kind === 1 && k !== 0) || b.length !== at + 1 + 4 * k + MAC_LENGTH) return { ok: false, reason: 'malformed' };
  const signedLen = b.length - MAC_LENGTH;
  if (!constantTimeEqual(tag(mac, b.subarray(0, signedLen)), b.subarray(signedLen))) return { ok: false, reason: 'bad-mac' };
  const idBytes = b.subarray(6, 6 + n);
  const nodeId = idBytes.toString('utf8');
  if (!Buffer.from(nodeId, 'utf8').equals(idBytes)) return { ok: false, reason: 'malformed' };
  const instances: ProbeInstance[] = [];
  for (let i = 0; i < k; i++) {
    const o = at + 1 + 4 * i;
    const family = b[o + 1];
    const state = STATES[b[o + 2]!];
    if ((family !== 4 && family !== 6) || state === undefined || b[o]! < 1) return { ok: false, reason: 'malformed' };
    instances.push({ vrid: b[o]!, family, state, priority: b[o + 3]! });
  }
  const nonce = b.subarray(6 + n, at).toString('hex');
  return { ok: true, message: kind === 1 ? { kind: 'question', nodeId, nonce } : { kind: 'answer', nodeId, nonce, instances } };
}

/** What a probe round found, for the arbiter and the log. */
export interface ProbeVerdict {
  /** The twin's daemon answered (at least one authenticated answer to our nonces). */
  daemon: boolean;
  /** What the answer said the twin's instances are doing (empty without an answer). */
  instances: ProbeInstance[];
  /** The twin's kernel answered ARP for its address: true, false, or null when not asked/known. */
  arp: boolean | null;
  /** The twin's kernel refused a question (ICMP port unreachable): the box is up, no daemon listens. */
  refused?: boolean;
  /** Questions sent and how long the round waited, ms. */
  sent: number;
  windowMs: number;
}

/** One line: which signal decided, for the log and the transition's detail. */
export function describeVerdict(v: ProbeVerdict, address: string): string {
  const arp = v.arp === null ? 'ARP not checked' : v.arp ? 'ARP answered: the box is up' : 'no ARP answer: the box is down or cut off';
  if (v.daemon) return `the twin's daemon answered a probe at ${address} (${arp})`;
  if (v.refused) return `the twin's kernel at ${address} refused the probe within ${Math.round(v.windowMs)} ms (ICMP port unreachable): the box is up and nothing listens, its daemon is gone`;
  return `no answer from the twin's daemon at ${address} to ${v.sent} probe(s) in ${Math.round(v.windowMs)} ms; ${arp}${v.arp ? ', its daemon is gone' : ''}`;
}
