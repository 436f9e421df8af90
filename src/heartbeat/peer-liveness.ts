// When is a channel from the peer silent? Serial: after `deadPeriods` heartbeat periods without
// an accepted frame. Ethernet: after one advert interval plus a small margin without an advert —
// deliberately not RFC 3768 §6.1's Master_Down_Interval (3 x interval + skew), because the
// arbiter only declares the peer dead when the serial channel agrees (DESIGN.md decision table).

export interface SerialLivenessOptions {
  periodMs: number;
  deadPeriods: number;
}

export const DEFAULT_SERIAL_PERIOD_MS = 100;
export const DEFAULT_DEAD_PERIODS = 5;
export const DEFAULT_ETHERNET_MARGIN_MS = 200;

export function serialDeadMs(o: SerialLivenessOptions): number {
  return o.periodMs * o.deadPeriods;
}

export function ethernetDeadMs(advertIntervalCs: number, marginMs: number): number {
  return advertIntervalCs * 10 + marginMs;
}

/** One channel's last-heard time and its silence deadline. Times are ms from any monotonic origin. */
export class ChannelLiveness {
  private lastHeard: number | null = null;

  /** `since` stands in for "last heard" before anything was heard, so silence is measured from start. */
  constructor(private deadMs: number, private readonly since: number) {}

  heard(now: number): void {
    this.lastHeard = now;
  }

  setDeadMs(ms: number): void {
    this.deadMs = ms;
  }

  get everHeard(): boolean {
    return this.lastHeard !== null;
  }

  get lastHeardAt(): number | null {
    return this.lastHeard;
  }

  /** Last heard, or the start when nothing was heard yet. */
  lastEvidence(): number {
    return this.lastHeard ?? this.since;
  }

  /** The moment the channel is (or was) declared silent. */
  deadline(): number {
    return (this.lastHeard ?? this.since) + this.deadMs;
  }

  isSilent(now: number): boolean {
    return now >= this.deadline();
  }
}
