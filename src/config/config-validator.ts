import Ajv, { Name, type Options, type ValidateFunction } from 'ajv';
import { TWINVIP_FORMATS } from './format-functions';
import { ConfigSchema } from './schema/root';

/**
 * ajv for the config schema. Used at build time only (scripts/build.mjs writes the validator as
 * ajv standalone code into the bundle, see compiled-validator.ts) and by the tests, which run the
 * sources: the daemon itself never loads ajv's compiler or compiles the schema.
 */
export function configAjv(code?: Options['code']): Ajv {
  // verbose: the error translator (validate-schema.ts) reads parentSchema and data.
  const ajv = new Ajv({ allErrors: true, useDefaults: true, discriminator: true, verbose: true, strict: true, strictRequired: false, ...(code ? { code } : {}) });
  // Annotation only: the "valid: ..." hint of an error message and of the reference.
  ajv.addKeyword({ keyword: 'x-valid', schemaType: 'string' });
  // Annotation only: what a config push may not change (local-only.ts).
  ajv.addKeyword({ keyword: 'x-local-only', schemaType: 'string' });
  for (const [name, format] of Object.entries(TWINVIP_FORMATS)) ajv.addFormat(name, format);
  return ajv;
}

export function compileConfigValidator(): ValidateFunction {
  return configAjv().compile(ConfigSchema);
}

/** The name the standalone code refers to TWINVIP_FORMATS by (build.mjs imports it under it). */
export const STANDALONE_FORMATS_NAME = '__twinvipFormats';

/** The schema as JSON, for src/config/schema-data.ts in the bundle (build time only). */
export function configSchemaData(): string {
  return JSON.stringify(ConfigSchema);
}

/** ESM source of the config validator, without ajv at run time (build time only). */
export async function standaloneConfigValidator(): Promise<string> {
  const { default: standaloneCode } = await import('ajv/dist/standalone');
  const ajv = configAjv({ source: true, esm: true, formats: new Name(STANDALONE_FORMATS_NAME) });
  return standaloneCode(ajv, ajv.compile(ConfigSchema));
}
