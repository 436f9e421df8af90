// The board's hardware watchdog becomes a systemd manager drop-in in the image (make rootfs
// BOARD=NAME; scripts/rootfs.mjs). Every shipped board is run through the generator.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-ignore -- a build script (plain ESM), typed by use here
import { DROPIN_PATH, watchdogDropIn } from '../../../scripts/watchdog-dropin.mjs';

const BOARDS = join(import.meta.dirname, '../../../board');
const boards = readdirSync(BOARDS).map((name) => JSON.parse(readFileSync(join(BOARDS, name, 'board.json'), 'utf8')) as { name: string; watchdog?: string | null });

describe('hardware watchdog drop-in', () => {
  it('goes to system.conf.d, where PID 1 reads it', () => {
    expect(DROPIN_PATH).toBe('etc/systemd/system.conf.d/60-twinvip-watchdog.conf');
  });

  it.each(boards.map((b) => [b.name, b] as const))('%s: its watchdog device, or no drop-in without one', (_name, board) => {
    const text = watchdogDropIn(board) as string | null;
    if (board.watchdog) {
      expect(text).toContain('[Manager]\n');
      expect(text).toContain(`\nWatchdogDevice=${board.watchdog}\n`);
      expect(text).toMatch(/\nRuntimeWatchdogSec=30s\n/);
      expect(text).toMatch(/\nRebootWatchdogSec=10min\n/);
      // Only comments and settings of the [Manager] section.
      for (const line of text!.split('\n').filter((l) => l && !l.startsWith('#') && l !== '[Manager]')) expect(line).toMatch(/^(WatchdogDevice|RuntimeWatchdogSec|RebootWatchdogSec)=\S+$/);
    } else {
      expect(text).toBeNull();
    }
  });

  it('the shipped arm64 boards have one; a bad device is refused by name', () => {
    expect(boards.filter((b) => b.watchdog).map((b) => b.name).sort()).toEqual(['generic-arm64', 'rpi4']);
    expect(() => watchdogDropIn({ name: 'x', watchdog: 'watchdog0' })).toThrow(/board x: "watchdog" must be a \/dev path/);
  });
});
