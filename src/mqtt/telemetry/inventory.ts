import { readFile } from 'node:fs/promises';
import { arch, cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';

export type Inventory = Record<string, unknown>;

/**
 * The box's slow-changing inventory, read once at start-up straight from the kernel's files,
 * asynchronously: the board's model from the device tree (`/proc/device-tree/model`, every ARM
 * board) or DMI (`/sys/class/dmi/id/*`, x86 and UEFI arm64), the OS from `/etc/os-release`, the
 * rest from node:os. No systeminformation: its osInfo()/system()/cpu() run execSync and spawn
 * processes (DESIGN.md pitfalls), and the appliance tarball does not ship it (README: Appliance
 * image). Never rejects; a file that cannot be read leaves its field out.
 *
 * `root` is the filesystem root the paths are read under ("/" on the box; a fake tree in tests).
 */
export async function collectInventory(root = '/'): Promise<Inventory> {
  const read = async (path: string): Promise<string | undefined> => {
    try {
      // Device-tree strings end in NUL; DMI values end in a newline; unset DMI fields read as
      // placeholders that name nothing.
      const v = (await readFile(join(root, path), 'utf8')).replace(/\0+$/, '').trim();
      return v === '' || /^(to be filled by o\.e\.m\.|default string|not specified|none)$/i.test(v) ? undefined : v;
    } catch {
      return undefined;
    }
  };
  const [dtModel, dtSerial, dmiVendor, dmiProduct, dmiBoard, dmiSerial, osRelease] = await Promise.all([
    read('proc/device-tree/model'),
    read('proc/device-tree/serial-number'),
    read('sys/class/dmi/id/sys_vendor'),
    read('sys/class/dmi/id/product_name'),
    read('sys/class/dmi/id/board_name'),
    read('sys/class/dmi/id/product_serial'),
    read('etc/os-release'),
  ]);
  const osr = parseOsRelease(osRelease ?? '');
  const cpu = cpus();
  const system = compact({
    manufacturer: dtModel ? undefined : dmiVendor,
    model: dtModel ?? dmiProduct,
    board: dtModel ? undefined : dmiBoard,
    serial: dtSerial ?? dmiSerial,
  });
  return {
    ...(Object.keys(system).length > 0 ? { system } : {}),
    os: compact({ distro: osr.PRETTY_NAME ?? osr.NAME, release: osr.VERSION_ID, kernel: release(), arch: arch(), hostname: hostname() }),
    cpu: compact({ brand: cpu[0]?.model, cores: cpu.length }),
    memory: { total_bytes: totalmem() },
    source: dtModel ? 'device-tree' : dmiProduct || dmiVendor ? 'dmi' : 'node:os',
  };
}

/** os-release(5): KEY=value lines, values optionally quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (!m) continue;
    out[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2').replace(/\\(["\\$`])/g, '$1');
  }
  return out;
}

function compact(o: Record<string, string | number | undefined>): Record<string, string | number> {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== ''));
}
