// VRRP transport on one interface and address family: raw IP protocol 112, TTL/hop limit 255
// out, the received TTL/hop limit handed up for the core to check (RFC 3768 7.1, RFC 5798
// 7.1; keepalived skips that check for unicast, so the check belongs to the core, not here).
// On the wire like keepalived's adverts: IPv4 TOS / IPv6 traffic class 0xc0 (DSCP CS6) and DF
// clear. Bytes in, bytes out: the codec lives in src/vrrp.
//
// Counting: every datagram read is `read`, and is then exactly one of `droppedOwn` (from one of
// our addresses), `droppedIpHeader` (unreadable IPv4 header) or handed to onPacket (`received`).
// What the kernel dropped before we could read it (receive queue full) is `kernelDrops`.
import type { Family } from '../vrrp/types';
import { canonicalAddress, familyOf } from '../lib/ip';
import { VRRP_GROUP_V4, VRRP_GROUP_V6, VRRP_PROTOCOL } from '../vrrp/types';
import { type NativeError, type NativeHandle, type NativeSocketStats, inNetns, isNativeError, loadAddon } from './native';

const AH_PROTOCOL = 51;

export interface ReceivedPacket {
  family: Family;
  /** The VRRP message, without IP header. */
  /** The VRRP message, without IP header; with `ipsecAh`, the whole IPv4 datagram. */
  payload: Buffer;
  source: string;
  destination: string;
  /** IPv4 TTL or IPv6 hop limit as received (-1 if the kernel did not report it). */
  ttl: number;
  ifindex: number;
}

export interface VrrpSocketOptions {
  family: Family;
  ifname: string;
  /** Multicast group to join and send to; default 224.0.0.18 / ff02::12. Ignored with unicast peers. */
  group?: string;
  /** Unicast mode: adverts go to each peer, no group is joined. */
  unicastPeers?: string[];
  /** Source address for sends (chosen via IP_PKTINFO / IPV6_PKTINFO); default: the kernel's choice. */
  source?: string;
  /** Addresses of this node: packets from them are ours and dropped (the multicast loop is off too). */
  ownAddresses?: Iterable<string>;
  /** Named network namespace to open the socket in (tests, demo). */
  netns?: string;
  /**
   * Receive buffer in bytes; default RECEIVE_BUFFER_BYTES. 0 keeps the system default
   * (net.core.rmem_default, about 200 adverts' worth).
   */
  receiveBufferBytes?: number;
  /**
   * IPv4 only: IP protocol 51 (IPsec AH, keepalived auth_type AH) with the IP header included
   * both ways, since the AH ICV covers it: send() takes and onPacket gets whole datagrams.
   */
  ipsecAh?: boolean;
  onPacket: (packet: ReceivedPacket) => void;
  /** Receive-side errors (the socket stays open). */
  onError?: (error: NativeError) => void;
}

/**
 * A burst of adverts while the event loop is busy elsewhere must wait in the kernel, not be
 * dropped there: 1 MiB holds about 1500 small adverts (each costs about 700 bytes of kernel
 * accounting on a veth); the default 208 KiB holds about 300.
 */
export const RECEIVE_BUFFER_BYTES = 1 << 20;

export interface VrrpSocketCounters {
  /** Datagrams read from the socket. */
  read: number;
  /** Handed to onPacket. */
  received: number;
  droppedOwn: number;
  droppedIpHeader: number;
  /** The kernel's count of datagrams dropped for this socket, as last reported (SO_RXQ_OVFL). */
  kernelDrops: number;
  sent: number;
  sendErrors: number;
  receiveErrors: number;
}

export type SendError = { destination: string; error: NativeError };

export class VrrpSocket {
  readonly family: Family;
  readonly ifname: string;
  readonly destinations: readonly string[];
  readonly counters: VrrpSocketCounters = {
    read: 0,
    received: 0,
    droppedOwn: 0,
    droppedIpHeader: 0,
    kernelDrops: 0,
    sent: 0,
    sendErrors: 0,
    receiveErrors: 0,
  };
  private handle: NativeHandle | null;
  private own = new Set<string>();
  private source: string | undefined;
  private readonly group: string | null;
  /** Groups joined after open() (several instances on one interface with their own groups). */
  private readonly extraGroups: string[] = [];

  private constructor(opts: VrrpSocketOptions, handle: NativeHandle, group: string | null, destinations: string[]) {
    this.family = opts.family;
    this.ifname = opts.ifname;
    this.handle = handle;
    this.group = group;
    this.destinations = destinations;
    this.source = opts.source;
    this.setOwnAddresses(opts.ownAddresses ?? []);
  }

  /** Opens, joins the group (multicast mode) and starts receiving. Throws NativeError (EPERM, ENODEV...). */
  static open(opts: VrrpSocketOptions): VrrpSocket {
    const addon = loadAddon();
    const unicast = (opts.unicastPeers ?? []).map((p) => checkAddress(p, opts.family, 'unicast peer'));
    const group = unicast.length
      ? null
      : checkAddress(opts.group ?? (opts.family === 4 ? VRRP_GROUP_V4 : VRRP_GROUP_V6), opts.family, 'group');
    if (opts.source !== undefined) checkAddress(opts.source, opts.family, 'source');
    const rcvbuf = opts.receiveBufferBytes ?? RECEIVE_BUFFER_BYTES;
    if (opts.ipsecAh && opts.family !== 4) throw new TypeError('IPsec AH is IPv4 only');
    const handle = inNetns(opts.netns, () =>
      opts.ipsecAh ? addon.openVrrp(4, opts.ifname, AH_PROTOCOL, rcvbuf, true) : addon.openVrrp(opts.family, opts.ifname, VRRP_PROTOCOL, rcvbuf));
    try {
      if (group) addon.setMembership(handle, group, true);
      const sock = new VrrpSocket(opts, handle, group, group ? [group] : unicast);
      addon.recvStart(handle, (err, payload, source, destination, hops, ifindex, kernelDrops) =>
        sock.onReceive(err, payload, source, destination, hops, ifindex, kernelDrops, opts),
      );
      return sock;
    } catch (e) {
      addon.close(handle);
      throw e;
    }
  }

  /** Replaces the set of this node's addresses (call when VIPs or interface addresses change). */
  setOwnAddresses(addresses: Iterable<string>): void {
    const next = new Set<string>();
    for (const a of addresses) {
      const c = canonicalAddress(a);
      if (c) next.add(c);
    }
    this.own = next;
  }

  /**
   * Joins one more multicast group on this socket's interface (no-op if already joined). The
   * kernel delivers multicast only for joined groups, so each instance's group must be joined
   * or its peer's adverts never arrive. Sends still name their destination (sendTo).
   */
  join(group: string): void {
    if (!this.handle) throw closedError();
    const g = checkAddress(group, this.family, 'group');
    if (g === this.group || this.extraGroups.includes(g)) return;
    loadAddon().setMembership(this.handle, g, true);
    this.extraGroups.push(g);
  }

  setSource(source: string | undefined): void {
    if (source !== undefined) checkAddress(source, this.family, 'source');
    this.source = source;
  }

  /**
   * Sends one advert to the group, or to every unicast peer. Never blocks: a full socket
   * buffer is an EAGAIN error. Returns the failures (empty when every send went out).
   */
  send(payload: Uint8Array): SendError[] {
    const errors: SendError[] = [];
    for (const d of this.destinations) {
      const e = this.sendTo(payload, d);
      if (e) errors.push({ destination: d, error: e });
    }
    return errors;
  }

  sendTo(payload: Uint8Array, destination: string, source: string | undefined = this.source): NativeError | null {
    if (!this.handle) return closedError();
    try {
      loadAddon().send(this.handle, payload, destination, source ?? null);
      this.counters.sent++;
      return null;
    } catch (e) {
      this.counters.sendErrors++;
      if (isNativeError(e)) return e;
      throw e;
    }
  }

  /**
   * The kernel's view of the socket now: drops (also when nothing has been read since), the
   * receive buffer as accounted, bytes queued, and wanted options it refused. Updates
   * counters.kernelDrops. undefined once closed.
   */
  stats(): NativeSocketStats | undefined {
    if (!this.handle) return undefined;
    const s = loadAddon().stats(this.handle);
    if (s.drops > this.counters.kernelDrops) this.counters.kernelDrops = s.drops;
    return s;
  }

  close(): void {
    if (!this.handle) return;
    const addon = loadAddon();
    for (const g of [...(this.group ? [this.group] : []), ...this.extraGroups]) {
      try {
        addon.setMembership(this.handle, g, false);
      } catch {
        // Leaving fails when the interface is gone; closing drops the membership anyway.
      }
    }
    addon.close(this.handle);
    this.handle = null;
  }

  get closed(): boolean {
    return this.handle === null;
  }

  private onReceive(
    err: NativeError | null,
    payload: Buffer | undefined,
    source: string | undefined,
    destination: string | undefined,
    hops: number | undefined,
    ifindex: number | undefined,
    kernelDrops: number | undefined,
    opts: VrrpSocketOptions,
  ): void {
    if (err || !payload || source === undefined) {
      this.counters.receiveErrors++;
      if (err) opts.onError?.(err);
      return;
    }
    this.counters.read++;
    if (kernelDrops !== undefined && kernelDrops > this.counters.kernelDrops) this.counters.kernelDrops = kernelDrops;
    if (source === '') {
      this.counters.droppedIpHeader++;
      return;
    }
    if (this.own.has(source)) {
      this.counters.droppedOwn++;
      return;
    }
    this.counters.received++;
    opts.onPacket({
      family: this.family,
      payload,
      source,
      destination: destination ?? '',
      ttl: hops ?? -1,
      ifindex: ifindex ?? 0,
    });
  }
}

function checkAddress(text: string, family: Family, what: string): string {
  const c = canonicalAddress(text);
  if (!c || familyOf(c) !== family) throw new TypeError(`${what} ${JSON.stringify(text)} is not an IPv${family} address`);
  return c;
}

function closedError(): NativeError {
  return Object.assign(new Error('socket closed'), { code: 'EBADF' });
}
