import { Hysteresis } from './hysteresis';
import type { Probe, ProbeResult } from './probes';
import { TrackEmitter, type TrackListener, type TrackSource } from './source';

export interface CheckRunnerOptions {
  name: string;
  probe: Probe;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  /** Known state at start (upstream servers start up); default unknown. */
  initial?: boolean;
  now?: () => number;
}

export interface CheckCounters {
  runs: number;
  failures: number;
  timeouts: number;
  transitions: number;
}

/**
 * Runs a probe every interval with a timeout and turns results into up/down transitions with
 * rise/fall (Hysteresis). Runs never overlap: the next one starts an interval after the previous
 * one started, or at once when a run took longer (it cannot, the timeout bounds it).
 */
export class CheckRunner implements TrackSource {
  readonly name: string;
  readonly counters: CheckCounters = { runs: 0, failures: 0, timeouts: 0, transitions: 0 };
  private readonly hysteresis: Hysteresis;
  private readonly emitter = new TrackEmitter();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private running = false;
  private last: ProbeResult | undefined;
  private lastAt = 0;

  constructor(private readonly opts: CheckRunnerOptions) {
    this.name = opts.name;
    this.hysteresis = new Hysteresis(opts.rise, opts.fall, opts.initial);
    this.now = opts.now ?? Date.now;
  }

  get up(): boolean | undefined {
    return this.hysteresis.state;
  }

  get lastResult(): (ProbeResult & { at: number }) | undefined {
    return this.last ? { ...this.last, at: this.lastAt } : undefined;
  }

  /** Failures (or successes) in a row against the current state. */
  get pending(): number {
    return this.hysteresis.pending;
  }

  on(listener: TrackListener): () => void {
    return this.emitter.on(listener);
  }

  /** Starts running; the first run is immediate. */
  start(): void {
    if (this.running) return;
    this.running = true;
    void this.runOnce();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
  }

  private async runOnce(): Promise<void> {
    if (!this.running) return;
    const started = this.now();
    const abort = new AbortController();
    this.abort = abort;
    let timedOut = false;
    const timeout = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, this.opts.timeoutMs);
    let result: ProbeResult;
    try {
      result = await this.opts.probe(abort.signal);
    } catch (err) {
      result = { ok: false, detail: `probe failed: ${err instanceof Error ? err.message : String(err)}` };
    } finally {
      clearTimeout(timeout);
    }
    if (!this.running) return;
    if (timedOut && result.ok) result = { ok: false, detail: `${result.detail} (after the ${this.opts.timeoutMs} ms timeout)` };
    this.record(result, timedOut);
    const elapsed = this.now() - started;
    this.timer = setTimeout(() => void this.runOnce(), Math.max(0, this.opts.intervalMs - elapsed));
  }

  private record(result: ProbeResult, timedOut: boolean): void {
    this.counters.runs++;
    if (!result.ok) this.counters.failures++;
    if (timedOut) this.counters.timeouts++;
    this.last = result;
    this.lastAt = this.now();
    const before = this.hysteresis.state;
    if (!this.hysteresis.feed(result.ok)) return;
    this.counters.transitions++;
    const up = result.ok;
    const streak = up ? this.opts.rise : this.opts.fall;
    const cause = before === undefined ? result.detail : `${result.detail} (${streak} ${up ? 'success' : 'failure'}${streak > 1 ? (up ? 'es' : 's') : ''} in a row)`;
    this.emitter.emit({ name: this.name, up, cause, at: this.lastAt });
  }
}
