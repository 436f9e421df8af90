// Sends VIP announcements (gratuitous ARP for IPv4, unsolicited NA for IPv6) on one interface
// through an AF_PACKET socket. Each send is one non-blocking syscall: no arping child, nothing
// awaited (arping -U blocks about a second).
import { familyOf } from '../lib/ip';
import { type GarpKind, buildGratuitousArp } from './arp';
import { type NativeError, type NativeHandle, inNetns, isNativeError, loadAddon } from './native';
import { buildUnsolicitedNa } from './ndisc';

export interface AnnouncerOptions {
  ifname: string;
  mac: string;
  netns?: string;
  arpKind?: GarpKind;
  /** NA router flag (set on a forwarding gateway). */
  router?: boolean;
}

export interface AnnouncerCounters {
  garpSent: number;
  naSent: number;
  errors: number;
}

export class Announcer {
  readonly ifname: string;
  readonly counters: AnnouncerCounters = { garpSent: 0, naSent: 0, errors: 0 };
  private handle: NativeHandle | null;
  private readonly opts: AnnouncerOptions;

  private constructor(opts: AnnouncerOptions, handle: NativeHandle) {
    this.ifname = opts.ifname;
    this.opts = opts;
    this.handle = handle;
  }

  /** Throws NativeError when the packet socket cannot be opened (EPERM without CAP_NET_RAW). */
  static open(opts: AnnouncerOptions): Announcer {
    const addon = loadAddon();
    const handle = inNetns(opts.netns, () => addon.openPacket(opts.ifname));
    return new Announcer(opts, handle);
  }

  /** One announcement for `vip` (either family). Returns the error, or null when sent. */
  announce(vip: string): NativeError | null {
    if (!this.handle) return Object.assign(new Error('announcer closed'), { code: 'EBADF' });
    const family = familyOf(vip);
    if (!family) throw new TypeError(`bad VIP ${JSON.stringify(vip)}`);
    const frame =
      family === 4
        ? buildGratuitousArp(this.opts.mac, vip, this.opts.arpKind ?? 'request')
        : buildUnsolicitedNa({ mac: this.opts.mac, target: vip, router: this.opts.router ?? false });
    try {
      loadAddon().sendFrame(this.handle, frame);
      if (family === 4) this.counters.garpSent++;
      else this.counters.naSent++;
      return null;
    } catch (e) {
      this.counters.errors++;
      if (isNativeError(e)) return e;
      throw e;
    }
  }

  close(): void {
    if (!this.handle) return;
    loadAddon().close(this.handle);
    this.handle = null;
  }
}
