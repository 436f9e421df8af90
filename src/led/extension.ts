// The status LED feature (node.status_led, by default the board's `status_led`): shows the
// box's role at a glance — MASTER on, BACKUP slow blink, FAULT fast blink, off when stopped.
// Follows the instances' transitions and the daemon's health; an LED that cannot be written is
// logged once (with the file and the errno) and counted, never a reason to stop the daemon.
import type { DaemonContext, Extension } from '../daemon/extension';
import type { FeatureStatus } from '../daemon/status';
import type { SubsystemLogger } from '../log';
import { ledPattern, type LedPattern } from './pattern';
import { SysfsLed } from './sysfs-led';

/** Re-evaluated this often besides on every transition (health changes have no event of their own). */
const REVIEW_MS = 2000;

export class LedExtension implements Extension {
  readonly name = 'led';
  private led: SysfsLed | undefined;
  private log: SubsystemLogger | undefined;
  private ctx: DaemonContext | undefined;
  private shown: LedPattern | undefined;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  private readonly unregister: (() => void)[] = [];
  private readonly counts = { writes: 0, write_errors: 0 };

  start(ctx: DaemonContext): void {
    const dir = ctx.config.node.status_led;
    if (!dir) return;
    this.ctx = ctx;
    this.log = ctx.logger.for('daemon');
    this.led = new SysfsLed(dir);
    this.unregister.push(ctx.bus.on('transition', () => this.review()));
    this.unregister.push(ctx.bus.on('alarm', () => this.review()));
    this.unregister.push(ctx.counters.add('led', () => ({ ...this.counts })));
    this.timer = setInterval(() => this.review(), REVIEW_MS);
    this.timer.unref();
    this.log.info(`status LED ${dir}: MASTER on, BACKUP slow blink, FAULT fast blink`);
    this.review();
  }

  featureStatus(): FeatureStatus | undefined {
    if (!this.led) return undefined;
    return this.lastError ? { state: 'degraded', detail: this.lastError } : { state: 'running', detail: `${this.led.dir}: ${this.shown ?? 'starting'}` };
  }

  async stop(): Promise<void> {
    for (const u of this.unregister.splice(0)) u();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.led) this.show('off');
    await this.writing;
    this.led = undefined;
  }

  private review(): void {
    const ctx = this.ctx;
    if (!ctx || !this.led) return;
    const s = ctx.status();
    this.show(ledPattern(s.instances.map((i) => i.state), s.health.state !== 'ok'));
  }

  /** Writes are serialised; a pattern equal to the one shown is not written again. */
  private show(p: LedPattern): void {
    if (p === this.shown) return;
    this.shown = p;
    const led = this.led!;
    this.writing = this.writing.then(async () => {
      try {
        await led.show(p);
        this.counts.writes++;
        if (this.lastError) this.log?.info(`status LED ${led.dir} writable again`);
        this.lastError = undefined;
      } catch (err) {
        this.counts.write_errors++;
        const msg = (err as Error).message;
        if (msg !== this.lastError) this.log?.warn(msg);
        this.lastError = msg;
        // Try again at the next review.
        this.shown = undefined;
      }
    });
  }
}
