// Classic BPF programs for the addon's receiving packet sockets, built without I/O: the kernel
// runs them on each frame before queueing it, so the daemon is woken only for the frames it wants
// (an ARP flood for other addresses costs it nothing). `struct sock_filter` is 8 bytes in host
// byte order: u16 code, u8 jt, u8 jf, u32 k.
import { endianness } from 'node:os';
import { parseIpv4 } from '../lib/ip';

export interface BpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const LD_B_ABS = 0x30;
const LD_H_ABS = 0x28;
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const RET_K = 0x06;
/** SKF_AD_OFF + SKF_AD_PKTTYPE: loads the packet type (PACKET_OUTGOING = 4). */
const AD_PKTTYPE = (0xfffff000 + 4) >>> 0;
const PACKET_OUTGOING = 4;
/** Bytes of a frame kept: an ARP frame is 42 bytes (60 padded). */
const ARP_SNAP = 64;

/** At most this many sender addresses in one filter (the jumps are 8-bit). */
export const ARP_FILTER_MAX = 64;

/**
 * ARP (Ethernet, IPv4: request or reply) whose sender protocol address is one of `senderIps`,
 * received (not our own outgoing frames): what RFC 5227 section 2.4 calls a conflicting packet
 * once its sender hardware address is not ours. Every other frame is dropped in the kernel.
 */
export function arpSenderFilter(senderIps: readonly string[]): BpfInsn[] {
  const ips = [...new Set(senderIps)].map((ip) => {
    const b = parseIpv4(ip);
    if (!b) throw new TypeError(`bad IPv4 address ${JSON.stringify(ip)}`);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  });
  if (ips.length > ARP_FILTER_MAX) throw new RangeError(`at most ${ARP_FILTER_MAX} addresses in one ARP filter`);
  if (ips.length === 0) return [{ code: RET_K, jt: 0, jf: 0, k: 0 }];
  // The checks before the addresses; each jumps to "drop" (the second-last instruction) on failure.
  const head: [number, number, number | undefined][] = [
    [LD_B_ABS, AD_PKTTYPE, undefined],
    [JEQ_K, PACKET_OUTGOING, 1], // equal: drop
    [LD_H_ABS, 12, undefined],
    [JEQ_K, 0x0806, 0], // ethertype ARP
    [LD_H_ABS, 14, undefined],
    [JEQ_K, 1, 0], // hardware type Ethernet
    [LD_H_ABS, 16, undefined],
    [JEQ_K, 0x0800, 0], // protocol IPv4
    [LD_H_ABS, 18, undefined],
    [JEQ_K, 0x0604, 0], // hlen 6, plen 4
    [LD_W_ABS, 28, undefined], // sender protocol address
  ];
  const total = head.length + ips.length + 2;
  const drop = total - 2;
  const accept = total - 1;
  const out: BpfInsn[] = [];
  head.forEach(([code, k, dropOn], i) => {
    if (dropOn === undefined) out.push({ code, jt: 0, jf: 0, k });
    else if (dropOn === 1) out.push({ code, jt: drop - i - 1, jf: 0, k });
    else out.push({ code, jt: 0, jf: drop - i - 1, k });
  });
  ips.forEach((ip, j) => {
    const i = head.length + j;
    out.push({ code: JEQ_K, jt: accept - i - 1, jf: 0, k: ip });
  });
  out.push({ code: RET_K, jt: 0, jf: 0, k: 0 });
  out.push({ code: RET_K, jt: 0, jf: 0, k: ARP_SNAP });
  return out;
}

/** The program as the kernel takes it (struct sock_filter[], host byte order). */
export function encodeBpf(program: readonly BpfInsn[], little = endianness() === 'LE'): Uint8Array {
  const b = new Uint8Array(program.length * 8);
  const v = new DataView(b.buffer);
  program.forEach((x, i) => {
    v.setUint16(i * 8, x.code, little);
    b[i * 8 + 2] = x.jt;
    b[i * 8 + 3] = x.jf;
    v.setUint32(i * 8 + 4, x.k >>> 0, little);
  });
  return b;
}

/** Runs a program on a frame as the kernel would (unit tests; only the instructions built above). */
export function runBpf(program: readonly BpfInsn[], frame: Uint8Array, packetType = 0): number {
  let a = 0;
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  for (let pc = 0; pc < program.length; pc++) {
    const x = program[pc]!;
    switch (x.code) {
      case LD_B_ABS:
        if (x.k === AD_PKTTYPE) a = packetType;
        else if (x.k < frame.length) a = frame[x.k]!;
        else return 0;
        break;
      case LD_H_ABS:
        if (x.k + 2 > frame.length) return 0;
        a = v.getUint16(x.k);
        break;
      case LD_W_ABS:
        if (x.k + 4 > frame.length) return 0;
        a = v.getUint32(x.k);
        break;
      case JEQ_K:
        pc += a === x.k ? x.jt : x.jf;
        break;
      case RET_K:
        return x.k;
      default:
        throw new Error(`unknown BPF instruction ${x.code}`);
    }
  }
  return 0;
}
