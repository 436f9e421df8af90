// Passive RFC 5227 ongoing address-conflict detection (section 2.4): a receiving AF_PACKET socket
// per interface whose BPF filter (bpf.ts) lets the kernel queue only ARP whose sender address is
// one of ours, so an idle LAN wakes the daemon for nothing and a box sends nothing. Every frame that
// passes is a sighting: some MAC says it has one of our addresses (a host that announces or
// uses it; replies to our own on-demand probes pass too). Telling our own MAC and the twin's
// apart is the caller's (it knows the NICs and the twin).
//
// Threat model: any LAN host can send ARP. Frames for other addresses never leave the kernel;
// frames for ours are read at most `maxPerSecond` a second: above that the socket is closed for
// `pauseMs` (the kernel then drops them), counted in `floods`. The receive buffer is small, so a
// burst queues little. The socket is the main thread's: a flood costs the HA thread nothing.
import { isNativeError, loadAddon, type NativeError, type NativeHandle, type TwinvipNetAddon } from './native';
import { arpSenderFilter, encodeBpf } from './bpf';
import { ETH_P_ARP, parseArpFrame, type ArpPacket } from './arp';

export interface ArpSighting extends ArpPacket {
  interface: string;
  /** performance.now() of the read. */
  at: number;
}

export interface ArpWatchOptions {
  addon?: Pick<TwinvipNetAddon, 'openPacket' | 'setFilter' | 'recvStart' | 'close'>;
  maxPerSecond?: number;
  pauseMs?: number;
  now?: () => number;
}

/** Receive buffer asked for: a few dozen ARP frames. */
const RCVBUF = 16 * 1024;

export class ArpWatch {
  private handle: NativeHandle | undefined;
  private addresses: string[] = [];
  private windowAt = 0;
  private inWindow = 0;
  private pauseTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** The last reason the socket could not be opened or read ("" = none). */
  error = '';
  readonly counters = { frames: 0, floods: 0, errors: 0 };
  private readonly addon: NonNullable<ArpWatchOptions['addon']>;
  private readonly maxPerSecond: number;
  private readonly pauseMs: number;
  private readonly now: () => number;

  constructor(
    readonly ifname: string,
    private readonly onSighting: (s: ArpSighting) => void,
    o: ArpWatchOptions = {},
  ) {
    this.addon = o.addon ?? loadAddon();
    this.maxPerSecond = o.maxPerSecond ?? 50;
    this.pauseMs = o.pauseMs ?? 5000;
    this.now = o.now ?? (() => performance.now());
  }

  /** The addresses watched (IPv4; others are ignored): the filter is replaced when they change. */
  setAddresses(ips: readonly string[]): void {
    const next = [...new Set(ips.filter((ip) => !ip.includes(':')))].sort();
    if (this.closed || (next.join() === this.addresses.join() && (this.handle || this.pauseTimer || next.length === 0))) return;
    this.addresses = next;
    if (this.pauseTimer) return;
    if (next.length === 0) return this.closeSocket();
    const filter = encodeBpf(arpSenderFilter(next));
    try {
      if (this.handle) this.addon.setFilter(this.handle, filter);
      else this.open(filter);
      this.error = '';
    } catch (err) {
      this.fail(err);
    }
  }

  close(): void {
    this.closed = true;
    if (this.pauseTimer) clearTimeout(this.pauseTimer);
    this.pauseTimer = undefined;
    this.closeSocket();
  }

  private open(filter: Uint8Array): void {
    const h = this.addon.openPacket(this.ifname, ETH_P_ARP, filter, RCVBUF);
    this.handle = h;
    this.addon.recvStart(h, (err: NativeError | null, frame?: Buffer) => {
      if (err) {
        // ENETDOWN while the link is down: reading goes on once it is up again.
        if (err.code !== 'ENETDOWN') this.fail(err);
        return;
      }
      if (frame) this.frame(frame);
    });
  }

  private frame(frame: Buffer): void {
    const now = this.now();
    if (now - this.windowAt >= 1000) {
      this.windowAt = now;
      this.inWindow = 0;
    }
    if (++this.inWindow > this.maxPerSecond) {
      // A flood of ARP for our addresses: stop reading for a while (the kernel drops it).
      this.counters.floods++;
      this.closeSocket();
      this.pauseTimer = setTimeout(() => {
        this.pauseTimer = undefined;
        const ips = this.addresses;
        this.addresses = [];
        this.setAddresses(ips);
      }, this.pauseMs);
      this.pauseTimer.unref();
      return;
    }
    this.counters.frames++;
    const p = parseArpFrame(frame);
    if (p && this.addresses.includes(p.senderIp)) this.onSighting({ ...p, interface: this.ifname, at: now });
  }

  private fail(err: unknown): void {
    this.counters.errors++;
    this.error = isNativeError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
    this.closeSocket();
  }

  private closeSocket(): void {
    if (!this.handle) return;
    try {
      this.addon.close(this.handle);
    } catch {
      // already closed
    }
    this.handle = undefined;
  }
}
