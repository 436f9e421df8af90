import { ConfigSchema } from './schema/root';

/** The JSON Schema as published (`twinvip check --schema`), for editors and the config push. */
export function configSchemaJson(): Record<string, unknown> {
  // JSON round trip drops TypeBox's symbol-keyed bookkeeping; the identifying keys go first.
  const { $schema, $id, title, description, ...rest } = JSON.parse(JSON.stringify(ConfigSchema)) as Record<string, unknown>;
  return { $schema, $id, title, description, ...rest };
}
