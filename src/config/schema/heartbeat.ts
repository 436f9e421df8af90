import { Type } from '@sinclair/typebox';
import { Command, Enum, LOCAL_ONLY, Path, Section } from '../../lib/schema-helpers';

const BAUD_RATES = [9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600] as const;

export const SerialHeartbeatSchema = Section(
  {
    enabled: Type.Boolean({ default: true, description: 'Run the serial heartbeat.' }),
    device: Type.String({ minLength: 1, pattern: '^/', description: 'Serial device linked to the twin, e.g. /dev/ttyS1 (any absolute path: a pty link made by socat works too); may be left out when node.board names a board with a heartbeat port.', 'x-valid': 'an absolute path, e.g. /dev/ttyS1' }),
    baud: Enum(BAUD_RATES, { default: 115200, description: 'Line speed.' }),
    period_ms: Type.Integer({ minimum: 10, maximum: 1000, default: 100, description: 'Milliseconds between heartbeat frames.' }),
    dead_periods: Type.Integer({ minimum: 2, maximum: 100, default: 5, description: 'Silent periods after which the peer counts as lost on this channel.' }),
    port_gone_s: Type.Integer({ minimum: 1, maximum: 3600, default: 30, description: 'Seconds a lost serial port (unplugged adapter, vanished device) may stay gone before it is the fault serial-port-gone (degraded, critical alarm); a port back sooner is a hiccup.' }),
    node_id: Type.Integer({ minimum: 1, maximum: 255, description: 'This box\'s id on the link; the twin must use another one.' }),
    key: Type.Optional(Type.String({ minLength: 16, description: 'Shared HMAC-SHA256 key (at least 16 characters). Give key or key_file, not both.' })),
    key_file: Type.Optional(Path('File holding the shared key (first line). Give key or key_file, not both. A key_file that does not exist yet: the box is unpaired (plain VRRP) until `twinvip pair` writes it.')),
  },
  { description: 'Authenticated heartbeat over the serial link to the twin.' },
);

export const TwinProbeSchema = Section(
  {
    enabled: Type.Boolean({ default: true, description: 'With the serial heartbeat: when the serial link falls silent, probe the twin\'s daemon over the LAN and take over as soon as it does not answer (instead of waiting for its adverts to stop); never take over while it answers.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 17077, description: 'UDP port both boxes answer probes on (the same on both; let it through any firewall between them).' }),
    after_ms: Type.Optional(Type.Integer({ minimum: 10, maximum: 60_000, description: 'Milliseconds of serial silence before probing; default serial period_ms + 30.' })),
    tries: Type.Integer({ minimum: 1, maximum: 20, default: 3, description: 'Probes per round; the first authenticated answer ends it.' }),
    interval_ms: Type.Integer({ minimum: 5, maximum: 1000, default: 20, description: 'Milliseconds between probes; a round lasts tries x interval_ms.' }),
  },
  { default: {}, description: 'Probe of the twin\'s daemon over the LAN when the serial link is silent (authenticated with the serial heartbeat key).' },
);

export const HeartbeatSchema = Section(
  {
    serial: Type.Optional(SerialHeartbeatSchema),
    probe: TwinProbeSchema,
    fence: Type.Optional(
      Section(
        {
          command: Command('Run before taking over from a peer that both channels lost; exit 0 = peer fenced.'),
          timeout: Type.Number({ minimum: 0.1, maximum: 300, default: 10, description: 'Seconds before the fence command counts as failed (its whole process group is killed).' }),
          user: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'Run as this user (name or uid); default notify.script_user.', ...LOCAL_ONLY.user })),
        },
        { description: 'Optional fence hook run before a takeover when both heartbeat channels are lost.' },
      ),
    ),
  },
  { default: {}, description: 'Heartbeat beside the VRRP adverts, against split-brain.' },
);
