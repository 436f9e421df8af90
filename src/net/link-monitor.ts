// Link up/down of chosen interfaces from rtnetlink events (RTMGRP_LINK), not polling. The
// initial state comes from an rtnetlink dump (interfaces.ts readInterfaces); an event overflow (ENOBUFS) triggers a re-read, so a
// lost event cannot leave a stale state.
import { readInterfaces } from './interfaces';
import { type NativeError, type NativeHandle, inNetns, loadAddon } from './native';
import { decodeLinkMessages } from './netlink-link';

export interface LinkState {
  ifname: string;
  ifindex: number;
  up: boolean;
  operstate: string;
}

export interface LinkMonitorOptions {
  ifnames: readonly string[];
  netns?: string;
  /** Called on every change of `up` (and when an interface appears or disappears). */
  onChange: (state: LinkState, previous: LinkState | undefined) => void;
  onError?: (error: NativeError | Error) => void;
}

export interface LinkMonitorCounters {
  events: number;
  malformed: number;
  resyncs: number;
}

export class LinkMonitor {
  readonly counters: LinkMonitorCounters = { events: 0, malformed: 0, resyncs: 0 };
  private readonly states = new Map<string, LinkState>();
  private handle: NativeHandle | null = null;
  private readonly watched: Set<string>;
  /** Bumped per interface on every event, so an older `ip` read never overwrites it. */
  private readonly generation = new Map<string, number>();

  private constructor(private readonly opts: LinkMonitorOptions) {
    this.watched = new Set(opts.ifnames);
  }

  /** Subscribes first, then reads the initial state (so no change falls between the two). */
  static async start(opts: LinkMonitorOptions): Promise<LinkMonitor> {
    const m = new LinkMonitor(opts);
    const addon = loadAddon();
    const handle = inNetns(opts.netns, () => addon.openLinkEvents());
    m.handle = handle;
    addon.recvStart(handle, (err: NativeError | null, datagram?: Buffer) => m.onDatagram(err, datagram));
    await m.resync(false);
    return m;
  }

  state(ifname: string): LinkState | undefined {
    return this.states.get(ifname);
  }

  all(): LinkState[] {
    return [...this.states.values()];
  }

  stop(): void {
    if (!this.handle) return;
    loadAddon().close(this.handle);
    this.handle = null;
  }

  private async resync(notify: boolean): Promise<void> {
    const gens = new Map([...this.watched].map((ifname) => [ifname, this.generation.get(ifname) ?? 0]));
    const infos = await readInterfaces([...this.watched], this.opts.netns ? { netns: this.opts.netns } : {});
    for (const [ifname, info] of infos) {
      if (!this.handle || (this.generation.get(ifname) ?? 0) !== gens.get(ifname)) continue;
      const next: LinkState = info.ok
        ? { ifname, ifindex: info.value.ifindex, up: info.value.linkUp, operstate: info.value.operstate }
        : { ifname, ifindex: 0, up: false, operstate: 'NOTPRESENT' };
      this.apply(next, notify);
    }
  }

  private apply(next: LinkState, notify: boolean): void {
    const prev = this.states.get(next.ifname);
    this.states.set(next.ifname, next);
    if (notify && (!prev || prev.up !== next.up)) this.opts.onChange(next, prev);
  }

  private onDatagram(err: NativeError | null, datagram: Buffer | undefined): void {
    if (err) {
      this.opts.onError?.(err);
      if (err.code === 'ENOBUFS') {
        this.counters.resyncs++;
        void this.resync(true);
      }
      return;
    }
    if (!datagram) return;
    const d = decodeLinkMessages(datagram);
    this.counters.malformed += d.malformed;
    for (const ev of d.events) {
      const known = [...this.states.values()].find((s) => s.ifindex === ev.ifindex);
      const ifname = ev.ifname ?? known?.ifname;
      if (!ifname || !this.watched.has(ifname)) continue;
      this.counters.events++;
      this.generation.set(ifname, (this.generation.get(ifname) ?? 0) + 1);
      this.apply(
        {
          ifname,
          ifindex: ev.ifindex,
          up: ev.up,
          operstate: ev.kind === 'del' ? 'NOTPRESENT' : (ev.operstate ?? known?.operstate ?? 'UNKNOWN'),
        },
        true,
      );
    }
  }
}
