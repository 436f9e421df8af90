// Running the arm64 tarball's own Node.js and twinvip on this machine: natively on an arm64 host,
// else under qemu-user (no binfmt_misc needed: qemu-aarch64 runs node directly, the arm64 glibc
// comes from libc6-dev-arm64-cross in /usr/aarch64-linux-gnu). Shared by rootfs-arm64.test.ts and
// arm64-pair.test.ts.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HOST_ARCH } from './tarball';

export const QEMU = ['/usr/bin/qemu-aarch64-static', '/usr/bin/qemu-aarch64'].find((p) => existsSync(p));
export const SYSROOT = '/usr/aarch64-linux-gnu';

/** Why the arm64 node cannot run here, or undefined when it can. */
export function arm64Missing(): string | undefined {
  if (HOST_ARCH === 'arm64') return undefined;
  if (!QEMU) return 'qemu-user-static (or qemu-user) is not installed: run make deps-system';
  if (!existsSync(join(SYSROOT, 'lib', 'ld-linux-aarch64.so.1'))) return `no arm64 glibc in ${SYSROOT}: install libc6-dev-arm64-cross (make deps-system)`;
  return undefined;
}

/**
 * What the unpacked tarball's launcher (opt/twinvip/bin/twinvip) runs after its node: the runtime
 * flags (scripts/node-flags.mjs) and the bundle. Read from the launcher so it cannot drift.
 */
export function launcherArgs(root: string): string[] {
  const text = readFileSync(join(root, 'opt/twinvip/bin/twinvip'), 'utf8');
  const m = /^exec "\$here\/\.\.\/runtime\/node" ((?:--[\w-]+(?:=\S+)? )*)"\$here\/\.\.\/lib\/twinvip\.js" "\$@"$/m.exec(text);
  if (!m) throw new Error(`the launcher's exec line is not the expected one:\n${text}`);
  return [...m[1]!.split(' ').filter(Boolean), join(root, 'opt/twinvip/lib/twinvip.js')];
}

/** The command and arguments that run the arm64 node of the unpacked tarball at `root` with `args`. */
export function arm64Node(root: string, args: string[]): [string, string[]] {
  const node = join(root, 'opt/twinvip/runtime/node');
  return HOST_ARCH === 'arm64' ? [node, args] : [QEMU!, ['-L', SYSROOT, node, ...args]];
}

/** `twinvip ARGS` as the unpacked arm64 tarball at `root` runs it (its launcher's node and flags). */
export function arm64Twinvip(root: string, args: string[]): [string, string[]] {
  return arm64Node(root, [...launcherArgs(root), ...args]);
}
