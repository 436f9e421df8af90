/**
 * Bounds how often the console complains (noise, unknown commands, over-long lines): under a
 * burst of garbage at 115200 baud an answer per bad line would flood the terminal and the serial
 * line for seconds. At most `burst` complaints per `windowMs`; the ones held back are counted and
 * reported with the next complaint that gets through. Time comes in as an argument.
 */
export class ComplaintLimiter {
  private windowStart = -Infinity;
  private used = 0;
  private held = 0;

  constructor(
    private readonly burst = 3,
    private readonly windowMs = 5000,
  ) {}

  /** Whether a complaint may be shown now; when not, it is counted as held back. */
  allow(now: number): boolean {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used < this.burst) {
      this.used++;
      return true;
    }
    this.held++;
    return false;
  }

  /** Complaints held back since the last call (to say "and N more"). */
  takeHeld(): number {
    const n = this.held;
    this.held = 0;
    return n;
  }
}
