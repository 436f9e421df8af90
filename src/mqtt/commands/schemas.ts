import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

/** Fields any request may carry besides its own arguments. */
const COMMON = {
  id: { type: 'string', minLength: 1, maxLength: 128, description: 'Request id; a repeated id is answered from memory, not run again.' },
  transaction: { type: ['string', 'number'], description: 'Echoed in the response (correlation on MQTT 3.1.1).' },
  expires_at: { type: ['string', 'number'], description: 'ISO time or epoch ms after which the request is refused.' },
  sent_at: { type: ['string', 'number'], description: 'ISO time or epoch ms the request was sent; refused when older than mqtt.command_max_age.' },
} as const;

function command(properties: Record<string, unknown> = {}, required: string[] = []): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, properties: { ...COMMON, ...properties }, required };
}

/** Each command's payload schema, by command name (the last level of `request/<command>`). */
export const COMMAND_SCHEMAS = {
  status: command(),
  maintenance: command({ on: { type: 'boolean', description: 'true: demote to priority 0 and hand over; false: back to normal.' } }, ['on']),
  failover: command({ instance: { type: 'string', minLength: 1, maxLength: 64, description: 'Hand over this instance only (default: every MASTER instance).' } }),
  reload: command(),
  config: command({ config: { type: 'object', description: 'A whole twinvip configuration, validated like the file.' } }, ['config']),
  diagnostics: command({ log_lines: { type: 'integer', minimum: 1, maximum: 1000, description: 'Recent log lines to include (default 100).' } }),
} as const;

export type CommandName = keyof typeof COMMAND_SCHEMAS;
export const COMMAND_NAMES = Object.keys(COMMAND_SCHEMAS) as CommandName[];

export function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(COMMAND_SCHEMAS, name);
}

let validators: Map<CommandName, ValidateFunction> | undefined;

function validatorOf(name: CommandName): ValidateFunction {
  if (!validators) {
    const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
    validators = new Map(COMMAND_NAMES.map((n) => [n, ajv.compile(COMMAND_SCHEMAS[n])]));
  }
  return validators.get(name)!;
}

/** Every problem of a payload as "path: message" lines; empty when valid. */
export function validateCommandPayload(name: CommandName, payload: unknown): string[] {
  const validate = validatorOf(name);
  if (validate(payload)) return [];
  return (validate.errors ?? []).map(describeError);
}

function describeError(e: ErrorObject): string {
  const where = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') return `${where}: unknown field '${(e.params as { additionalProperty: string }).additionalProperty}'`;
  if (e.keyword === 'required') return `${where}: missing field '${(e.params as { missingProperty: string }).missingProperty}'`;
  return `${where}: ${e.message ?? e.keyword}`;
}
