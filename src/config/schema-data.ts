import { ConfigSchema } from './schema/root';

/**
 * The config schema as plain data, for code that walks it at run time (local-only.ts). In the
 * sources it is the TypeBox schema itself; in the bundle scripts/build.mjs replaces this module
 * with the same schema serialised to JSON at build time, so the daemon does not load TypeBox
 * (bench/README.md "steady"). Only JSON keys are read (properties, items, anyOf, x-local-only...).
 */
export const CONFIG_SCHEMA_DATA: Record<string, unknown> = ConfigSchema as unknown as Record<string, unknown>;
