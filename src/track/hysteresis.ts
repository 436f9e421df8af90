/**
 * keepalived's rise/fall for a check, with no clock and no I/O: `rise` consecutive successes
 * make a down check up, `fall` consecutive failures make an up check down. A result that agrees
 * with the current state resets the opposite streak, so one good run between failures restarts
 * the count (keepalived vrrp_script behaves the same way).
 *
 * The state is unknown until the first result, which decides at once: a daemon that starts must
 * not wait rise x interval before it knows anything. Pass `initial` to start from a known state
 * (upstream servers start up: Nginx already sends to them).
 */
export class Hysteresis {
  private current: boolean | undefined;
  private streak = 0;

  constructor(
    readonly rise: number,
    readonly fall: number,
    initial?: boolean,
  ) {
    if (!(rise >= 1 && fall >= 1)) throw new Error(`rise and fall must be >= 1 (got ${rise}/${fall})`);
    this.current = initial;
  }

  get state(): boolean | undefined {
    return this.current;
  }

  /** Consecutive results against the current state so far (0 when the last result agreed). */
  get pending(): number {
    return this.streak;
  }

  /** Feeds one result; returns true when the state changed (including unknown -> known). */
  feed(ok: boolean): boolean {
    if (this.current === undefined) {
      this.current = ok;
      this.streak = 0;
      return true;
    }
    if (ok === this.current) {
      this.streak = 0;
      return false;
    }
    this.streak++;
    if (this.streak >= (ok ? this.rise : this.fall)) {
      this.current = ok;
      this.streak = 0;
      return true;
    }
    return false;
  }
}
