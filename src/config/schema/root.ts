import { Type, type Static } from '@sinclair/typebox';
import { CheckSchema } from './checks';
import { HeartbeatSchema } from './heartbeat';
import { SchedulingSchema } from './scheduling';
import { NamedMap, Section } from '../../lib/schema-helpers';
import { InstanceSchema, SyncGroupSchema } from './instance';
import { TrustedKeysSchema } from './trust';
import { ConsoleSchema, ControlSchema, EmailSchema, LoggingSchema, MqttSchema, NginxSchema, NodeSchema, NotifySettingsSchema } from './services';

export const SCHEMA_ID = 'https://twinvip.invalid/schema/twinvip.schema.json';

export const ConfigSchema = Section(
  {
    $schema: Type.Optional(Type.String({ description: 'Path or URL of this schema, for editors; ignored by twinvip.' })),
    node: NodeSchema,
    control: ControlSchema,
    logging: LoggingSchema,
    instances: NamedMap(InstanceSchema, { maxProperties: 255, description: 'VRRP instances by name, e.g. VI_1 (keepalived vrrp_instance).' }),
    sync_groups: NamedMap(SyncGroupSchema, { maxProperties: 64, description: 'Sync groups by name (keepalived vrrp_sync_group).' }),
    checks: NamedMap(CheckSchema, { maxProperties: 128, description: 'Health checks by name, referenced from track_checks.' }),
    heartbeat: HeartbeatSchema,
    scheduling: SchedulingSchema,
    nginx: NginxSchema,
    mqtt: MqttSchema,
    console: ConsoleSchema,
    notify: NotifySettingsSchema,
    email: Type.Optional(EmailSchema),
    trusted_keys: TrustedKeysSchema,
  },
  {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: SCHEMA_ID,
    title: 'twinvip configuration',
    description: 'The configuration of twinvip, the high-availability service of a two-box gateway (/etc/twinvip/twinvip.json).',
  },
);

/** The configuration as the daemon reads it: every default filled in by the loader. */
export type TwinvipConfig = Static<typeof ConfigSchema>;
