import { Type, type Static, type TProperties } from '@sinclair/typebox';
import { Command, LOCAL_ONLY, Section, Weight } from '../../lib/schema-helpers';

// keepalived's vrrp_script knobs (interval, timeout, rise, fall, weight) for every kind of check.
const common = {
  interval: Type.Number({ minimum: 0.1, maximum: 3600, default: 2, description: 'Seconds between runs.' }),
  timeout: Type.Number({ minimum: 0.1, maximum: 3600, default: 2, description: 'Seconds before a run counts as failed; at most interval.' }),
  rise: Type.Integer({ minimum: 1, maximum: 100, default: 1, description: 'Consecutive successes before the check is up.' }),
  fall: Type.Integer({ minimum: 1, maximum: 100, default: 1, description: 'Consecutive failures before the check is down.' }),
  weight: Type.Optional(Weight()),
  role: Type.Optional(
    Type.Union([Type.Literal('gateway'), Type.Literal('uplink'), Type.Literal('nginx')], {
      description:
        'What this check tells the twin over the serial heartbeat: "gateway" (the LAN gateway answers; the gateway rule compares it), "uplink" or "nginx". Several checks of one role must all be up. An instance must track the check (it only runs then).',
    }),
  ),
} satisfies TProperties;

const ScriptCheck = Section(
  {
    type: Type.Literal('script', { description: 'Run a program; exit 0 = healthy.' }),
    script: Command('The program and its arguments, run without a shell.'),
    user: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Run as this user (name or uid); default notify.script_user.', ...LOCAL_ONLY.user })),
    ...common,
  },
  { description: 'script: run a program (keepalived vrrp_script).' },
);

const TcpCheck = Section(
  {
    type: Type.Literal('tcp', { description: 'TCP connect.' }),
    host: Type.String({ format: 'host-or-ip', description: 'Host to connect to.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, description: 'TCP port.' }),
    ...common,
  },
  { description: 'tcp: a TCP connection succeeds.' },
);

const HttpCheck = Section(
  {
    type: Type.Literal('http', { description: 'HTTP GET.' }),
    url: Type.String({ format: 'uri', pattern: '^https?://', description: 'URL fetched with GET.', 'x-valid': 'an http:// or https:// URL' }),
    status: Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), {
      default: [200],
      maxItems: 32,
      minItems: 1,
      description: 'Status codes that count as healthy.',
    }),
    tls_verify: Type.Boolean({ default: true, description: 'Verify the server certificate (https).' }),
    ...common,
  },
  { description: 'http: a GET answers with an expected status.' },
);

const PingCheck = Section(
  {
    type: Type.Literal('ping', { description: 'ICMP echo.' }),
    host: Type.String({ format: 'host-or-ip', description: 'Host to ping, typically the LAN or uplink gateway.' }),
    count: Type.Integer({ minimum: 1, maximum: 10, default: 1, description: 'Echo requests per run; one reply is enough.' }),
    ...common,
  },
  { description: 'ping: a gateway answers ICMP echo.' },
);

export const CHECK_TYPES = ['script', 'tcp', 'http', 'ping'] as const;

// oneOf with ajv's discriminator: only the branch named by `type` is validated, so a typo in one
// field is reported once and not as four alternative failures.
export const CheckSchema = Type.Unsafe<Static<typeof ScriptCheck> | Static<typeof TcpCheck> | Static<typeof HttpCheck> | Static<typeof PingCheck>>({
  type: 'object',
  description: 'A health check (keepalived vrrp_script, generalised). `type` selects the kind.',
  discriminator: { propertyName: 'type' },
  required: ['type'],
  oneOf: [ScriptCheck, TcpCheck, HttpCheck, PingCheck],
});

export type CheckConfig = Static<typeof CheckSchema>;
