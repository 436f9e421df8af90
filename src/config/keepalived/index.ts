import { formatIssues, parseConfigText, type ConfigIssue } from '..';
import { formatNotes, type ImportNote } from './notes';
import { mapKeepalived } from './mapper';
import { readKeepalivedConfig, type ReadOptions } from './reader';
import { buildTree } from './tree';

export type { ImportNote } from './notes';
export { formatNotes } from './notes';
export type { ReadOptions } from './reader';

export type ImportResult =
  | {
      ok: true;
      /** The twinvip configuration, as written out (defaults not filled in). */
      config: Record<string, unknown>;
      /** The same as pretty JSON with a final newline: what `import-keepalived` prints. */
      text: string;
      /** Every keyword not carried over, or carried over with a change, with file and line. */
      notes: ImportNote[];
      /** Warnings of the twinvip configuration check on the result. */
      checkWarnings: ConfigIssue[];
      files: string[];
    }
  | { ok: false; error: string; notes: ImportNote[] };

/**
 * keepalived.conf (with its includes) to a twinvip configuration that passes `twinvip check`.
 * Never throws: a file that cannot be read, parsed or converted gives `ok: false` with a message
 * naming the file and line.
 */
export function importKeepalived(path: string, opts: ReadOptions = {}): ImportResult {
  const read = readKeepalivedConfig(path, opts);
  if (!read.ok) return { ok: false, error: `${read.error.file}:${read.error.line}: ${read.error.message}`, notes: read.notes.items };
  const tree = buildTree(read.statements);
  if (!tree.ok) return { ok: false, error: `${tree.file}:${tree.line}: ${tree.message}`, notes: read.notes.items };
  const notes = read.notes;
  const known = new Set(['global_defs', 'vrrp_script', 'vrrp_instance', 'vrrp_sync_group', 'virtual_server', 'virtual_server_group', 'static_ipaddress', 'static_routes', 'static_rules', 'vrrp_track_process', 'vrrp_track_file', 'bfd_instance', 'garp_group', 'net_namespace', 'instance', 'linkbeat_use_polling', 'use_pid_dir', 'track_file']);
  if (tree.nodes.length === 0) return { ok: false, error: `${path}: no keepalived configuration found (empty after comments)`, notes: notes.items };
  if (!tree.nodes.some((n) => known.has(n.key))) {
    const first = tree.nodes[0];
    // The line itself is not repeated: the file may be anything (the report never quotes it).
    return { ok: false, error: `${first?.file}:${first?.line}: no top-level keepalived section (global_defs, vrrp_instance, virtual_server ...): this does not look like a keepalived.conf`, notes: notes.items };
  }

  const mapped = mapKeepalived(tree.nodes, notes);
  const refused = notes.refused;
  if (refused.length > 0) {
    const first = refused[0]!;
    const more = refused.length > 1 ? ` (and ${refused.length - 1} more error(s) in the report)` : '';
    return { ok: false, error: `${first.file}:${first.line}: ${first.keyword}: ${first.message}${more}`, notes: notes.items };
  }
  let config = mapped.config;
  let text = `${JSON.stringify(config, null, 2)}\n`;
  let checked = parseConfigText(text, path);
  if (!checked.ok && mapped.virtualServers.length > 0 && checked.errors.every((e) => e.path.startsWith('/nginx'))) {
    // The Nginx model is refused: keep the rest and hand each virtual server over in the report.
    for (const vs of mapped.virtualServers) {
      notes.unconverted(vs.at, `virtual_server ${vs.at.args.join(' ')}`,
        `the Nginx section refused the mapped upstream (${checked.errors[0]?.message ?? 'schema'}); add it by hand: upstream ${vs.name} ${JSON.stringify(vs.upstream)} stream server ${JSON.stringify(vs.server)}`);
    }
    const { nginx: _dropped, ...rest } = config;
    config = rest;
    text = `${JSON.stringify(config, null, 2)}\n`;
    checked = parseConfigText(text, path);
  }
  if (!checked.ok) {
    return { ok: false, error: `the converted configuration does not pass the check:\n${formatIssues(checked.errors, '<converted>')}`, notes: notes.items };
  }
  return { ok: true, config, text, notes: notes.items, checkWarnings: checked.warnings, files: read.files };
}

export { formatNotes as formatImportNotes };
