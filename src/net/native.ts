// Loads the twinvip_net N-API addon (native/twinvip_net.c) and types its narrow interface.
// The addon moves bytes plus metadata; nothing in it knows VRRP.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An open socket inside the addon; only the addon's functions can use it. */
export type NativeHandle = { readonly __twinvipNetHandle: unique symbol };

/**
 * IP sockets: (err, payload, source, destination, ttlOrHopLimit, ifindex, kernelDrops).
 * source "" = an IPv4 header that could not be read (payload is then the whole datagram);
 * kernelDrops = the socket's count of packets dropped by the kernel (SO_RXQ_OVFL), -1 if unknown.
 */
export type NativeIpCallback = (
  err: NativeError | null,
  payload?: Buffer,
  source?: string,
  destination?: string,
  hops?: number,
  ifindex?: number,
  kernelDrops?: number,
) => void;

/** stats(): the kernel's view of one socket (SO_MEMINFO). */
export interface NativeSocketStats {
  /** Packets the kernel dropped for this socket (receive queue full): SO_RXQ_OVFL's count. */
  drops: number;
  /** Receive buffer as the kernel accounts it (twice what was asked for). */
  rcvbuf: number;
  /** Bytes queued now. */
  queued: number;
  /** Wanted options openVrrp could not set (e.g. "SO_RXQ_OVFL ENOPROTOOPT" under an emulator); "" = none. */
  degraded: string;
}
/**
 * Receiving packet sockets come through NativeIpCallback's shape: (err, frame, "", "",
 * packetType (sll_pkttype: 0 host, 1 broadcast, 2 multicast, 3 other host), ifindex, kernelDrops).
 */
/** Netlink sockets: (err, datagram). */
export type NativeNetlinkCallback = (err: NativeError | null, datagram?: Buffer) => void;

export interface NativeError extends Error {
  /** errno name, e.g. EPERM, ENODEV, ENETDOWN, EAGAIN (or EINVAL for a bad argument). */
  code: string;
  errno?: number;
  syscall?: string;
}

export interface TwinvipNetAddon {
  /**
   * rcvbuf: receive buffer in bytes (SO_RCVBUFFORCE); 0 or absent keeps the system default.
   * withHeader (IPv4): IP_HDRINCL; sends take and receives give the whole IPv4 datagram.
   */
  openVrrp(family: 4 | 6, ifname: string, protocol: number, rcvbuf?: number, withHeader?: boolean): NativeHandle;
  /**
   * An AF_PACKET socket on ifname. Without protocol: send-only. With an ethertype (0x0806 ARP):
   * also receives those frames (not our own outgoing ones) through the classic BPF `filter`
   * (bpf.ts's encoding), attached before the socket is bound; rcvbuf bounds what can queue.
   */
  openPacket(ifname: string, protocol?: number, filter?: Uint8Array, rcvbuf?: number): NativeHandle;
  /** Replaces a receiving packet socket's BPF filter. */
  setFilter(handle: NativeHandle, filter: Uint8Array): void;
  openLinkEvents(): NativeHandle;
  setMembership(handle: NativeHandle, group: string, join: boolean): void;
  send(handle: NativeHandle, payload: Uint8Array, destination: string, source?: string | null): number;
  sendFrame(handle: NativeHandle, frame: Uint8Array): number;
  recvStart(handle: NativeHandle, callback: NativeIpCallback | NativeNetlinkCallback): void;
  inNetns<T>(path: string, fn: () => T): T;
  close(handle: NativeHandle): void;
  stats(handle: NativeHandle): NativeSocketStats;
  /** One datagram to an AF_UNIX SOCK_DGRAM socket (sd_notify); "@name" is an abstract socket. */
  sendUnixDatagram(path: string, payload: Uint8Array): number;
  /**
   * Readiness of a descriptor (a serial port) on this thread's own event loop: `callback(err,
   * events)` while the events set by watchFdSet (1 readable, 2 writable; 0 pauses) are ready.
   */
  watchFd(fd: number, callback: (err: NativeError | null, events?: number) => void): NativeHandle;
  watchFdSet(handle: NativeHandle, events: number): void;
  /** Stops watching; the descriptor stays open (it is the caller's). Idempotent. */
  watchFdClose(handle: NativeHandle): void;
  /**
   * One rtnetlink request (whole message, NLM_F_ACK or NLM_F_DUMP set) on a fresh NETLINK_ROUTE
   * socket of this thread's namespace; returns the reply messages of its sequence number up to
   * the ACK/error or NLMSG_DONE (rtnl-addr.ts decodes them). Blocking, 2 s timeout at most.
   */
  rtnlTalk(request: Uint8Array): Buffer;
  /** if_nametoindex(3); throws ENODEV for an interface this namespace does not have. */
  ifIndex(name: string): number;
  /**
   * The calling thread's scheduling (setpriority/sched_setscheduler on its tid; keepalived's
   * set_process_priorities for one thread). rtPriority 0 = SCHED_OTHER; rttimeUs sets
   * RLIMIT_RTTIME (soft half of it: SIGXCPU puts the thread back to SCHED_OTHER, counted in
   * `xcpu`/`demoted`). Real-time is set with SCHED_RESET_ON_FORK unless `inherit` (then threads
   * created meanwhile inherit it). Never throws for a refusal: the parts that failed are in `errors`.
   */
  setThreadScheduling(options: { nice?: number; rtPriority?: number; rttimeUs?: number; inherit?: boolean }): NativeScheduling & {
    errors: Partial<Record<'nice' | 'rt' | 'rlimit' | 'sigxcpu', string>>;
  };
  /** A thread's scheduling as it is now (default: the calling thread). */
  threadScheduling(tid?: number): NativeScheduling;
  /** One non-blocking write(2): bytes written, or -1 for EAGAIN; throws on other errors. */
  writeFd(fd: number, bytes: Uint8Array, offset?: number): number;
  /** One non-blocking read(2): bytes read (0 = end of file), or -1 for EAGAIN; throws on other errors. */
  readFd(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  /** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): the HA thread's channel to the main thread. */
  socketPair(): [number, number];
}

export interface NativeScheduling {
  tid: number;
  policy: 'SCHED_RR' | 'SCHED_FIFO' | 'SCHED_OTHER' | 'other' | 'unknown';
  rtPriority: number;
  nice: number;
  /** RLIMIT_RTTIME in microseconds, -1 = unlimited. */
  rttimeSoft: number;
  rttimeHard: number;
  /** SIGXCPU signals received (the soft limit reached) and real-time threads put back to normal by them, since the process started. */
  xcpu: number;
  demoted: number;
}

const ADDON = 'twinvip_net.node';

function archName(): string {
  return process.arch === 'x64' ? 'x64' : process.arch;
}

/**
 * Where the addon may be: $TWINVIP_NET_ADDON, beside this module (the bundle in dist/ or an
 * unpacked image), or native/build/<arch>/ in the source tree found walking up from here.
 */
export function addonCandidates(fromDir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  if (env.TWINVIP_NET_ADDON) out.push(env.TWINVIP_NET_ADDON);
  out.push(join(fromDir, ADDON));
  out.push(join(fromDir, 'native', `linux-${archName()}`, ADDON));
  let dir = fromDir;
  for (let i = 0; i < 5; i++) {
    out.push(join(dir, 'native', 'build', archName(), ADDON));
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return out;
}

let loaded: TwinvipNetAddon | undefined;

export function loadAddon(): TwinvipNetAddon {
  if (loaded) return loaded;
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = addonCandidates(here);
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new Error(
      `twinvip_net addon not found (run "make addon"); looked in:\n  ${candidates.join('\n  ')}`,
    );
  }
  const require = createRequire(import.meta.url);
  loaded = require(path) as TwinvipNetAddon;
  return loaded;
}

export function isNativeError(e: unknown): e is NativeError {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string';
}

/** Path of a named namespace as `ip netns add` creates it. */
export function netnsPath(name: string): string {
  return name.startsWith('/') ? name : `/run/netns/${name}`;
}

/** Runs fn inside the named network namespace when one is given (sockets keep it). */
export function inNetns<T>(netns: string | undefined, fn: () => T): T {
  if (!netns) return fn();
  return loadAddon().inNetns(netnsPath(netns), fn);
}
