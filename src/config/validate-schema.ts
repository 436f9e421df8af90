import type { ErrorObject, ValidateFunction } from 'ajv';
import { loadConfigValidator } from './compiled-validator';
import { FORMAT_DESCRIPTIONS } from './formats';
import { showValue, type ConfigIssue } from '../lib/config-issues';
import { escapePointer } from '../lib/issue-collector';
import { closest } from '../lib/suggest';

type Schema = Record<string, unknown>;

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= loadConfigValidator();
  return compiled;
}

/** Validates in place: ajv fills in the defaults of `data`. */
export function validateSchema(data: unknown): ConfigIssue[] {
  const validate = validator();
  if (validate(data)) return [];
  return translateErrors(validate.errors ?? []);
}

export function translateErrors(raw: ErrorObject[]): ConfigIssue[] {
  const kept = resolveAlternatives(raw);
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const e of kept) {
    const issue = translate(e);
    if (!issue) continue;
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(issue);
  }
  return issues;
}

/**
 * anyOf (a VIP as a string or an object, a command as a string or an argv array): report the
 * failures of the alternative whose type matches the value, not of every alternative; when none
 * matches, one "must be X or Y".
 */
function resolveAlternatives(errors: ErrorObject[]): ErrorObject[] {
  // A missing discriminator tag is reported by the discriminator error, which lists the kinds.
  const tagged = new Set(errors.filter((e) => e.keyword === 'discriminator').map((e) => `${e.instancePath}/${String(e.params.tag)}`));
  let list = errors.filter((e) => !(e.keyword === 'required' && tagged.has(`${e.instancePath}/${String(e.params.missingProperty)}`)));
  const alternatives = list.filter((e) => e.keyword === 'anyOf').sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const alt of alternatives) {
    if (!list.includes(alt)) continue;
    const prefix = `${alt.schemaPath}/`;
    const byBranch = new Map<number, ErrorObject[]>();
    const within = (e: ErrorObject) => e.instancePath === alt.instancePath || e.instancePath.startsWith(`${alt.instancePath}/`);
    for (const e of list) {
      // Items of one array share a schemaPath: the instancePath tells whose failure it is.
      if (!e.schemaPath.startsWith(prefix) || !within(e)) continue;
      const branch = Number(e.schemaPath.slice(prefix.length).split('/')[0]);
      byBranch.set(branch, [...(byBranch.get(branch) ?? []), e]);
    }
    const fitting = [...byBranch.entries()]
      .filter(([, errs]) => !errs.some((e) => e.instancePath === alt.instancePath && e.keyword === 'type'))
      .sort(([a], [b]) => a - b);
    const branchErrors = new Set([...byBranch.values()].flat());
    const keep = new Set(fitting[0]?.[1] ?? []);
    list = list.filter((e) => !branchErrors.has(e) || keep.has(e));
    if (keep.size > 0) list = list.filter((e) => e !== alt);
  }
  return list;
}

function typeName(type: unknown): string {
  switch (type) {
    case 'integer': return 'an integer';
    case 'number': return 'a number';
    case 'string': return 'a string';
    case 'boolean': return 'true or false';
    case 'object': return 'an object';
    case 'array': return 'an array';
    case 'null': return 'null';
    default: return Array.isArray(type) ? type.map(typeName).join(' or ') : String(type);
  }
}

function rangeHint(s: Schema): string | undefined {
  const lo = s.minimum ?? (s.exclusiveMinimum !== undefined ? `> ${String(s.exclusiveMinimum)}` : undefined);
  const hi = s.maximum;
  if (lo === undefined && hi === undefined) return undefined;
  const kind = s.type === 'integer' ? 'an integer ' : 'a number ';
  if (typeof lo === 'number' && hi !== undefined) return `${kind}${lo}..${String(hi)}`;
  if (lo !== undefined && hi !== undefined) return `${kind}${String(lo)} and <= ${String(hi)}`;
  if (lo !== undefined) return `${kind}${typeof lo === 'number' ? `>= ${lo}` : lo}`;
  return `${kind}<= ${String(hi)}`;
}

function hintOf(s: Schema | undefined): string | undefined {
  if (!s) return undefined;
  if (typeof s['x-valid'] === 'string') return s['x-valid'];
  if (Array.isArray(s.enum)) return s.enum.map((v) => showValue(v)).join(', ');
  if (typeof s.format === 'string') return FORMAT_DESCRIPTIONS[s.format];
  if (s.type === 'integer' || s.type === 'number') return rangeHint(s);
  return undefined;
}

function alternativesOf(s: Schema): string {
  const branches = (s.anyOf ?? s.oneOf ?? []) as Schema[];
  const names = branches.map((b) => (b.const !== undefined ? showValue(b.const) : typeName(b.type)));
  return [...new Set(names)].join(' or ');
}

function translate(e: ErrorObject): ConfigIssue | undefined {
  const parent = (e.parentSchema ?? {}) as Schema;
  const params = e.params as Record<string, unknown>;
  const path = e.instancePath;
  const got = ` (got ${showValue(e.data)})`;
  const base = { path, value: e.data } as const;
  // Inner errors of propertyNames are reported once, by the propertyNames error itself.
  if (e.propertyName !== undefined && e.keyword !== 'propertyNames') return undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const valid = Object.keys((parent.properties ?? {}) as Schema);
      const guess = closest(key, valid);
      const data = e.data as Record<string, unknown>;
      return {
        path: `${path}/${escapePointer(key)}`,
        value: data[key],
        message: `unknown key "${key}"${guess ? `; did you mean "${guess}"?` : ''}`,
        hint: valid.join(', '),
      };
    }
    case 'propertyNames': {
      const name = String(params.propertyName);
      const inner = (parent.propertyNames ?? {}) as Schema;
      return { path: `${path}/${escapePointer(name)}`, message: `"${name}" is not a valid name`, hint: hintOf(inner) };
    }
    case 'required': {
      const key = String(params.missingProperty);
      const prop = ((parent.properties ?? {}) as Record<string, Schema>)[key];
      return { path: `${path}/${escapePointer(key)}`, message: 'is required but missing', hint: hintOf(prop) ?? prop?.description as string | undefined };
    }
    case 'discriminator': {
      const tag = String(params.tag);
      const values = ((parent.oneOf ?? []) as Schema[]).map((b) => String(((b.properties as Record<string, Schema>)[tag] ?? {}).const));
      const tagValue = params.tagValue;
      if (params.error === 'tag' || tagValue === undefined) {
        return { path: `${path}/${tag}`, message: `is required: the kind of check, one of ${values.join(', ')}` };
      }
      const guess = closest(String(tagValue), values);
      return {
        path: `${path}/${tag}`,
        value: tagValue,
        message: `must be one of ${values.join(', ')} (got ${showValue(tagValue)})${guess ? `; did you mean "${guess}"?` : ''}`,
      };
    }
    case 'oneOf':
    case 'if':
      return undefined; // the branch's own errors say more
    case 'anyOf':
      return { ...base, message: `must be ${alternativesOf(parent)}${got}`, hint: hintOf(parent) };
    case 'type':
      return { ...base, message: `must be ${typeName(params.type)}${got}`, hint: hintOf(parent) };
    case 'enum': {
      const allowed = (params.allowedValues ?? []) as unknown[];
      const guess = typeof e.data === 'string' ? closest(e.data, allowed.map(String)) : undefined;
      return {
        ...base,
        message: `must be one of ${allowed.map((v) => showValue(v)).join(', ')}${got}${guess ? `; did you mean ${showValue(allowed.find((v) => String(v) === guess))}?` : ''}`,
      };
    }
    case 'const':
      return { ...base, message: `must be ${showValue(params.allowedValue)}${got}`, hint: hintOf(parent) };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { ...base, message: `must be ${String(params.comparison)} ${String(params.limit)}${got}`, hint: hintOf(parent) };
    case 'multipleOf':
      return { ...base, message: `must be a multiple of ${String(params.multipleOf)}${got}`, hint: hintOf(parent) };
    case 'minLength':
      return { ...base, message: `must be at least ${String(params.limit)} characters${got}`, hint: hintOf(parent) };
    case 'maxLength':
      return { ...base, message: `must be at most ${String(params.limit)} characters${got}`, hint: hintOf(parent) };
    case 'minItems':
      return { ...base, message: `must have at least ${String(params.limit)} item${params.limit === 1 ? '' : 's'}${got}`, hint: hintOf(parent) };
    case 'maxItems':
      return { ...base, message: `must have at most ${String(params.limit)} items`, hint: hintOf(parent) };
    case 'uniqueItems':
      return { ...base, message: `has a duplicate: items ${String(params.j)} and ${String(params.i)} are equal`, hint: 'each entry once' };
    case 'pattern':
      return { ...base, message: `is not valid${got}`, hint: hintOf(parent) ?? `a string matching ${String(params.pattern)}` };
    case 'format':
      return { ...base, message: `must be ${FORMAT_DESCRIPTIONS[String(params.format)] ?? `in format ${String(params.format)}`}${got}` };
    default:
      return { ...base, message: `${e.message ?? 'is invalid'}${got}`, hint: hintOf(parent) };
  }
}
