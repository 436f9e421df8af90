// The status LED: the pattern for each state, and what is written to a LED class directory.
// The sysfs directory here is a FAKE: plain files in a temp dir standing in for
// /sys/class/leds/<name> (brightness, max_brightness, trigger) — the one mock the project allows
// (GPIO/LED/watchdog hardware does not exist on the test machines). It cannot show the kernel's
// side (delay_on/delay_off appearing once `timer` is selected); the writes and their order are
// what is checked.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ledPattern } from '../../../src/led/pattern';
import { SysfsLed } from '../../../src/led/sysfs-led';
import { applyBoard, type BoardCatalog } from '../../../src/config/board';
import { makeTempDir, type TempDir } from '../../helpers/tmp';

let tmp: TempDir | undefined;
afterEach(() => tmp?.remove());

function fakeLed(max = '255'): string {
  tmp = makeTempDir('tv-led-');
  const dir = join(tmp.path, 'sys/class/leds/status');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'brightness'), '0\n');
  writeFileSync(join(dir, 'max_brightness'), `${max}\n`);
  writeFileSync(join(dir, 'trigger'), '[none] timer heartbeat default-on\n');
  return dir;
}

const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8');

describe('status LED pattern', () => {
  it.each([
    [['MASTER'], false, 'on'],
    [['MASTER', 'BACKUP'], false, 'on'],
    [['BACKUP'], false, 'slow-blink'],
    [['BACKUP', 'FAULT'], false, 'fast-blink'],
    [['MASTER'], true, 'fast-blink'],
    [['INIT'], false, 'off'],
    [[], false, 'off'],
  ] as const)('%j degraded %s -> %s', (states, degraded, want) => {
    expect(ledPattern(states, degraded)).toBe(want);
  });
});

describe('SysfsLed against a fake sysfs directory', () => {
  it('MASTER: trigger none, brightness max_brightness; off: brightness 0', async () => {
    const dir = fakeLed('255');
    const led = new SysfsLed(dir);
    await led.show('on');
    expect(read(dir, 'trigger')).toBe('none');
    expect(read(dir, 'brightness')).toBe('255');
    await led.show('off');
    expect(read(dir, 'brightness')).toBe('0');
  });

  it('BACKUP slow and FAULT fast blink through the kernel timer trigger', async () => {
    const dir = fakeLed();
    const led = new SysfsLed(dir);
    await led.show('slow-blink');
    expect([read(dir, 'trigger'), read(dir, 'delay_on'), read(dir, 'delay_off')]).toEqual(['timer', '1000', '1000']);
    await led.show('fast-blink');
    expect([read(dir, 'trigger'), read(dir, 'delay_on'), read(dir, 'delay_off')]).toEqual(['timer', '100', '100']);
  });

  it('a LED that is not there: the error names the file and the errno', async () => {
    const dir = fakeLed();
    const led = new SysfsLed(join(dir, 'missing'));
    await expect(led.show('on')).rejects.toThrow(/status LED \S+missing\/trigger: write 'none' failed \(ENOENT\)/);
  });
});

describe('board status LED', () => {
  const catalog = (led: unknown): BoardCatalog => ({
    dirs: ['/x'],
    names: () => ['b1'],
    get: () => ({ ok: true, board: { name: 'b1', interfaces: { lan: 'lan0' }, serial: {}, status_led: led as never } }),
  });

  it('node.status_led defaults to a sysfs-led board LED; the config wins; kind none gives none', () => {
    const a: Record<string, unknown> = { node: { board: 'b1' } };
    applyBoard(a, catalog({ kind: 'sysfs-led', path: '/sys/class/leds/ACT' }));
    expect((a.node as Record<string, unknown>).status_led).toBe('/sys/class/leds/ACT');
    const b: Record<string, unknown> = { node: { board: 'b1', status_led: '/sys/class/leds/mine' } };
    applyBoard(b, catalog({ kind: 'sysfs-led', path: '/sys/class/leds/ACT' }));
    expect((b.node as Record<string, unknown>).status_led).toBe('/sys/class/leds/mine');
    const c: Record<string, unknown> = { node: { board: 'b1' } };
    applyBoard(c, catalog({ kind: 'none' }));
    expect((c.node as Record<string, unknown>).status_led).toBeUndefined();
  });
});
