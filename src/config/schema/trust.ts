import { Type, type Static } from '@sinclair/typebox';
import { PUBLIC_KEY_PATTERN } from '../../fleet/keys';
import { ROLES } from '../../fleet/roles';
import { Enum, NAME_PATTERN, NAME_VALID, Section } from '../../lib/schema-helpers';

export const TrustedKeySchema = Section(
  {
    role: Enum(ROLES, {
      description: 'operator: maintenance, failover, reload (and the read-only commands); admin: also config push.',
    }),
    public_key: Type.String({
      pattern: PUBLIC_KEY_PATTERN,
      description: 'Ed25519 public key, base64 of its 32 bytes (the .pub file `twinvip keygen` writes).',
      'x-valid': '44 characters of base64 ending in "=", e.g. the content of ops.key.pub',
    }),
  },
  { description: 'A key whose signed requests this box accepts.' },
);

/** Public keys the box trusts for signed fleet requests, by a name used in logs and audit events. */
export const TrustedKeysSchema = Type.Unsafe<Record<string, Static<typeof TrustedKeySchema>>>({
  type: 'object',
  propertyNames: { pattern: NAME_PATTERN, 'x-valid': NAME_VALID },
  additionalProperties: TrustedKeySchema,
  maxProperties: 64,
  default: {},
  description: 'Keys trusted for signed MQTT requests, by name (e.g. "ops-alice"). Local-only: a pushed config never changes them.',
});

export type TrustedKeysConfig = Static<typeof TrustedKeysSchema>;
