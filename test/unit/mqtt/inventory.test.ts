import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectInventory, parseOsRelease } from '../../../src/mqtt/telemetry/inventory';

const roots: string[] = [];
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'tv-inv-'));
  roots.push(root);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';

describe('inventory from the kernel\'s files (no systeminformation)', () => {
  it('an ARM board: the model and serial from the device tree (NUL-terminated strings)', async () => {
    const root = tree({ 'proc/device-tree/model': 'Raspberry Pi 4 Model B Rev 1.5\0', 'proc/device-tree/serial-number': '10000000abcdef01\0', 'etc/os-release': OS_RELEASE });
    const inv = await collectInventory(root);
    expect(inv.system).toEqual({ model: 'Raspberry Pi 4 Model B Rev 1.5', serial: '10000000abcdef01' });
    expect(inv.os).toMatchObject({ distro: 'Debian GNU/Linux 12 (bookworm)', release: '12' });
    expect(inv.source).toBe('device-tree');
  });
  it('an x86 or UEFI box: vendor, product and board from DMI, placeholders left out', async () => {
    const root = tree({
      'sys/class/dmi/id/sys_vendor': 'PC Engines\n',
      'sys/class/dmi/id/product_name': 'apu2\n',
      'sys/class/dmi/id/board_name': 'To be filled by O.E.M.\n',
    });
    const inv = await collectInventory(root);
    expect(inv.system).toEqual({ manufacturer: 'PC Engines', model: 'apu2' });
    expect(inv.source).toBe('dmi');
  });
  it('nothing readable: node:os facts only, never a rejection', async () => {
    const inv = await collectInventory(tree({}));
    expect(inv.system).toBeUndefined();
    expect(inv.source).toBe('node:os');
    expect((inv.memory as { total_bytes: number }).total_bytes).toBeGreaterThan(0);
    expect((inv.os as { kernel: string }).kernel).toMatch(/^\d/);
  });
  it('parses os-release quoting', () => {
    expect(parseOsRelease('A="x \\"y\\""\nB=\'z\'\nC=plain\n# comment\n')).toEqual({ A: 'x "y"', B: 'z', C: 'plain' });
  });
});
