import { Type } from '@sinclair/typebox';
import { Enum, Path, Section } from './helpers';

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
    state_dir: Path('Where twinvip keeps state (MQTT outbox, last good Nginx config).', { default: '/var/lib/twinvip' }),
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
  },
  { default: {}, description: 'Logging.' },
);

export const NginxSchema = Section(
  {
    enabled: Type.Boolean({ default: false, description: 'twinvip renders, applies and supervises Nginx.' }),
    binary: Path('Nginx executable, by absolute path.', { default: '/usr/sbin/nginx' }),
    prefix: Path('Nginx prefix (-p): rendered config, pid file, temp dirs.', { default: '/var/lib/twinvip/nginx' }),
    servers: Type.Optional(Type.Array(Type.Object({}), { description: 'Proxy servers (http and stream); the schema arrives with Nginx control.' })),
    upstreams: Type.Optional(Type.Record(Type.String(), Type.Object({}), { description: 'Upstream groups by name; the schema arrives with Nginx control.' })),
  },
  { default: {}, description: 'The on-box Nginx (L4 stream + L7 http proxy).' },
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
    keepalive: Type.Integer({ minimum: 5, maximum: 3600, default: 30, description: 'MQTT keepalive, seconds.' }),
    telemetry_interval: Type.Number({ minimum: 1, maximum: 3600, default: 30, description: 'Seconds between telemetry messages.' }),
    outbox_max: Type.Integer({ minimum: 0, maximum: 100000, default: 1000, description: 'Events kept on disk while the broker is unreachable.' }),
  },
  { default: {}, description: 'MQTT reporting and fleet commands.' },
);

export const ConsoleSchema = Section(
  {
    enabled: Type.Boolean({ default: false, description: 'Serve the diagnostic shell on a serial console.' }),
    device: Type.Optional(Type.String({ pattern: '^/dev/', description: 'Console serial device, e.g. /dev/ttyS0. Required when enabled; default the board\'s console port when node.board is set.', 'x-valid': 'a device path under /dev/' })),
    baud: Enum([9600, 19200, 38400, 57600, 115200] as const, { default: 115200, description: 'Line speed.' }),
    password: Type.Optional(Type.String({ minLength: 1, description: 'Password asked before guarded actions; none = read-only console.' })),
    idle_timeout: Type.Number({ minimum: 0, maximum: 86400, default: 600, description: 'Seconds of silence before the session ends; 0 = never.' }),
  },
  { default: {}, description: 'Diagnostic shell on the serial console.' },
);

export const NotifySettingsSchema = Section(
  {
    timeout: Type.Number({ minimum: 0.1, maximum: 3600, default: 30, description: 'Seconds a notify script may run before it is killed.' }),
    script_user: Type.Optional(Type.String({ minLength: 1, description: 'User notify scripts and script checks run as (keepalived script_user); default root.' })),
    enable_script_security: Type.Boolean({ default: false, description: 'Refuse scripts writable by non-root users (keepalived enable_script_security).' }),
  },
  { default: {}, description: 'How notify scripts run.' },
);

export const EmailSchema = Section(
  {
    smtp_server: Type.String({ format: 'host-or-ip', description: 'SMTP relay (smtp_server).' }),
    smtp_port: Type.Integer({ minimum: 1, maximum: 65535, default: 25, description: 'SMTP port.' }),
    smtp_helo: Type.Optional(Type.String({ format: 'hostname', description: 'HELO name (smtp_helo_name); default node.name.' })),
    from: Type.String({ format: 'email', description: 'Sender (notification_email_from).' }),
    to: Type.Array(Type.String({ format: 'email' }), { minItems: 1, uniqueItems: true, description: 'Recipients (notification_email).' }),
    connect_timeout: Type.Number({ minimum: 1, maximum: 300, default: 30, description: 'Seconds (smtp_connect_timeout).' }),
  },
  { description: 'E-mail alerts (keepalived smtp_alert).' },
);
