// PLACEHOLDER until the configuration module lands: the contract the rest of the daemon uses.
import { createHash } from 'node:crypto';

export interface ConfigIssue {
  /** JSON pointer into the file, e.g. "/instances/VI_1/priority"; "" for the whole file. */
  path: string;
  message: string;
  value?: unknown;
  /** What would be valid. */
  hint?: string;
}

export interface TwinvipConfig {
  node: { name: string; board?: string; state_dir: string };
  control: { socket: string };
  logging: { level: 'debug' | 'info' | 'warn' | 'error'; format: 'text' | 'json' };
  instances: Record<string, unknown>;
  [section: string]: unknown;
}

export type ConfigResult =
  | { ok: true; config: TwinvipConfig; hash: string; warnings: ConfigIssue[] }
  | { ok: false; errors: ConfigIssue[] };

// TEMPORARY (daemon branch only, drop when the real config module merges): a minimal JSON.parse
// with defaults for the five fields the daemon skeleton reads, so its tests can run.
export function parseConfigText(text: string, _source = '<config>'): ConfigResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, errors: [{ path: '', message: `not valid JSON: ${(err as Error).message}` }] };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { ok: false, errors: [{ path: '', message: 'must be a JSON object' }] };
  }
  const r = raw as Record<string, Record<string, unknown> | undefined>;
  const errors: ConfigIssue[] = [];
  const name = r.node?.name;
  if (typeof name !== 'string' || name === '') errors.push({ path: '/node/name', message: 'must be a non-empty string', value: name });
  const level = r.logging?.level ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(level as string)) errors.push({ path: '/logging/level', message: 'must be one of debug, info, warn, error', value: level });
  const format = r.logging?.format ?? 'text';
  if (!['text', 'json'].includes(format as string)) errors.push({ path: '/logging/format', message: 'must be text or json', value: format });
  if (errors.length > 0) return { ok: false, errors };
  const config: TwinvipConfig = {
    ...(raw as Record<string, unknown>),
    node: { name: name as string, state_dir: (r.node?.state_dir as string | undefined) ?? '/var/lib/twinvip' },
    control: { socket: (r.control?.socket as string | undefined) ?? '/run/twinvip/control.sock' },
    logging: { level: level as TwinvipConfig['logging']['level'], format: format as TwinvipConfig['logging']['format'] },
    instances: (r.instances as Record<string, unknown> | undefined) ?? {},
  };
  const hash = createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
  return { ok: true, config, hash, warnings: [] };
}

export async function loadConfigFile(path: string): Promise<ConfigResult> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { ok: false, errors: [{ path: '', message: `cannot read: ${(err as Error).message}` }] };
  }
  return parseConfigText(text, path);
}

export function formatIssues(issues: ConfigIssue[], source: string): string {
  return issues.map((i) => `${source}: ${i.path || '/'}: ${i.message}`).join('\n');
}
