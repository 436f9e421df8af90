// The folders of src/ import one another one way: no cycle between two folders (or more), so a
// feature can be read, tested or moved (the HA path behind a thread boundary) without dragging
// the rest along. Every import counts, type-only and dynamic ones too.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../../src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The top-level folder of src/ a path belongs to; a file directly in src/ is its own unit. */
function unitOf(path: string): string {
  const parts = relative(SRC, path).split('/');
  if (parts.length > 1) return parts[0]!;
  const isDir = (() => {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  })();
  return isDir ? parts[0]! : parts[0]!.replace(/(\.js)?$/, '').replace(/(\.ts)?$/, '.ts');
}

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g;

/** unit -> unit -> the imports that make the arrow ("file -> specifier"). */
export function folderGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of sources(SRC)) {
    const from = unitOf(file);
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = resolve(dirname(file), m[1]!);
      if (!target.startsWith(SRC)) continue;
      const to = unitOf(target);
      if (to === from) continue;
      let edges = graph.get(from);
      if (!edges) graph.set(from, (edges = new Map()));
      edges.set(to, [...(edges.get(to) ?? []), `${relative(SRC, file)} -> ${m[1]}`]);
    }
  }
  return graph;
}

/** Strongly connected components with more than one unit (Tarjan). */
function cycles(graph: Map<string, Map<string, string[]>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}

describe('imports between the folders of src/', () => {
  const graph = folderGraph();

  it('sees the tree (the checker itself works)', () => {
    expect(graph.get('ha')?.has('vrrp')).toBe(true);
    expect(cycles(new Map([['a', new Map([['b', ['x']]])], ['b', new Map([['a', ['y']]])]]))).toEqual([['a', 'b']]);
  });

  it('form no cycle', () => {
    const found = cycles(graph).map((scc) => {
      const arrows = scc.flatMap((a) => scc.filter((b) => graph.get(a)?.has(b)).map((b) => `  ${a} -> ${b}: ${graph.get(a)!.get(b)!.join(', ')}`));
      return `${scc.join(' <-> ')}\n${arrows.join('\n')}`;
    });
    expect(found, 'an import runs back up between these folders').toEqual([]);
  });

  it('keep the daemon contract below the features, and the HA path apart from the other features', () => {
    const daemon = [...(graph.get('daemon')?.keys() ?? [])];
    for (const feature of ['ha', 'nginx', 'mqtt', 'console', 'notify', 'commands']) expect(daemon).not.toContain(feature);
    const ha = [...(graph.get('ha')?.keys() ?? [])];
    for (const feature of ['nginx', 'mqtt', 'console', 'notify', 'commands']) expect(ha).not.toContain(feature);
  });
});
