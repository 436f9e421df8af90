// Which files of the bundle (dist/) the appliance tarball ships: every output reachable from the
// bundle's roots (the CLI entry and the worker entries, which nothing imports: they are loaded by
// path) through static and dynamic imports, except the commands that have no business on a box.
// Read from esbuild's metafile (dist/meta.json, written by scripts/build.mjs); used by
// scripts/rootfs.mjs, and by test/integration/image/contents.test.ts to check the tarball.

/** Command entries left out of the image, with the reason (the CLI says so when one is asked for). */
export const LEFT_OUT = { 'src/commands/demo.ts': 'the demo (two simulated boxes in namespaces): a development tool, `make demo`' };

/** Source folders whose code must never reach the image. */
export const NEVER_SHIPPED_SOURCES = ['src/demo/', 'bench/', 'test/'];

/**
 * @param {{ outputs: Record<string, { entryPoint?: string, imports: { path: string, kind: string }[], inputs: Record<string, unknown> }> }} meta
 * @returns {{ ship: string[], leftOut: string[] }} output paths as in the metafile ("dist/x.js")
 */
export function applianceOutputs(meta) {
  const js = Object.keys(meta.outputs).filter((o) => o.endsWith('.js'));
  const imported = new Set(js.flatMap((o) => meta.outputs[o].imports.map((i) => i.path)));
  const roots = js.filter((o) => meta.outputs[o].entryPoint && !imported.has(o));
  const ship = new Set();
  const stack = [...roots];
  while (stack.length > 0) {
    const o = stack.pop();
    if (ship.has(o) || !meta.outputs[o]) continue;
    if (meta.outputs[o].entryPoint in LEFT_OUT) continue;
    ship.add(o);
    for (const i of meta.outputs[o].imports) if (i.kind === 'import-statement' || i.kind === 'dynamic-import') stack.push(i.path);
  }
  return { ship: [...ship].sort(), leftOut: js.filter((o) => !ship.has(o)).sort() };
}
