/**
 * Which integration files create network namespaces, decided from the files themselves (no list
 * to keep up to date). vitest.config.ts splits the integration files by it:
 *
 *   integration        every file that creates a namespace (or may: a lab helper, unshare,
 *                      systemd-nspawn), one file at a time as the project's standard asks
 *   integration-local  the rest (ptys, loopback ports, brokers, nginx, tarballs), in its own
 *                      worker beside the first: `make test` runs the two at the same time
 *
 * A file belongs to `integration` when it, or any file it imports from test/ or bench/ (a value
 * import: `import type` and `{ type X }` do not run anything), contains one of NAMESPACE_CODE.
 * That is deliberately broad: importing the lab helper only for its prerequisites is enough, and a
 * wrong guess in that direction costs time, never the rule. The other direction is guarded twice:
 * test/unit/suite/integration-projects.test.ts checks this decision on fixtures and on every file
 * in the tree, and NetnsLab refuses to create a namespace in a worker of `integration-local`
 * (TWINVIP_TEST_NO_NETNS, set by that project), naming the file's way out.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

/** Code that creates a network namespace (or may: new namespaces of any kind, containers). */
export const NAMESPACE_CODE: readonly RegExp[] = [
  /\bnetns['"`]?\s*,?\s*['"`]?add\b/, // ip netns add (argv or a string)
  /\bunshare\b/, // unshare(1): new namespaces of any kind
  /\bsystemd-nspawn\b|\bnspawn\b/, // containers (their own namespaces)
  /\bNetnsLab\b/, // the lab helper (test/integration/helpers/netns.ts)
  /\bCLONE_NEWNET\b|\bsetns\b/, // a namespace from code
];

/** Env var set in the workers of `integration-local`; NetnsLab refuses to create a namespace there. */
export const NO_NETNS_ENV = 'TWINVIP_TEST_NO_NETNS';

function code(text: string): string {
  // Comments out: a comment that mentions a namespace does not make one.
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

/** The files `file` imports for their values (relative specifiers only), resolved. */
export function valueImports(file: string, text = readFileSync(file, 'utf8')): string[] {
  const out: string[] = [];
  const re = /^\s*(?:import|export)\s+(type\s+)?([^;'"]*?)\s*from\s*['"](\.[^'"]+)['"]|^\s*import\s*['"](\.[^'"]+)['"]|\bimport\(\s*['"](\.[^'"]+)['"]\s*\)/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[1]) continue; // import type {...} from
    const names = m[2]?.trim();
    if (names && /^\{[^}]*\}$/.test(names)) {
      const list = names.slice(1, -1).split(',').map((s) => s.trim()).filter(Boolean);
      if (list.length > 0 && list.every((s) => s.startsWith('type '))) continue; // import { type A, type B }
    }
    const spec = m[3] ?? m[4] ?? m[5] ?? '';
    if (!spec) continue;
    const base = resolve(dirname(file), spec);
    const found = [base, `${base}.ts`, `${base}.mts`, `${base}.mjs`, `${base}.js`, join(base, 'index.ts')].find((c) => existsSync(c) && statSync(c).isFile());
    if (found) out.push(found);
  }
  return out;
}

export interface NamespaceUse {
  /** The file (relative to the root) whose code matched, and what matched. */
  where: string;
  match: string;
  /** The import chain from the test file to `where`. */
  chain: string[];
}

/** Why `file` may create a namespace (the first match in its import closure), or undefined when it cannot. */
export function namespaceUse(file: string, root: string): NamespaceUse | undefined {
  const scanned = [join(root, 'test') + sep, join(root, 'bench') + sep];
  const seen = new Set<string>();
  const queue: { f: string; chain: string[] }[] = [{ f: resolve(file), chain: [] }];
  while (queue.length > 0) {
    const { f, chain } = queue.shift() as { f: string; chain: string[] };
    if (seen.has(f)) continue;
    seen.add(f);
    if (!scanned.some((d) => f.startsWith(d))) continue; // src/ and node_modules/ create no namespaces
    const text = readFileSync(f, 'utf8');
    const c = code(text);
    const here = [...chain, relative(root, f)];
    for (const re of NAMESPACE_CODE) {
      const m = re.exec(c);
      if (m) return { where: relative(root, f), match: m[0], chain: here };
    }
    for (const i of valueImports(f, text)) queue.push({ f: i, chain: here });
  }
  return undefined;
}

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...testFiles(p));
    else if (e.name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

export interface IntegrationSplit {
  /** Files that create namespaces (relative to root): the `integration` project. */
  namespace: string[];
  /** The rest: the `integration-local` project. */
  local: string[];
}

export function splitIntegrationFiles(root: string, dir = join(root, 'test', 'integration')): IntegrationSplit {
  const split: IntegrationSplit = { namespace: [], local: [] };
  for (const f of testFiles(dir)) (namespaceUse(f, root) ? split.namespace : split.local).push(relative(root, f));
  return split;
}
