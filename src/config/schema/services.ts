import { Type } from '@sinclair/typebox';
import { READ_ONLY_COMMANDS } from '../../fleet/roles';
import { SYSLOG_FACILITIES } from '../../log/syslog';
import { Enum, Path, Section } from '../../lib/schema-helpers';

/** The largest request mqtt.commands.max_payload may allow (bench/README.md: its parse time). */
export const MAX_REQUEST_BYTES = 131072;

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

export const NodeSchema = Section(
  {
    name: Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$',
      default: 'twinvip',
      description: 'This box\'s name in logs, MQTT topics and the console.',
      'x-valid': '1-63 characters: letters, digits, "_", "." or "-"',
    }),
    board: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9_-]*$', description: 'Board profile (board/<name>/board.json; /opt/twinvip/board on the box, or $TWINVIP_BOARD_DIR): interfaces written "@lan"/"@uplink" become its interface names, and heartbeat.serial and console default to its serial devices.', 'x-valid': 'a board folder name, e.g. generic-arm64' })),
    status_led: Type.Optional(Path('Status LED: a Linux LED class directory, e.g. /sys/class/leds/status (MASTER on, BACKUP slow blink, FAULT fast blink, off when stopped). Default: the board\'s status LED when node.board names one.')),
    state_dir: Path('Where twinvip keeps state (MQTT outbox, last good Nginx config).', { default: '/var/lib/twinvip' }),
    pair: Type.Optional(Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.~-]{0,127}$',
      description: 'The pair this box belongs to, the same on both twins (e.g. the site: "branch-042"); published in the MQTT state so fleet tools group boxes into pairs. Default: both node names sorted and joined by "~" when node.twin is set.',
      'x-valid': '1-128 characters: letters, digits, "_", ".", "~" or "-"',
    })),
    twin: Type.Optional(Type.String({
      pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$',
      description: 'The twin\'s node.name, published in the MQTT state beside the pair id.',
      'x-valid': 'the other box\'s node.name',
    })),
  },
  { default: {}, description: 'This box.' },
);

export const ControlSchema = Section(
  {
    socket: Path('Unix socket of the local control interface (twinvip status, console).', { default: '/run/twinvip/control.sock' }),
  },
  { default: {}, description: 'Local control socket.' },
);

export const LoggingSchema = Section(
  {
    level: Enum(LOG_LEVELS, { default: 'info', description: 'Lowest level logged.' }),
    format: Enum(['text', 'json'] as const, { default: 'text', description: 'One line per event: text for people, json for machines.' }),
    subsystems: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_-]*$' }), Enum(LOG_LEVELS), {
        description: 'Per-subsystem level, e.g. {"vrrp": "debug", "mqtt": "warn"}.',
      }),
    ),
    journal_priority: Enum(['auto', 'always', 'never'] as const, {
      default: 'auto',
      description: 'Start each stdout line with its syslog priority (<3> error, <4> warn, <6> info, <7> debug) so the journal files it at its level (journalctl -p err -u twinvip). auto: when stdout is the journal (systemd\'s JOURNAL_STREAM names it).',
    }),
    syslog: Section(
      {
        enabled: Type.Boolean({ default: false, description: 'Also send every line to the local syslog socket (for rsyslog: the image\'s /etc/rsyslog.d/30-twinvip.conf writes local0 to /var/log/twinvip.log). Under systemd leave it off: the journal forwards the stdout lines with the unit\'s SyslogFacility=local0 already.' }),
        facility: Enum(SYSLOG_FACILITIES, { default: 'local0', description: 'Syslog facility of the lines.' }),
        socket: Path('The syslog socket (a unix datagram socket).', { default: '/dev/log' }),
        tag: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,32}$', default: 'twinvip', description: 'Syslog tag (program name) of the lines.', 'x-valid': '1-32 characters: letters, digits, "_", "." or "-"' }),
      },
      { default: {}, description: 'Optional syslog output (RFC 3164 datagrams, as syslog(3) sends them).' },
    ),
  },
  { default: {}, description: 'Logging.' },
);

// The nginx section's model lives with Nginx control (src/nginx/schema.ts).
export { NginxSchema } from '../nginx/schema';

const MqttCommandsSchema = Section(
  {
    enabled: Type.Boolean({ default: false, description: 'Subscribe to request/<command> and answer fleet commands. Off: the box only reports.' }),
    unsigned: Type.Array(Enum(READ_ONLY_COMMANDS), {
      default: [],
      uniqueItems: true,
      description: 'Read-only commands answered without a signature. Every other request must be signed by a key of trusted_keys.',
    }),
    config_push: Type.Boolean({ default: false, description: 'Accept a pushed configuration (command config, signed by an admin key). Local-only fields can never be changed by it.' }),
    max_payload: Type.Integer({
      minimum: 1024,
      maximum: MAX_REQUEST_BYTES,
      default: 65536,
      description: 'Largest request in bytes; a larger one is refused before it is parsed. With MQTT 5 the broker is also told to deliver nothing over twice this size (maximumPacketSize).',
    }),
    clock_skew: Type.Number({ minimum: 0, maximum: 300, default: 30, description: 'Seconds a signed request\'s sent_at may lie in the future, and its expires_at in the past, to allow for clocks that differ.' }),
    rate: Type.Number({ minimum: 0.1, maximum: 1000, default: 10, description: 'Requests handled per second on average; beyond rate and burst they are dropped unread and counted (a flood cannot take the event loop from VRRP).' }),
    burst: Type.Integer({ minimum: 1, maximum: 1000, default: 20, description: 'Requests handled back to back before rate applies.' }),
    nonce_cache: Type.Integer({ minimum: 100, maximum: 1000000, default: 10000, description: 'Nonces of signed requests remembered until their expiry (replay protection); when full of unexpired nonces, new signed requests are refused.' }),
    shed_after: Type.Integer({ minimum: 0, maximum: 100000, default: 100, description: 'Requests dropped by the rate limit within one second that make the box stop listening (unsubscribe from request/+) for shed_pause seconds, so a flood no longer reaches it at all; raises the mqtt-request-flood alarm. 0: never stop listening.' }),
    shed_pause: Type.Number({ minimum: 1, maximum: 300, default: 10, description: 'Seconds the box stops listening after a flood; doubled each time the flood is still there when it listens again (up to 300 s), back to this after a minute of calm.' }),
  },
  { default: {}, description: 'Fleet commands over MQTT: signatures, limits, config push.' },
);

export const MqttSchema = Section(
  {
    enabled: Type.Boolean({ default: false, description: 'Report to an MQTT broker.' }),
    url: Type.Optional(Type.String({ format: 'uri', pattern: '^(mqtts?|wss?)://', description: 'Broker URL, e.g. mqtts://broker.example.net:8883. Required when enabled.', 'x-valid': 'an mqtt://, mqtts://, ws:// or wss:// URL' })),
    client_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128, description: 'Client id; default twinvip-<node.name>.' })),
    username: Type.Optional(Type.String({ minLength: 1, description: 'User name.' })),
    password: Type.Optional(Type.String({ description: 'Password. Prefer password_file.' })),
    password_file: Type.Optional(Path('File holding the password (first line).')),
    tls: Type.Optional(
      Section(
        {
          ca: Type.Optional(Path('CA certificate (PEM).')),
          cert: Type.Optional(Path('Client certificate (PEM).')),
          key: Type.Optional(Path('Client key (PEM).')),
          reject_unauthorized: Type.Boolean({ default: true, description: 'Refuse a broker whose certificate does not verify.' }),
        },
        { description: 'TLS options for mqtts:// and wss://.' },
      ),
    ),
    prefix: Type.String({
      minLength: 1,
      pattern: '^[^#+]*/$',
      default: 'twinvip/{node}/',
      description: 'Topic prefix; {node} is replaced by node.name.',
      'x-valid': 'a topic prefix ending in "/" without wildcards, e.g. site1/twinvip/{node}/',
    }),
    protocol_version: Enum([5, 4] as const, {
      default: 5,
      description: 'MQTT protocol: 5, or 4 for 3.1.1. A broker that refuses 5 as unsupported is retried with 4.',
    }),
    keepalive: Type.Integer({ minimum: 5, maximum: 3600, default: 30, description: 'MQTT keepalive, seconds.' }),
    reconnect_min: Type.Number({ minimum: 0.1, maximum: 300, default: 1, description: 'Seconds before the first reconnect attempt; doubled (with jitter) after each failure.' }),
    reconnect_max: Type.Number({ minimum: 1, maximum: 3600, default: 60, description: 'Longest wait between reconnect attempts, seconds.' }),
    telemetry_interval: Type.Number({ minimum: 1, maximum: 3600, default: 30, description: 'Seconds between telemetry messages.' }),
    outbox_max: Type.Integer({ minimum: 1, maximum: 100000, default: 1000, description: 'Events kept on disk while the broker is unreachable; the oldest are dropped (and counted) beyond it.' }),
    outbox_max_bytes: Type.Integer({ minimum: 1024, maximum: 104857600, default: 1048576, description: 'Bytes of events kept on disk while the broker is unreachable.' }),
    command_max_age: Type.Number({
      minimum: 1,
      maximum: 86400,
      default: 60,
      description: 'Longest life of a request, seconds: a request whose sent_at is older, or a signed request whose expires_at is further than this after its sent_at, is refused, so a queued maintenance does not run hours later. The MQTT 5 message expiry applies too.',
    }),
    allow_plaintext_commands: Type.Boolean({
      default: false,
      description: 'Accept commands over a plaintext broker connection (mqtt:// or ws://). Without it, `check` refuses commands.enabled with such a URL; with it, every start logs a warning.',
    }),
    commands: MqttCommandsSchema,
    home_assistant: Section(
      {
        enabled: Type.Boolean({ default: false, description: 'Publish Home Assistant MQTT discovery: this box as a device with each instance\'s state and priority (sensors), its alarms and serial link (binary sensors), available while status is online. Read-only: no button or switch (commands stay signed).' }),
        prefix: Type.String({ minLength: 1, pattern: '^[^#+]*/$', default: 'homeassistant/', description: 'Home Assistant\'s discovery prefix.', 'x-valid': 'a topic prefix ending in "/" without wildcards' }),
      },
      { default: {}, description: 'Home Assistant MQTT discovery (off by default).' },
    ),
  },
  { default: {}, description: 'MQTT reporting and fleet commands.' },
);

export const ConsoleSchema = Section(
  {
    enabled: Type.Boolean({ default: false, description: 'Serve the diagnostic shell on a serial console.' }),
    device: Type.Optional(Type.String({ pattern: '^/', description: 'Console serial device, e.g. /dev/ttyS0 (any absolute path). Required when enabled; default the board\'s console port when node.board is set.', 'x-valid': 'an absolute path, e.g. /dev/ttyS1' })),
    baud: Enum([9600, 19200, 38400, 57600, 115200] as const, { default: 115200, description: 'Line speed.' }),
    password: Type.Optional(Type.String({ minLength: 1, description: 'Password asked before guarded actions; none (and no password_file) = read-only console. Prefer password_file.' })),
    password_file: Type.Optional(Path('File holding the console password (first line).')),
    idle_timeout: Type.Number({ minimum: 0, maximum: 86400, default: 600, description: 'Seconds of silence before the session ends; 0 = never.' }),
  },
  { default: {}, description: 'Diagnostic shell on the serial console.' },
);

export const NotifySettingsSchema = Section(
  {
    timeout: Type.Number({ minimum: 0.1, maximum: 3600, default: 30, description: 'Seconds a notify script may run before its process group is killed.' }),
    script_user: Type.Optional(Type.String({ minLength: 1, description: 'User (name or uid) notify scripts, script checks and the fence command run as unless they name one (keepalived script_user); default the daemon\'s user, root.' })),
    enable_script_security: Type.Boolean({
      default: true,
      description: 'Refuse a notify script, script check or fence command that would run as root from a place a non-root user can change: the file, every directory above it and every symlink on the way must be root\'s and not writable by a non-root group or others (keepalived enable_script_security). false runs it anyway, with a warning.',
    }),
  },
  { default: {}, description: 'How notify scripts, script checks and the fence command run.' },
);

export const EmailSchema = Section(
  {
    smtp_server: Type.String({ format: 'host-or-ip', description: 'SMTP relay (smtp_server).' }),
    smtp_port: Type.Integer({ minimum: 1, maximum: 65535, default: 25, description: 'SMTP port.' }),
    smtp_helo: Type.Optional(Type.String({ format: 'hostname', description: 'HELO name (smtp_helo_name); default node.name.' })),
    from: Type.String({ format: 'email', description: 'Sender (notification_email_from).' }),
    to: Type.Array(Type.String({ format: 'email' }), { minItems: 1, maxItems: 32, uniqueItems: true, description: 'Recipients (notification_email).' }),
    connect_timeout: Type.Number({ minimum: 1, maximum: 300, default: 30, description: 'Seconds (smtp_connect_timeout).' }),
    starttls: Enum(['opportunistic', 'required', 'off'] as const, {
      default: 'opportunistic',
      description: 'STARTTLS: when the server offers it (opportunistic), always (required: no mail over plain text), or never (off). keepalived has no TLS.',
    }),
    tls_verify: Type.Boolean({ default: true, description: "Verify the SMTP server's certificate after STARTTLS." }),
    username: Type.Optional(Type.String({ minLength: 1, description: 'SMTP AUTH user; no AUTH when unset.' })),
    password: Type.Optional(Type.String({ description: 'SMTP AUTH password. Prefer password_file.' })),
    password_file: Type.Optional(Path('File holding the SMTP AUTH password (first line).')),
    coalesce: Type.Number({ minimum: 0, maximum: 600, default: 5, description: 'Seconds events are gathered into one mail, so a burst of transitions sends one message.' }),
    max_per_hour: Type.Integer({ minimum: 1, maximum: 3600, default: 60, description: 'Mails sent per hour at most; events beyond it are counted and summarised in the next mail.' }),
  },
  { description: 'E-mail alerts (keepalived smtp_alert).' },
);
