// A Linux LED class device (/sys/class/leds/<name>): steady on/off through `brightness` with the
// `none` trigger, blinking through the kernel's `timer` trigger (`delay_on`/`delay_off` appear
// once it is selected), so the LED keeps blinking while the daemon sleeps or is busy.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BLINK, type LedPattern } from './pattern';

export class SysfsLed {
  private max: number | undefined;

  constructor(readonly dir: string) {}

  /** Writes the pattern; throws with the file and the errno when the LED cannot be driven. */
  async show(p: LedPattern): Promise<void> {
    if (p === 'off' || p === 'on') {
      await this.write('trigger', 'none');
      await this.write('brightness', p === 'off' ? '0' : String(await this.maxBrightness()));
      return;
    }
    const t = BLINK[p];
    await this.write('trigger', 'timer');
    await this.write('delay_on', String(t.onMs));
    await this.write('delay_off', String(t.offMs));
  }

  private async maxBrightness(): Promise<number> {
    if (this.max === undefined) {
      const text = await readFile(join(this.dir, 'max_brightness'), 'utf8').catch(() => '1');
      const n = Number.parseInt(text.trim(), 10);
      this.max = Number.isInteger(n) && n > 0 ? n : 1;
    }
    return this.max;
  }

  private async write(file: string, value: string): Promise<void> {
    const path = join(this.dir, file);
    try {
      // A sysfs attribute takes one write of the whole value; no temp file, no rename.
      await writeFile(path, value);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new Error(`status LED ${path}: write '${value}' failed (${code})`);
    }
  }
}
