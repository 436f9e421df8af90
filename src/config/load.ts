import { readFile } from 'node:fs/promises';
import { applyBoard, fsBoardCatalog, type BoardCatalog, type BoardFacts } from './board';
import { redactUrlCredentials } from '../log/redact';
import { configHash } from './hash';
import type { ConfigIssue } from '../lib/config-issues';
import { parseJsonWithPositions, type Position } from './json-parse';
import type { TwinvipConfig } from './schema/root';
import { checkNginxFiles } from './nginx/local-files';
import { IssueCollector } from '../lib/issue-collector';
import { checkSemantics } from './semantic';
import { validateSchema } from './validate-schema';
import { startMark } from '../lib/start-marks';
import { DEFAULT_MCAST_GROUP, instanceFamily } from './vips';

export type ConfigResult =
  | { ok: true; config: TwinvipConfig; hash: string; warnings: ConfigIssue[]; board?: BoardFacts }
  | { ok: false; errors: ConfigIssue[]; warnings: ConfigIssue[] };

/**
 * Parse, validate (schema, then the semantic rules), fill in defaults. Never throws: every
 * problem is an issue with a JSON pointer and, where the file shows it, a line and column.
 */
export function parseConfigText(text: string, _source = '<config>', opts: { boards?: BoardCatalog } = {}): ConfigResult {
  const parsed = parseJsonWithPositions(text);
  if (!parsed.ok) {
    return {
      ok: false,
      errors: [{ path: parsed.path, message: `invalid JSON: ${parsed.message}`, line: parsed.line, column: parsed.column }],
      warnings: [],
    };
  }
  const data = parsed.value;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return { ok: false, errors: locate([{ path: '', message: 'must be a JSON object {...}', value: data }], parsed.positions), warnings: [] };
  }
  // node.board: "@lan"-style interface roles and serial devices come from the board first, so
  // the schema and the rules check the result (board.ts).
  const boarded = applyBoard(data as Record<string, unknown>, opts.boards ?? fsBoardCatalog());
  if (boarded.errors.length > 0) return { ok: false, errors: locate(boarded.errors, parsed.positions), warnings: [] };
  startMark('cfg-boarded');
  const schemaErrors = validateSchema(data);
  startMark('cfg-schema');
  if (schemaErrors.length > 0) return { ok: false, errors: locate(schemaErrors, parsed.positions), warnings: [] };
  const config = data as TwinvipConfig;
  const { errors, warnings } = checkSemantics(config);
  startMark('cfg-semantics');
  if (errors.length > 0) return { ok: false, errors: locate(errors, parsed.positions), warnings: locate(warnings, parsed.positions) };
  fillDerivedDefaults(config);
  return { ok: true, config, hash: configHash(config), warnings: locate(warnings, parsed.positions), ...(boarded.board ? { board: boarded.board } : {}) };
}

/** Read and parse a file; a missing or unreadable file is an error value too. */
export async function loadConfigFile(path: string, opts: { boards?: BoardCatalog } = {}): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' :
      code === 'EACCES' ? 'permission denied' :
      code === 'EISDIR' ? 'is a directory, not a file' :
      (err as Error).message;
    return { ok: false, errors: [{ path: '', message: `cannot read the configuration: ${why}` }], warnings: [] };
  }
  startMark('main-config-read');
  const result = parseConfigText(text, path, opts);
  startMark('main-config-validated');
  if (!result.ok) return result;
  return checkLocalFiles(result, text);
}

/**
 * Rules that read this box's files (certificate/key pairs, the MIME types file, the workers'
 * user): part of every load of a file, so `twinvip check`, start and reload refuse the same.
 */
async function checkLocalFiles(result: Extract<ConfigResult, { ok: true }>, text: string): Promise<ConfigResult> {
  const out = new IssueCollector();
  await checkNginxFiles(result.config.nginx, out);
  if (out.errors.length === 0 && out.warnings.length === 0) return result;
  const parsed = parseJsonWithPositions(text);
  const positions = parsed.ok ? parsed.positions : new Map<string, Position>();
  const warnings = [...result.warnings, ...locate(out.warnings, positions)];
  if (out.errors.length > 0) return { ok: false, errors: locate(out.errors, positions), warnings };
  return { ...result, warnings };
}

/** Defaults that depend on other fields, so ajv cannot fill them in. */
function fillDerivedDefaults(config: TwinvipConfig): void {
  for (const inst of Object.values(config.instances)) {
    if (inst.mcast_group === undefined && inst.unicast_peers.length === 0) inst.mcast_group = DEFAULT_MCAST_GROUP[instanceFamily(inst)];
  }
  config.mqtt.prefix = config.mqtt.prefix.replaceAll('{node}', config.node.name);
}

/** Attach line/column: the issue's own value, else its nearest ancestor present in the file. */
function locate(issues: ConfigIssue[], positions: Map<string, Position>): ConfigIssue[] {
  const sorted = issues.map(redactValue).map((issue) => {
    let p = issue.path;
    for (;;) {
      const pos = positions.get(p);
      if (pos) return { ...issue, line: pos.line, column: pos.column };
      if (p === '') return issue;
      p = p.slice(0, p.lastIndexOf('/'));
    }
  });
  return sorted.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** An issue's value may be a URL with user:password@ (mqtt.url): `check --json` prints values. */
function redactValue(issue: ConfigIssue): ConfigIssue {
  return typeof issue.value === 'string' && issue.value.includes('@') ? { ...issue, value: redactUrlCredentials(issue.value) } : issue;
}
