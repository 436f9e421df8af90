// Is a heartbeat current? An authenticated, in-order heartbeat can still be old: bytes that sat in
// a tty, socat or USB-adapter buffer while nobody read them arrive later as a burst, and must not
// count as proof that the peer lives *now*. The boxes share no clock, but each heartbeat carries
// the sender's monotonic uptime: (our time - peer uptime) is constant for frames delivered
// promptly and grows by the delay for held-back ones. The smallest offset seen is the baseline;
// a frame more than `toleranceMs` above it is stale. The baseline may creep up by DRIFT_PPM of the
// elapsed time, so crystal drift between the boxes (tens of ppm) never ages frames.

const DRIFT_PPM = 1000;

export class FreshnessFilter {
  private bootId: string | null = null;
  private baseline = 0;
  private lastAt = 0;
  /**
   * How much later than the promptest one the last checked heartbeat arrived (ms, 0 for a prompt
   * one): `now - lastDelayMs` estimates when the peer sent it, on our clock (plus the line's
   * transit time). The stall gate uses it to tell frames sent after it woke from buffered ones.
   */
  lastDelayMs = 0;

  constructor(private readonly toleranceMs: number) {}

  /** True when the heartbeat is current; records it either way. */
  check(bootId: string, peerUptimeMs: number, now: number): boolean {
    const offset = now - peerUptimeMs;
    if (bootId !== this.bootId) {
      this.bootId = bootId;
      this.baseline = offset;
      this.lastAt = now;
      this.lastDelayMs = 0;
      return true;
    }
    const creep = ((now - this.lastAt) * DRIFT_PPM) / 1e6;
    this.lastAt = now;
    if (offset <= this.baseline) {
      this.baseline = offset;
      this.lastDelayMs = 0;
      return true;
    }
    this.baseline = Math.min(offset, this.baseline + creep);
    this.lastDelayMs = offset - this.baseline;
    return offset - this.baseline <= this.toleranceMs;
  }
}
