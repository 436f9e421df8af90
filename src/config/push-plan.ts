import { formatIssues } from '../lib/config-issues';
import { parseConfigText } from './load';
import { localOnlyChanges, mergePushed } from './local-only';

export type PushPlan =
  | { ok: true; text: string; hash: string }
  | { ok: false; error: string; errors: string[]; localOnly?: string[] };

/**
 * What a pushed configuration would become on this box, checked: the push merged over the local
 * file (local-only values it leaves out are kept), validated like the file, and refused with the
 * list of paths when it changes anything local-only. `text` is what to write over the file.
 */
export function planPush(localText: string, pushed: unknown): PushPlan {
  if (pushed === null || typeof pushed !== 'object' || Array.isArray(pushed)) {
    return { ok: false, error: 'config must be a JSON object', errors: [] };
  }
  const local = parseConfigText(localText, 'running config');
  if (!local.ok) {
    return { ok: false, error: "the box's own config file does not validate; fix it locally before pushing", errors: formatIssues(local.errors, 'local config').split('\n').filter(Boolean) };
  }
  const localRaw = JSON.parse(localText) as Record<string, unknown>;
  const merged = mergePushed(localRaw, pushed as Record<string, unknown>);
  const text = `${JSON.stringify(merged, null, 2)}\n`;
  const checked = parseConfigText(text, 'pushed config');
  if (!checked.ok) {
    const errors = formatIssues(checked.errors, 'pushed config').split('\n').filter(Boolean);
    return { ok: false, error: `config refused: ${checked.errors.length} error(s)`, errors };
  }
  const changed = localOnlyChanges(local.config as unknown as Record<string, unknown>, checked.config as unknown as Record<string, unknown>);
  if (changed.length > 0) {
    return {
      ok: false,
      error: `config refused: it changes ${changed.length} local-only field(s) (scripts, local files, MQTT, keys and other box-local settings can only be changed on the box)`,
      errors: changed.map((p) => `${p}: local-only`),
      localOnly: changed,
    };
  }
  return { ok: true, text, hash: checked.hash };
}
