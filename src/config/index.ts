// PLACEHOLDER until the configuration module lands: the contract the rest of the daemon uses.

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

export function parseConfigText(_text: string, _source = '<config>'): ConfigResult {
  return { ok: false, errors: [{ path: '', message: 'configuration module not built yet' }] };
}

export async function loadConfigFile(path: string): Promise<ConfigResult> {
  return parseConfigText('', path);
}

export function formatIssues(issues: ConfigIssue[], source: string): string {
  return issues.map((i) => `${source}: ${i.path || '/'}: ${i.message}`).join('\n');
}
