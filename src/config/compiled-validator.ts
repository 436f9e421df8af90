import type { ValidateFunction } from 'ajv';
import { compileConfigValidator } from './config-validator';

/**
 * The config validator. In the sources (tests, typecheck) it is compiled with ajv on first use;
 * in the bundle scripts/build.mjs replaces this whole module with ajv standalone code generated
 * at build time from the same schema and options (config-validator.ts), exporting the same
 * function: the daemon then carries neither ajv's compiler nor TypeBox for validation, and
 * compiles nothing at start (bench/README.md "steady").
 */
export function loadConfigValidator(): ValidateFunction {
  return compileConfigValidator();
}
