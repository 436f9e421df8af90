// The real I/O behind VrrpRunner: one raw VRRP socket per (interface, family) — a raw socket sees
// every protocol-112 packet of its interface, so two would deliver each packet twice — plus one
// IPsec AH socket (protocol 51, header included) per interface with an auth_type AH instance,
// one AF_PACKET announcer per interface carrying VIPs, and `ip addr` for the VIPs. An AH
// instance keeps the plain socket too, so a peer sending without AH is heard and counted.

import {
  Announcer,
  VrrpSocket,
  addVip,
  removeVip,
  type NativeError,
  type ReceivedPacket as NetPacket,
  type Vip,
} from '../../net';
import type { SubsystemLogger } from '../../log';
import { AH_PROTOCOL } from '../../vrrp/ah';
import type { Family } from '../../vrrp/types';
import type { InstancePlan } from './instance-plan';
import type { ReceivedPacket, VrrpIo } from './runner';

export interface NetIoCounters {
  sendErrors: number;
  announceErrors: number;
  vipErrors: number;
}

/** What the VRRP sockets of one interface (both families) read, dropped themselves, and the kernel dropped. */
export interface SocketReceive {
  read: number;
  droppedOwn: number;
  droppedIpHeader: number;
  kernelDrops: number;
  receiveErrors: number;
  /** Receive buffer bytes as the kernel accounts them, summed over the interface's sockets. */
  rcvbuf: number;
}

export class NetIo implements VrrpIo {
  private readonly sockets = new Map<string, VrrpSocket>();
  /** What each socket was opened for; a reload reopens a socket only when this changes. */
  private readonly specs = new Map<string, string>();
  private readonly announcers = new Map<string, Announcer>();
  readonly counters: NetIoCounters = { sendErrors: 0, announceErrors: 0, vipErrors: 0 };
  /** Send errors are logged once per interface and errno until a send succeeds again. */
  private readonly loggedSendError = new Set<string>();
  /** Paced bursts still sending (garp.interval > 0), per instance: cancelled when its VIPs go. */
  private readonly paced = new Map<string, Set<NodeJS.Timeout>>();

  /** Consecutive failures per socket key (sends and receives); a success resets it. */
  private readonly streaks = new Map<string, number>();
  /** Sockets reported broken and not reopened since. */
  private readonly broken = new Set<string>();
  /** The arguments of the last open(), to reopen one socket the same way. */
  private lastOpen: Parameters<NetIo['open']> | undefined;

  /**
   * @param onSocketFault called once when a socket has failed SOCKET_FAULT_AFTER times in a row
   *   with an error that is not transient (a firewall's EPERM on every advert, a receive error):
   *   the instances on it cannot be defended and go to FAULT (vrrp extension).
   */
  constructor(
    private readonly log: SubsystemLogger,
    private readonly onSocketFault?: (f: SocketFault) => void,
  ) {}

  /** Opens what the plans need; throws (with the errno name) when a socket cannot be opened. */
  open(
    plans: InstancePlan[],
    macs: ReadonlyMap<string, string>,
    ownAddresses: ReadonlyMap<string, string[]>,
    onPacket: (p: ReceivedPacket) => void,
  ): void {
    this.lastOpen = [plans, macs, ownAddresses, onPacket];
    for (const plan of plans) for (const key of socketKeys(plan)) {
      if (!this.sockets.has(key)) {
        const groups = [...new Set(plans.filter((p) => socketKeys(p).includes(key) && !p.unicast).map((p) => p.multicastGroup))];
        const ifname = plan.interface;
        const family = plan.family;
        const ipsecAh = key === ahKey(ifname);
        const sock = openNamed(`${ifname}: ${ipsecAh ? 'IPsec AH' : 'VRRP'} socket (IPv${family})`, () => VrrpSocket.open({
          family,
          ifname,
          ...(groups[0] !== undefined ? { group: groups[0] } : { unicastPeers: plan.destinations }),
          ownAddresses: ownAddresses.get(ifname) ?? [],
          ...(ipsecAh ? { ipsecAh } : {}),
          onPacket: (p: NetPacket) =>
            onPacket({ interface: ifname, family: p.family as Family, payload: p.payload, source: p.source, destination: p.destination, ttl: p.ttl, ...(ipsecAh ? { protocol: AH_PROTOCOL } : {}) }),
          onError: (e) => {
            this.log.warn(`${ifname}: ${ipsecAh ? 'IPsec AH' : 'VRRP'} socket error: ${e.message}`);
            this.socketFailed(key, e);
          },
        }));
        // Instances of one interface may use different groups (mcast_group): join them all.
        for (const g of groups.slice(1)) {
          try {
            openNamed(`${ifname}: joining ${g}`, () => sock.join(g));
          } catch (err) {
            sock.close();
            throw err;
          }
        }
        const degraded = sock.stats()?.degraded;
        if (degraded) this.log.warn(`${ifname}: VRRP socket (IPv${family}) works without: ${degraded}`);
        this.sockets.set(key, sock);
        this.specs.set(key, socketSpec(plans, key, ownAddresses));
      }
    }
    for (const plan of plans) {
      for (const vip of plan.vips) {
        if (this.announcers.has(vip.dev)) continue;
        const mac = macs.get(vip.dev);
        if (!mac) throw new Error(`${plan.name}: interface ${vip.dev} of VIP ${vip.address} has no MAC address`);
        this.announcers.set(vip.dev, openNamed(`${vip.dev}: AF_PACKET socket for gratuitous ARP / NA`, () => Announcer.open({ ifname: vip.dev, mac })));
      }
    }
  }

  /**
   * After a reload: closes the sockets no plan uses any more and reopens those whose multicast
   * groups, unicast peers or own addresses changed; the others keep running (no receive gap).
   * Call open() with the new plans first so added instances have their sockets.
   */
  reconcile(
    plans: InstancePlan[],
    macs: ReadonlyMap<string, string>,
    ownAddresses: ReadonlyMap<string, string[]>,
    onPacket: (p: ReceivedPacket) => void,
  ): void {
    for (const [key, sock] of this.sockets) {
      const spec = socketSpec(plans, key, ownAddresses);
      if (this.specs.get(key) === spec) continue;
      this.log.info(`${key}: VRRP socket ${spec ? 'reopened (multicast groups, unicast peers or own addresses changed)' : 'closed (no instance uses it any more)'}`);
      this.retire(key, sock);
      sock.close();
      this.sockets.delete(key);
      this.specs.delete(key);
    }
    const devs = new Set(plans.flatMap((p) => p.vips.map((v) => v.dev)));
    for (const [dev, a] of this.announcers) {
      if (devs.has(dev)) continue;
      a.close();
      this.announcers.delete(dev);
    }
    this.open(plans, macs, ownAddresses, onPacket);
  }

  /**
   * Per interface: the sockets' own counts, with the kernel's drop count read now. A socket that
   * a reload closed keeps its counts here, so the sums never go backwards.
   */
  receiveCounters(): Map<string, SocketReceive> {
    const out = new Map<string, SocketReceive>();
    const add = (iface: string, c: SocketReceive) => {
      const t = out.get(iface) ?? { read: 0, droppedOwn: 0, droppedIpHeader: 0, kernelDrops: 0, receiveErrors: 0, rcvbuf: 0 };
      for (const k of Object.keys(t) as (keyof SocketReceive)[]) t[k] += c[k];
      out.set(iface, t);
    };
    for (const [iface, c] of this.closedCounts) add(iface, c);
    for (const [key, sock] of this.sockets) {
      const st = sock.stats();
      add(key.slice(0, key.lastIndexOf('/')), { ...pickReceive(sock), rcvbuf: st?.rcvbuf ?? 0 });
    }
    return out;
  }

  private readonly closedCounts = new Map<string, SocketReceive>();

  private retire(key: string, sock: VrrpSocket): void {
    sock.stats();
    const iface = key.slice(0, key.lastIndexOf('/'));
    const t = this.closedCounts.get(iface) ?? { read: 0, droppedOwn: 0, droppedIpHeader: 0, kernelDrops: 0, receiveErrors: 0, rcvbuf: 0 };
    const c = pickReceive(sock);
    for (const k of Object.keys(c) as (keyof SocketReceive)[]) t[k] += c[k];
    this.closedCounts.set(iface, t);
  }

  /** A socket error: counts towards the fault unless it is transient (see TRANSIENT). */
  private socketFailed(key: string, err: NativeError): void {
    if (TRANSIENT.has(err.code)) return;
    const n = (this.streaks.get(key) ?? 0) + 1;
    this.streaks.set(key, n);
    if (n < SOCKET_FAULT_AFTER || this.broken.has(key)) return;
    this.broken.add(key);
    const ifname = key.slice(0, key.lastIndexOf('/'));
    const kind = key.endsWith('/ah') ? 'IPsec AH socket' : `VRRP socket (IPv${key.slice(key.lastIndexOf('/') + 1)})`;
    this.onSocketFault?.({ key, ifname, what: `${ifname}: ${kind}`, error: err.message, errno: err.code, count: n });
  }

  /**
   * Closes a broken socket and opens it again as open() did (a reload in the meantime counts):
   * ok when the new socket opened and joined; the fault is over only if its sends then work.
   */
  reopenSocket(key: string): { ok: true } | { ok: false; error: string } {
    const old = this.sockets.get(key);
    if (old) {
      this.retire(key, old);
      old.close();
      this.sockets.delete(key);
      this.specs.delete(key);
    }
    this.streaks.delete(key);
    this.broken.delete(key);
    if (!this.lastOpen) return { ok: false, error: 'never opened' };
    try {
      this.open(...this.lastOpen);
      return this.sockets.has(key) ? { ok: true } : { ok: false, error: 'no instance uses it any more' };
    } catch (err) {
      this.broken.add(key);
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  close(): void {
    for (const name of [...this.paced.keys()]) this.cancelAnnouncements(name);
    this.specs.clear();
    for (const s of this.sockets.values()) s.close();
    for (const a of this.announcers.values()) a.close();
    this.sockets.clear();
    this.announcers.clear();
  }

  send(plan: InstancePlan, destination: string, bytes: Uint8Array): void {
    const sockKey = plan.ahKey ? ahKey(plan.interface) : socketKey(plan.interface, plan.family);
    const sock = this.sockets.get(sockKey);
    if (!sock) return;
    const err = sock.sendTo(bytes, destination, plan.params.primaryAddress);
    const key = `${plan.interface}/${err?.code ?? ''}`;
    if (err) this.socketFailed(sockKey, err);
    else this.streaks.delete(sockKey);
    if (err) {
      this.counters.sendErrors++;
      if (!this.loggedSendError.has(key)) {
        this.loggedSendError.add(key);
        this.log.forInstance(plan.name).warn(`advert to ${destination} not sent: ${err.code ?? err.message}`);
      }
    } else if (this.loggedSendError.size > 0) {
      for (const k of this.loggedSendError) if (k.startsWith(`${plan.interface}/`)) this.loggedSendError.delete(k);
    }
  }

  async setVips(plan: InstancePlan, present: boolean): Promise<void> {
    // Never announce an address this node is giving up.
    if (!present) this.cancelAnnouncements(plan.name);
    const results = await Promise.all(plan.vips.map((v) => (present ? addVip : removeVip)(toNetVip(v))));
    const errors = results.flatMap((r) => (r.ok ? [] : [r.error]));
    if (errors.length > 0) {
      this.counters.vipErrors += errors.length;
      throw new Error(errors.join('; '));
    }
  }

  /**
   * `count` gratuitous ARP / unsolicited NA per VIP, VIP after VIP; with garp.interval set each
   * packet waits that long after the previous one (keepalived's vrrp_garp_interval), on timers
   * that a VIP removal cancels. The first packet always leaves at once.
   */
  announce(plan: InstancePlan, count: number): void {
    const packets: InstancePlan['vips'] = [];
    for (let i = 0; i < count; i++) packets.push(...plan.vips);
    const send = (vip: InstancePlan['vips'][number]) => {
      const err = this.announcers.get(vip.dev)?.announce(vip.address);
      if (err) this.counters.announceErrors++;
    };
    if (plan.garpIntervalMs <= 0 || packets.length <= 1) {
      for (const vip of packets) send(vip);
      return;
    }
    let timers = this.paced.get(plan.name);
    if (!timers) this.paced.set(plan.name, (timers = new Set()));
    const pending = timers;
    let next = 0;
    const step = () => {
      send(packets[next++]!);
      if (next >= packets.length) return;
      const t = setTimeout(() => {
        pending.delete(t);
        step();
      }, plan.garpIntervalMs);
      pending.add(t);
    };
    step();
  }

  private cancelAnnouncements(instance: string): void {
    const timers = this.paced.get(instance);
    if (!timers) return;
    for (const t of timers) clearTimeout(t);
    this.paced.delete(instance);
  }
}

export function toNetVip(v: InstancePlan['vips'][number]): Vip {
  return {
    address: v.address,
    prefixLength: v.prefix,
    family: v.family === 'ipv6' ? 6 : 4,
    ifname: v.dev,
    ...(v.label !== undefined ? { label: v.label } : {}),
  };
}

function socketSpec(plans: InstancePlan[], key: string, own: ReadonlyMap<string, string[]>): string {
  const users = plans.filter((p) => socketKeys(p).includes(key));
  if (users.length === 0) return '';
  const groups = [...new Set(users.filter((p) => !p.unicast).map((p) => p.multicastGroup))].sort();
  const peers = groups.length > 0 ? [] : users[0]!.destinations;
  return JSON.stringify([groups, peers, own.get(users[0]!.interface) ?? []]);
}

/** A socket that failed this many times in a row (sends, receives) is broken: its instances go to FAULT. */
export const SOCKET_FAULT_AFTER = 3;

/**
 * Errors that say nothing about the socket: a full buffer, an interrupted call, and the link
 * down (ENETDOWN, ENODEV, ENXIO: the link monitor puts the instances in FAULT for that, and lifts
 * it when the link is back).
 */
const TRANSIENT = new Set(['EAGAIN', 'EWOULDBLOCK', 'ENOBUFS', 'EINTR', 'ENETDOWN', 'ENODEV', 'ENXIO']);

export interface SocketFault {
  /** "lan0/4", "lan0/6" or "lan0/ah". */
  key: string;
  ifname: string;
  /** "lan0: VRRP socket (IPv4)". */
  what: string;
  /** The last error, with its call and errno ("sendmsg EPERM (Operation not permitted)"). */
  error: string;
  errno: string;
  /** Failures in a row. */
  count: number;
}

function socketKey(ifname: string, family: Family): string {
  return `${ifname}/${family}`;
}

function ahKey(ifname: string): string {
  return `${ifname}/ah`;
}

/** The sockets an instance sends and receives on ("lan0/4", plus "lan0/ah" with auth_type AH). */
export function socketKeys(plan: InstancePlan): string[] {
  const plain = socketKey(plan.interface, plan.family);
  return plan.ahKey ? [plain, ahKey(plan.interface)] : [plain];
}

function pickReceive(sock: VrrpSocket): SocketReceive {
  const c = sock.counters;
  return { read: c.read, droppedOwn: c.droppedOwn, droppedIpHeader: c.droppedIpHeader, kernelDrops: c.kernelDrops, receiveErrors: c.receiveErrors, rcvbuf: 0 };
}

/**
 * Runs an open and prefixes its error with what was being opened, keeping the errno and the call
 * ("lan0: VRRP socket (IPv4): setsockopt IP_MULTICAST_IF ENOPROTOOPT (Protocol not available)").
 */
function openNamed<T>(what: string, open: () => T): T {
  try {
    return open();
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    const e = err as Error & { code?: string; syscall?: string };
    throw Object.assign(new Error(`${what}: ${e.message}`, { cause: err }), { code: e.code, syscall: e.syscall });
  }
}
