import { Type, type Static, type TSchema, type TObject, type TProperties, type ObjectOptions, type SchemaOptions } from '@sinclair/typebox';

/**
 * An object section: unknown keys are errors (typo protection), and a property that has a
 * default is optional in the published schema (the user may leave it out) while staying required
 * in the TypeScript type, because ajv's useDefaults has filled it in by the time code reads it.
 */
export function Section<T extends TProperties>(properties: T, options: ObjectOptions = {}): TObject<T> {
  const schema = Type.Object(properties, { additionalProperties: false, ...options });
  const required = ((schema.required as string[] | undefined) ?? []).filter(
    (key) => (properties[key] as TSchema).default === undefined,
  );
  const mutable = schema as unknown as { required?: string[] };
  if (required.length > 0) mutable.required = required;
  else delete mutable.required;
  return schema;
}

/** Names of instances, checks, sync groups: keepalived allows any word; we keep them shell- and topic-safe. */
import { NAME_PATTERN, NAME_VALID } from './names';
export { NAME_PATTERN, NAME_VALID };

/** An object keyed by name (like keepalived's `vrrp_instance VI_1`), each value of one schema. */
export function NamedMap<T extends TSchema>(value: T, options: SchemaOptions = {}) {
  return Type.Unsafe<Record<string, Static<T>>>({
    type: 'object',
    propertyNames: { pattern: NAME_PATTERN, 'x-valid': NAME_VALID },
    additionalProperties: value,
    default: {},
    ...options,
  });
}

/**
 * Marks a field a config push may never change (src/config/local-only.ts), with the reason.
 * Path and Command carry it already; use it for anything else that runs code, names a local
 * file or is a trust anchor.
 */
export const LOCAL_ONLY = {
  file: { 'x-local-only': 'names a local file' },
  program: { 'x-local-only': 'runs a program' },
  user: { 'x-local-only': 'chooses the user programs run as' },
} as const;

/** A command run without a shell: an argv array, or a string split on whitespace. */
export const Command = (description: string) =>
  Type.Union([Type.String({ minLength: 1, maxLength: 4096 }), Type.Array(Type.String({ minLength: 1, maxLength: 4096 }), { minItems: 1, maxItems: 64 })], {
    description,
    'x-valid': 'an argv array such as ["/usr/local/bin/notify", "arg"], or a string split on spaces (no shell)',
    ...LOCAL_ONLY.program,
  });

export type CommandSpec = Static<ReturnType<typeof Command>>;

export { commandArgv } from './command-argv';

export const Seconds = (options: SchemaOptions & { minimum?: number; maximum?: number; exclusiveMinimum?: number }) =>
  Type.Number(options);

/** Weight added to the effective priority while a tracked thing is up (+) or down (-); keepalived's range. */
export const Weight = () =>
  Type.Integer({
    minimum: -253,
    maximum: 253,
    description: 'Priority change: a positive weight is added while healthy, a negative one subtracted while failed. Without weight, a failure puts the instance in FAULT.',
  });

export const Path = (description: string, options: SchemaOptions = {}) =>
  Type.String({ minLength: 1, maxLength: 4096, pattern: '^/', 'x-valid': 'an absolute path', ...LOCAL_ONLY.file, description, ...options });

/** A closed set of values, published as a plain JSON Schema enum (clearer errors than anyOf of consts). */
export function Enum<const T extends readonly (string | number)[]>(values: T, options: SchemaOptions = {}) {
  return Type.Unsafe<T[number]>({ enum: [...values], ...options });
}
