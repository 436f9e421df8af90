// The serial heartbeat's messages: a compact binary encoding with a version byte, authenticated
// with HMAC-SHA256 over a shared key and bound to the receiver against replay (replay.ts). Pure:
// the MAC function and the boot id come from the shell (src/ha/heartbeat/frame-crypto.ts,
// boot-id.ts).
//
// Body layout (all integers big-endian), before framing.ts adds CRC-32 and COBS:
//
//   off  size  field
//   0    1     version (PROTOCOL_VERSION = 3; a version 1 or 2 frame carries no echo and is
//              refused as 'bad-version': it cannot prove it was made after the receiver spoke)
//   1    1     kind: 1 heartbeat, 2 release, 3 request, 4 response
//   2    8     bootId of the sender: u32 boot number (kept on disk, one more at every start,
//              so the peer can tell the newer of two of our lives) | u32 random
//   10   4     seq: per-boot sequence number, strictly increasing
//   14   8     echo bootId: the receiver's bootId as the sender last heard it (zeros: none yet)
//   22   4     echo seq: the highest seq of that boot the sender has heard
//   26   1     n = nodeId length (1..64), then n bytes UTF-8 nodeId
//   ..         kind payload (below)
//   end-16 16  HMAC-SHA256(key, every byte before it), truncated to the first 16 bytes
//
// The MAC is truncated to 128 bits as RFC 2104 §5 permits (at least half the hash output and at
// least 80 bits); a forgery still needs 2^128 tries and it saves 16 bytes per frame at 10 Hz.
//
// heartbeat: u48 uptimeMs | u8 m, m bytes configHash | u8 health bits (0 uplink, 1 gateway,
//            2 nginx; others reserved, ignored) | u8 k instances (0..32), each:
//            u8 vrid | u8 family (4|6) | u8 state (0 INIT,1 BACKUP,2 MASTER,3 FAULT) |
//            u8 effectivePriority | u16 advertIntervalCs | u8 flags (0 releasing,
//            1 hearsPeerAdverts, 2 wantsMaster; a reader ignores the bits it does not know, so
//            bit 2 needs no new version: an older twin simply never hands over early)
//            | 4 or 16 bytes primary address
//            | u8 a addresses (0..32), each: u8 family (4|6) | 4 or 16 bytes: the
//            sender's own addresses on its VRRP interfaces, VIPs excluded (pair mode: an advert
//            from any other source is not the twin's); those that do not fit the frame are left out
// release:   u8 vrid | u8 family
// request:   u32 reqId | u8 w (1..32), w bytes ASCII `what` ([a-z0-9-])
// response:  u32 reqId | u8 part (0-based) | u8 parts (1..32) | u16 len (<= 512) | len bytes
//            UTF-8 chunk; the parts concatenated are the body (<= 16 KiB)
//
// A payload must end exactly where the MAC begins; anything else is 'malformed'.

import { formatIpv4, formatIpv6Groups, parseIpv4, parseIpv6, type Family } from '../lib/ip';
import type { VrrpState } from '../vrrp/types';
import { MAX_FRAME_BODY } from './framing';

export const PROTOCOL_VERSION = 3;
export const MAX_ADDRESSES = 32;
export const HMAC_LENGTH = 16;
export const MAX_NODE_ID = 64;
export const MAX_CONFIG_HASH = 64;
export const MAX_INSTANCES = 32;
export const MAX_WHAT = 32;
export const RESPONSE_CHUNK = 512;
export const MAX_RESPONSE_PARTS = 32;
export const MAX_RESPONSE_BODY = RESPONSE_CHUNK * MAX_RESPONSE_PARTS;
const HEADER_FIXED = 27;
/** The echo of a sender that has not heard the receiver yet. */
export const NO_BOOT_ID = '0000000000000000';

export type { Family };
/** The state byte on the wire: a state's index here (the frame layout above). */
const STATES: readonly VrrpState[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT'];
const KINDS = ['heartbeat', 'release', 'request', 'response'] as const;
export type FrameKind = (typeof KINDS)[number];

export interface Health {
  uplink: boolean;
  gateway: boolean;
  nginx: boolean;
}

export interface InstanceReport {
  vrid: number;
  family: Family;
  state: VrrpState;
  effectivePriority: number;
  advertIntervalCs: number;
  /** The sender's primary address on this instance's interface: VRRP's tie-breaker. */
  address: string;
  /** The sender is giving this instance up (maintenance, shutdown, release). */
  releasing?: boolean;
  /** The sender currently hears the other box's adverts for this instance over Ethernet. */
  hearsPeerAdverts?: boolean;
  /**
   * Preempt in one exchange: the sender is a BACKUP with preempt, outranks the twin's MASTER and
   * has been ready for its hold-down (after any preempt_delay); the twin hands over at once.
   */
  wantsMaster?: boolean;
}

export interface HeartbeatBody {
  uptimeMs: number;
  configHash: string;
  health: Health;
  instances: InstanceReport[];
  /**
   * The sender's own addresses on its VRRP interfaces (not its VIPs), canonical text. Always
   * present in a decoded frame; an encoder may leave it out (none).
   */
  addresses?: string[];
}

/** What the sender last heard from the receiver: the receiver's boot and its highest seq. */
export interface Echo {
  bootId: string;
  seq: number;
}

export interface FrameHeader {
  nodeId: string;
  /** 16 hex digits: boot number (8) and random (8). */
  bootId: string;
  seq: number;
  /** Absent when the sender has heard nothing from the receiver yet (encoded as zeros). */
  echo?: Echo;
}

export type PeerMessage =
  | ({ kind: 'heartbeat' } & HeartbeatBody)
  | { kind: 'release'; vrid: number; family: Family }
  | { kind: 'request'; reqId: number; what: string }
  | { kind: 'response'; reqId: number; part: number; parts: number; chunk: string };

export type PeerFrame = FrameHeader & PeerMessage;
export type HeartbeatFrame = Extract<PeerFrame, { kind: 'heartbeat' }>;
export type ReleaseFrame = Extract<PeerFrame, { kind: 'release' }>;
export type RequestFrame = Extract<PeerFrame, { kind: 'request' }>;
export type ResponseFrame = Extract<PeerFrame, { kind: 'response' }>;

/** Message-level rejections (framing-level ones are in framing.ts). */
export type MessageReject = 'bad-version' | 'bad-hmac' | 'unknown-kind' | 'malformed';

/**
 * HMAC-SHA256 over the shared key of `data` (at least HMAC_LENGTH bytes; the frame carries the
 * first HMAC_LENGTH). The shell computes it (src/ha/heartbeat/frame-crypto.ts): the core holds
 * no key and calls no crypto module.
 */
export type FrameMac = (data: Uint8Array) => Uint8Array;

function tag(mac: FrameMac, data: Uint8Array): Uint8Array {
  const t = mac(data);
  check(t.length >= HMAC_LENGTH, `MAC shorter than ${HMAC_LENGTH} bytes`);
  return t.subarray(0, HMAC_LENGTH);
}

/** Compares in time independent of where the bytes differ (a MAC check must not leak a prefix). */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** A bootId from its boot number and 4 random bytes (the shell draws them). */
export function makeBootId(bootNumber: number, random: Uint8Array): string {
  check(Number.isInteger(bootNumber) && bootNumber >= 0 && bootNumber <= 0xffffffff, 'boot number out of range');
  check(random.length === 4, 'boot id random part must be 4 bytes');
  const b = Buffer.alloc(8);
  b.writeUInt32BE(bootNumber, 0);
  b.set(random, 4);
  return b.toString('hex');
}

/** The boot number a bootId carries (its first 4 bytes). */
export function bootNumberOf(bootId: string): number {
  return Number.parseInt(bootId.slice(0, 8), 16) || 0;
}

function bootIdBytes(bootId: string, what: string): Buffer {
  check(/^[0-9a-f]{16}$/i.test(bootId), `${what} must be 16 hex digits`);
  return Buffer.from(bootId, 'hex');
}

/** Encodes and authenticates one message. Out-of-range fields are caller bugs and throw. */
export function encodePeerFrame(frame: PeerFrame, mac: FrameMac): Buffer {
  const w = new Writer();
  w.u8(PROTOCOL_VERSION);
  w.u8(KINDS.indexOf(frame.kind) + 1);
  w.bytes(bootIdBytes(frame.bootId, 'bootId'));
  check(Number.isInteger(frame.seq) && frame.seq >= 0 && frame.seq <= 0xffffffff, 'seq out of range');
  w.u32(frame.seq);
  w.bytes(bootIdBytes(frame.echo?.bootId ?? NO_BOOT_ID, 'echo bootId'));
  const echoSeq = frame.echo?.seq ?? 0;
  check(Number.isInteger(echoSeq) && echoSeq >= 0 && echoSeq <= 0xffffffff, 'echo seq out of range');
  w.u32(echoSeq);
  w.shortString(frame.nodeId, 1, MAX_NODE_ID, 'nodeId');
  switch (frame.kind) {
    case 'heartbeat': {
      check(Number.isInteger(frame.uptimeMs) && frame.uptimeMs >= 0 && frame.uptimeMs < 2 ** 48, 'uptimeMs out of range');
      w.u48(frame.uptimeMs);
      w.shortString(frame.configHash, 0, MAX_CONFIG_HASH, 'configHash');
      w.u8((frame.health.uplink ? 1 : 0) | (frame.health.gateway ? 2 : 0) | (frame.health.nginx ? 4 : 0));
      check(frame.instances.length <= MAX_INSTANCES, `at most ${MAX_INSTANCES} instances`);
      w.u8(frame.instances.length);
      for (const i of frame.instances) {
        checkVrid(i.vrid, i.family);
        w.u8(i.vrid);
        w.u8(i.family);
        w.u8(STATES.indexOf(i.state));
        check(Number.isInteger(i.effectivePriority) && i.effectivePriority >= 0 && i.effectivePriority <= 255, 'priority out of range');
        w.u8(i.effectivePriority);
        check(Number.isInteger(i.advertIntervalCs) && i.advertIntervalCs >= 1 && i.advertIntervalCs <= 4095, 'advertIntervalCs out of range');
        w.u16(i.advertIntervalCs);
        w.u8((i.releasing ? 1 : 0) | (i.hearsPeerAdverts ? 2 : 0) | (i.wantsMaster ? 4 : 0));
        const addr = i.family === 4 ? parseIpv4(i.address) : ipv6Bytes(i.address);
        check(addr !== undefined, `address ${i.address} is not IPv${i.family}`);
        w.bytes(addr!);
      }
      const own = frame.addresses ?? [];
      check(own.length <= MAX_ADDRESSES, `at most ${MAX_ADDRESSES} addresses`);
      const encoded = own.map((a) => {
        const v4 = parseIpv4(a);
        const bytes = v4 ?? ipv6Bytes(a);
        check(bytes !== undefined, `address ${a} is not an IP address`);
        return [v4 ? 4 : 6, bytes!] as const;
      });
      // The fullest heartbeat (32 IPv6 instances, 64-byte node id and hash) leaves room for about
      // 6 IPv6 addresses: the ones that do not fit are left out. Each instance's primary address,
      // the adverts' source, is carried in its report anyway.
      let room = MAX_FRAME_BODY - HMAC_LENGTH - w.length() - 1;
      const fitting = encoded.filter(([, b]) => (room -= 1 + b.length) >= 0);
      w.u8(fitting.length);
      for (const [family, bytes] of fitting) {
        w.u8(family);
        w.bytes(bytes);
      }
      break;
    }
    case 'release':
      checkVrid(frame.vrid, frame.family);
      w.u8(frame.vrid);
      w.u8(frame.family);
      break;
    case 'request':
      check(/^[a-z0-9-]{1,32}$/.test(frame.what), 'what must match [a-z0-9-]{1,32}');
      w.u32(frame.reqId);
      w.shortString(frame.what, 1, MAX_WHAT, 'what');
      break;
    case 'response': {
      const chunk = Buffer.from(frame.chunk, 'utf8');
      check(chunk.length <= RESPONSE_CHUNK, `response chunk over ${RESPONSE_CHUNK} bytes`);
      check(frame.parts >= 1 && frame.parts <= MAX_RESPONSE_PARTS && frame.part >= 0 && frame.part < frame.parts, 'bad part numbering');
      w.u32(frame.reqId);
      w.u8(frame.part);
      w.u8(frame.parts);
      w.u16(chunk.length);
      w.bytes(chunk);
      break;
    }
  }
  const signed = w.done();
  const out = Buffer.concat([signed, tag(mac, signed)]);
  check(out.length <= MAX_FRAME_BODY, 'frame too large');
  return out;
}

export type DecodeResult = { ok: true; frame: PeerFrame } | { ok: false; reason: MessageReject };

/** Authenticates and parses one frame body. Never throws. Replay is checked by replay.ts. */
export function decodePeerFrame(body: Uint8Array, mac: FrameMac): DecodeResult {
  if (body.length < 1) return { ok: false, reason: 'malformed' };
  // The version decides the layout, including where the MAC sits, so it is read first.
  if (body[0] !== PROTOCOL_VERSION) return { ok: false, reason: 'bad-version' };
  if (body.length < HEADER_FIXED + 1 + HMAC_LENGTH) return { ok: false, reason: 'malformed' };
  const signedLen = body.length - HMAC_LENGTH;
  const want = tag(mac, body.subarray(0, signedLen));
  if (!constantTimeEqual(want, body.subarray(signedLen))) return { ok: false, reason: 'bad-hmac' };
  const kind = KINDS[body[1]! - 1];
  if (kind === undefined) return { ok: false, reason: 'unknown-kind' };
  const r = new Reader(body.subarray(0, signedLen));
  const frame = parse(r, kind);
  if (frame === null || !r.atEnd()) return { ok: false, reason: 'malformed' };
  return { ok: true, frame };
}

function parse(r: Reader, kind: FrameKind): PeerFrame | null {
  r.skip(2);
  const bootId = r.bytes(8)?.toString('hex');
  const seq = r.u32();
  const echoBootId = r.bytes(8)?.toString('hex');
  const echoSeq = r.u32();
  const nodeId = r.shortString(1, MAX_NODE_ID);
  if (bootId === undefined || seq === null || echoBootId === undefined || echoSeq === null || nodeId === null) return null;
  const header: FrameHeader = { nodeId, bootId, seq };
  if (echoBootId !== NO_BOOT_ID) header.echo = { bootId: echoBootId, seq: echoSeq };
  switch (kind) {
    case 'heartbeat': {
      const uptimeMs = r.u48();
      const configHash = r.shortString(0, MAX_CONFIG_HASH);
      const h = r.u8();
      const k = r.u8();
      if (uptimeMs === null || configHash === null || h === null || k === null || k > MAX_INSTANCES) return null;
      const instances: InstanceReport[] = [];
      for (let n = 0; n < k; n++) {
        const vrid = r.u8();
        const family = r.u8();
        const st = r.u8();
        const prio = r.u8();
        const adv = r.u16();
        const flags = r.u8();
        if (vrid === null || family === null || st === null || prio === null || adv === null || flags === null) return null;
        if (vrid < 1 || (family !== 4 && family !== 6) || STATES[st] === undefined || adv < 1 || adv > 4095) return null;
        const addr = r.bytes(family === 4 ? 4 : 16);
        if (addr === undefined) return null;
        instances.push({
          vrid, family, state: STATES[st]!, effectivePriority: prio, advertIntervalCs: adv,
          address: bytesToIp(addr), releasing: (flags & 1) !== 0, hearsPeerAdverts: (flags & 2) !== 0,
          ...((flags & 4) !== 0 ? { wantsMaster: true } : {}),
        });
      }
      const a = r.u8();
      if (a === null || a > MAX_ADDRESSES) return null;
      const addresses: string[] = [];
      for (let n = 0; n < a; n++) {
        const family = r.u8();
        if (family !== 4 && family !== 6) return null;
        const addr = r.bytes(family === 4 ? 4 : 16);
        if (addr === undefined) return null;
        addresses.push(bytesToIp(addr));
      }
      return {
        ...header, kind, uptimeMs, configHash,
        health: { uplink: (h & 1) !== 0, gateway: (h & 2) !== 0, nginx: (h & 4) !== 0 }, instances, addresses,
      };
    }
    case 'release': {
      const vrid = r.u8();
      const family = r.u8();
      if (vrid === null || vrid < 1 || (family !== 4 && family !== 6)) return null;
      return { ...header, kind, vrid, family };
    }
    case 'request': {
      const reqId = r.u32();
      const what = r.shortString(1, MAX_WHAT);
      if (reqId === null || what === null || !/^[a-z0-9-]+$/.test(what)) return null;
      return { ...header, kind, reqId, what };
    }
    case 'response': {
      const reqId = r.u32();
      const part = r.u8();
      const parts = r.u8();
      const len = r.u16();
      if (reqId === null || part === null || parts === null || len === null) return null;
      if (parts < 1 || parts > MAX_RESPONSE_PARTS || part >= parts || len > RESPONSE_CHUNK) return null;
      const chunk = r.bytes(len);
      if (chunk === undefined) return null;
      return { ...header, kind, reqId, part, parts, chunk: chunk.toString('utf8') };
    }
  }
}

/** A zone suffix is refused: a frame carries no interface. */
function ipv6Bytes(text: string): Uint8Array | undefined {
  return text.includes('%') ? undefined : parseIpv6(text);
}

/** RFC 5952 section 4 text (IPv4-mapped addresses in hex groups, as this frame always printed them). */
function bytesToIp(bytes: Uint8Array): string {
  return bytes.length === 4 ? formatIpv4(bytes) : formatIpv6Groups(bytes);
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new RangeError(`heartbeat frame: ${what}`);
}

function checkVrid(vrid: number, family: number): void {
  check(Number.isInteger(vrid) && vrid >= 1 && vrid <= 255, 'vrid out of range');
  check(family === 4 || family === 6, 'family must be 4 or 6');
}

class Writer {
  private readonly parts: Buffer[] = [];
  u8(v: number): void { this.parts.push(Buffer.from([v & 0xff])); }
  u16(v: number): void { const b = Buffer.alloc(2); b.writeUInt16BE(v); this.parts.push(b); }
  u32(v: number): void { const b = Buffer.alloc(4); b.writeUInt32BE(v); this.parts.push(b); }
  u48(v: number): void { const b = Buffer.alloc(6); b.writeUIntBE(v, 0, 6); this.parts.push(b); }
  bytes(v: Uint8Array): void { this.parts.push(Buffer.from(v)); }
  shortString(s: string, min: number, max: number, what: string): void {
    const b = Buffer.from(s, 'utf8');
    check(b.length >= min && b.length <= max, `${what} must be ${min}..${max} bytes`);
    this.u8(b.length);
    this.parts.push(b);
  }
  done(): Buffer { return Buffer.concat(this.parts); }
  length(): number { return this.parts.reduce((n, p) => n + p.length, 0); }
}

class Reader {
  private at = 0;
  constructor(private readonly b: Uint8Array) {}
  private buf(): Buffer { return Buffer.from(this.b.buffer, this.b.byteOffset, this.b.byteLength); }
  atEnd(): boolean { return this.at === this.b.length; }
  skip(n: number): void { this.at += n; }
  u8(): number | null { return this.at + 1 <= this.b.length ? this.b[this.at++]! : null; }
  u16(): number | null {
    if (this.at + 2 > this.b.length) return null;
    const v = this.buf().readUInt16BE(this.at); this.at += 2; return v;
  }
  u32(): number | null {
    if (this.at + 4 > this.b.length) return null;
    const v = this.buf().readUInt32BE(this.at); this.at += 4; return v;
  }
  u48(): number | null {
    if (this.at + 6 > this.b.length) return null;
    const v = this.buf().readUIntBE(this.at, 6); this.at += 6; return v;
  }
  bytes(n: number): Buffer | undefined {
    if (this.at + n > this.b.length) return undefined;
    const v = Buffer.from(this.buf().subarray(this.at, this.at + n)); this.at += n; return v;
  }
  shortString(min: number, max: number): string | null {
    const n = this.u8();
    if (n === null || n < min || n > max) return null;
    const b = this.bytes(n);
    if (b === undefined) return null;
    const s = b.toString('utf8');
    // Reject invalid UTF-8 rather than silently replacing it.
    if (!Buffer.from(s, 'utf8').equals(b)) return null;
    return s;
  }
}
