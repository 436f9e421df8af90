// What a pushed configuration may never change: anything that executes something, names a local
// file, or is a trust anchor (DESIGN.md "Fleet trust"). Data-driven, so a field added later is
// covered without anyone remembering this file:
//   - every top-level section except the pushable ones (instances, sync groups, checks, Nginx):
//     node, mqtt, heartbeat (fence, serial key), console, notify, email, trusted_keys, and any
//     section added later;
//   - every key ending in `_file`, anywhere;
//   - every schema node marked `x-local-only` (the Path and Command helpers mark themselves, so
//     every absolute path and every program to run is local-only by construction).
import { canonicalJson } from './hash';
import { escapePointer } from '../lib/issue-collector';
import { CONFIG_SCHEMA_DATA } from './schema-data';

type Schema = Record<string, unknown>;

/** Top-level sections a config push may change (apart from their local-only fields). */
export const PUSHABLE_SECTIONS: readonly string[] = ['instances', 'sync_groups', 'checks', 'nginx'];
/** Top-level keys that mean nothing to the box. */
const IGNORED_SECTIONS = new Set(['$schema']);

export const LOCAL_ONLY_KEYWORD = 'x-local-only';

export interface LocalOnlyValue {
  /** JSON pointer, e.g. /instances/VI_1/notify/master. */
  path: string;
  /** The pointer with array indices replaced by "*": moving an item within an array is no change. */
  pattern: string;
  value: unknown;
  /** How each step was taken: a fixed property, a member of a map by name, an array item. */
  steps: Step[];
}

interface Step {
  key: string;
  kind: 'prop' | 'member' | 'item';
}

/** Why a field is local-only, from its key and its schema; undefined when it is not. */
export function localOnlyReason(key: string, schemas: Schema[]): string | undefined {
  if (key.endsWith('_file')) return 'names a local file';
  for (const s of schemas) {
    const r = s[LOCAL_ONLY_KEYWORD];
    if (typeof r === 'string') return r;
  }
  return undefined;
}

/** Every local-only value of a (validated, defaulted) configuration. */
export function localOnlyValues(config: Record<string, unknown>, schema: Schema = CONFIG_SCHEMA_DATA as Schema): LocalOnlyValue[] {
  const out: LocalOnlyValue[] = [];
  const props = (schema.properties ?? {}) as Record<string, Schema>;
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined || IGNORED_SECTIONS.has(key)) continue;
    const path = `/${escapePointer(key)}`;
    const steps: Step[] = [{ key, kind: 'prop' }];
    if (!PUSHABLE_SECTIONS.includes(key)) {
      out.push({ path, pattern: path, value, steps });
      continue;
    }
    walk(value, expand(props[key] ? [props[key]] : []), path, path, steps, out);
  }
  return out;
}

function walk(value: unknown, schemas: Schema[], path: string, pattern: string, steps: Step[], out: LocalOnlyValue[]): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    const items = expand(schemas.flatMap((s) => (s.items && typeof s.items === 'object' ? [s.items as Schema] : [])));
    value.forEach((v, i) => visit(String(i), v, items, `${path}/${i}`, `${pattern}/*`, [...steps, { key: String(i), kind: 'item' }], out));
    return;
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    let kind: Step['kind'] = 'member';
    const child = expand(schemas.flatMap((s) => {
      const named = (s.properties as Record<string, Schema> | undefined)?.[k];
      if (named) {
        kind = 'prop';
        return [named];
      }
      return s.additionalProperties && typeof s.additionalProperties === 'object' ? [s.additionalProperties as Schema] : [];
    }));
    const seg = escapePointer(k);
    visit(k, v, child, `${path}/${seg}`, `${pattern}/${seg}`, [...steps, { key: k, kind }], out);
  }
}

function visit(key: string, value: unknown, schemas: Schema[], path: string, pattern: string, steps: Step[], out: LocalOnlyValue[]): void {
  if (value === undefined) return;
  if (localOnlyReason(key, schemas) !== undefined) out.push({ path, pattern, value, steps });
  else walk(value, schemas, path, pattern, steps, out);
}

/** A schema and its alternatives (anyOf/oneOf), so a field of any branch is found. */
function expand(schemas: Schema[]): Schema[] {
  const out: Schema[] = [];
  const add = (s: Schema) => {
    out.push(s);
    for (const alt of [...((s.anyOf ?? []) as Schema[]), ...((s.oneOf ?? []) as Schema[])]) add(alt);
  };
  schemas.forEach(add);
  return out;
}

/**
 * Local-only values that differ between the running configuration and a candidate: added,
 * removed or changed. Values are matched by pattern and content, so reordering an array is no
 * change. Returns the sorted JSON pointers (of the candidate for an added or changed value, of
 * the running config for a removed one).
 */
export function localOnlyChanges(running: Record<string, unknown>, candidate: Record<string, unknown>, schema?: Schema): string[] {
  const key = (v: LocalOnlyValue) => `${v.pattern}\u0000${canonicalJson(v.value)}`;
  const before = new Map<string, LocalOnlyValue[]>();
  for (const v of localOnlyValues(running, schema)) before.set(key(v), [...(before.get(key(v)) ?? []), v]);
  const changed = new Set<string>();
  for (const v of localOnlyValues(candidate, schema)) {
    const same = before.get(key(v));
    if (same && same.length > 0) same.shift();
    else changed.add(v.path);
  }
  for (const rest of before.values()) for (const v of rest) changed.add(v.path);
  return [...changed].sort();
}

/**
 * The configuration a push asks for: the pushed document, with every top-level section it leaves
 * out and every local-only value it leaves out taken from the local file. An operator pushes
 * instances and the Nginx model without knowing the box's secrets and scripts; a push that does
 * name a local-only value must name the one the box has (checked afterwards by localOnlyChanges).
 */
export function mergePushed(local: Record<string, unknown>, pushed: Record<string, unknown>, schema?: Schema): Record<string, unknown> {
  const merged: Record<string, unknown> = structuredClone(pushed);
  for (const [k, v] of Object.entries(local)) if (!Object.hasOwn(merged, k)) merged[k] = structuredClone(v);
  for (const v of localOnlyValues(local, schema)) carryOver(merged, v);
  return merged;
}

/**
 * Puts a local-only value the push left out back in its place. Missing fixed sections on the way
 * (an instance's `notify`) are created; a missing map member (an instance the push removed) or
 * anything inside an array (replaced as a whole by the push) is not.
 */
function carryOver(merged: Record<string, unknown>, v: LocalOnlyValue): void {
  if (v.steps.some((s) => s.kind === 'item')) return;
  let obj = merged;
  for (const [i, step] of v.steps.entries()) {
    const last = i === v.steps.length - 1;
    const here = obj[step.key];
    if (last) {
      if (here === undefined) obj[step.key] = structuredClone(v.value);
      return;
    }
    if (here === undefined) {
      if (step.kind !== 'prop') return;
      obj[step.key] = {};
    } else if (here === null || typeof here !== 'object' || Array.isArray(here)) {
      return;
    }
    obj = obj[step.key] as Record<string, unknown>;
  }
}
