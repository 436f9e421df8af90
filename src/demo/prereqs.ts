// What the demo needs on the machine, checked before anything is created, with the fix named.

import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Tool {
  name: string;
  /** Debian package that provides it. */
  pkg: string;
}

export const TOOLS: readonly Tool[] = [
  { name: 'ip', pkg: 'iproute2' },
  { name: 'bridge', pkg: 'iproute2' },
  { name: 'socat', pkg: 'socat' },
  { name: 'nginx', pkg: 'nginx' },
  { name: 'mosquitto', pkg: 'mosquitto' },
];

/** Absolute path of `name` on PATH or in the sbin directories (root's PATH may lack them). */
export function findTool(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/local/bin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next
    }
  }
  return undefined;
}

export type Prereqs = { ok: true; paths: Record<string, string> } | { ok: false; problems: string[] };

export function checkPrereqs(env: NodeJS.ProcessEnv = process.env): Prereqs {
  const problems: string[] = [];
  if (process.getuid?.() !== 0) {
    problems.push('must run as root: it creates network namespaces, veth links and a bridge (try: sudo make demo)');
  }
  const paths: Record<string, string> = {};
  const missing: Tool[] = [];
  for (const t of TOOLS) {
    const p = findTool(t.name, env);
    if (p) paths[t.name] = p;
    else missing.push(t);
  }
  if (missing.length > 0) {
    const pkgs = [...new Set(missing.map((t) => t.pkg))].join(' ');
    problems.push(`missing: ${missing.map((t) => t.name).join(', ')} — install with: apt-get install ${pkgs} (or run: make deps-system)`);
  }
  return problems.length === 0 ? { ok: true, paths } : { ok: false, problems };
}
