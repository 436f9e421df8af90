import { Type, type Static } from '@sinclair/typebox';
import { Command, Enum, NAME_PATTERN, NAME_VALID, Path, Section, Weight } from '../../lib/schema-helpers';

/** RFC 3768/5798: "Count IPvX Addr" is one byte. Bounds the work a pushed config can cause too. */
const MAX_VIPS = 255;

const Vip = Type.Union(
  [
    Type.String({ format: 'vip' }),
    Section(
      {
        address: Type.String({ format: 'ip', description: 'The virtual address.' }),
        prefix: Type.Optional(
          Type.Integer({ minimum: 0, maximum: 128, description: 'Prefix length; default /32 (IPv4) or /128 (IPv6), as keepalived.' }),
        ),
        dev: Type.Optional(Type.String({ format: 'ifname', description: "Interface carrying the VIP; default the instance's interface." })),
        label: Type.Optional(Type.String({ format: 'if-label', description: 'Address label (`ip addr ... label`), e.g. lan0:vip.' })),
      },
      { description: 'A VIP with options.' },
    ),
  ],
  {
    description: 'A virtual address: "addr/prefix" or {address, prefix?, dev?, label?}.',
    'x-valid': '"192.0.2.10/24", "2001:db8::10/64", or {"address": "192.0.2.10", "prefix": 24, "dev": "lan0"}',
  },
);

const TrackRef = (what: string, format: Record<string, string>) =>
  Type.Union(
    [
      Type.String(format),
      Section({
        name: Type.String({ ...format, description: `The tracked ${what}.` }),
        weight: Type.Optional(Weight()),
      }),
    ],
    { 'x-valid': `a ${what} name, or {"name": ..., "weight": -253..253}` },
  );

const Notify = Section(
  {
    master: Type.Optional(Command('Run on becoming MASTER.')),
    backup: Type.Optional(Command('Run on becoming BACKUP.')),
    fault: Type.Optional(Command('Run on entering FAULT.')),
    stop: Type.Optional(Command('Run when the instance stops.')),
    notify: Type.Optional(
      Command('Run on every transition with keepalived\'s arguments: "INSTANCE" NAME STATE PRIORITY.'),
    ),
  },
  { default: {}, description: 'Notify scripts, run without a shell.' },
);

export const GarpSchema = Section(
  {
    master_delay: Type.Number({ minimum: 0, maximum: 3600, default: 5, description: 'Seconds after becoming MASTER before the second burst of gratuitous ARP/NA (keepalived garp_master_delay); 0 = none.' }),
    master_repeat: Type.Integer({ minimum: 1, maximum: 100, default: 5, description: 'Gratuitous ARP/NA per burst (garp_master_repeat).' }),
    master_refresh: Type.Number({ minimum: 0, maximum: 86400, default: 0, description: 'Seconds between periodic refreshes while MASTER (garp_master_refresh); 0 = off.' }),
    master_refresh_repeat: Type.Integer({ minimum: 1, maximum: 100, default: 1, description: 'Gratuitous ARP/NA per refresh (garp_master_refresh_repeat).' }),
    lower_prio_delay: Type.Number({ minimum: 0, maximum: 3600, default: 5, description: 'Seconds before re-announcing after hearing a lower-priority advert (garp_lower_prio_delay).' }),
    lower_prio_repeat: Type.Integer({ minimum: 0, maximum: 100, default: 5, description: 'Gratuitous ARP/NA sent on hearing a lower-priority advert (garp_lower_prio_repeat); 0 = none.' }),
    interval: Type.Number({ minimum: 0, maximum: 1, default: 0, description: 'Seconds between packets of one burst (vrrp_garp_interval); 0 = back to back.' }),
  },
  { default: {}, description: 'Gratuitous ARP (IPv4) / unsolicited NA (IPv6) on becoming MASTER.' },
);

export const InstanceSchema = Section(
  {
    interface: Type.String({ format: 'ifname', description: 'Interface the adverts go out on and the VIPs are added to.' }),
    vrid: Type.Integer({ minimum: 1, maximum: 255, description: 'Virtual router id (virtual_router_id), unique per interface and address family.' }),
    priority: Type.Integer({
      minimum: 1,
      maximum: 255,
      default: 100,
      description: 'Election priority; the highest wins. 255 only for the address owner (see address_owner).',
      'x-valid': '1..254, or 255 for an address owner',
    }),
    version: Enum([2, 3] as const, {
      default: 2,
      description: 'VRRP version: 2 (RFC 3768, IPv4 only, whole-second adverts; keepalived\'s default) or 3 (RFC 5798, IPv4 and IPv6, centisecond adverts).',
    }),
    advert_int: Type.Number({
      exclusiveMinimum: 0,
      maximum: 255,
      default: 1,
      description: 'Advertisement interval in seconds. v2: whole seconds 1..255; v3: 0.01..40.95 in steps of 0.01.',
      'x-valid': 'seconds: whole 1..255 with version 2, 0.01..40.95 (steps of 0.01) with version 3',
    }),
    state: Enum(['MASTER', 'BACKUP'] as const, {
      default: 'BACKUP',
      description: 'Initial state hint, as keepalived: MASTER starts by advertising, BACKUP waits for Master_Down_Interval. The election decides the rest.',
    }),
    preempt: Type.Boolean({
      default: true,
      description: 'A higher-priority BACKUP takes over from a lower-priority MASTER. false = keepalived nopreempt (requires state BACKUP).',
    }),
    preempt_delay: Type.Number({ minimum: 0, maximum: 1000, default: 0, description: 'Seconds after start-up during which a BACKUP does not preempt (keepalived preempt_delay).' }),
    preempt_hold_down: Type.Number({
      minimum: 0,
      maximum: 3600,
      default: 0.5,
      description:
        'With the serial heartbeat: seconds a returning higher-priority BACKUP must be ready to preempt without a break (after preempt_delay) before it asks its twin to hand over in one exchange; any transition (a flapping link) starts it over. The RFC path (Master_Down_Interval) is unchanged.',
    }),
    address_owner: Type.Boolean({
      default: false,
      description: 'This router owns the VIP (it is a primary address of the interface): required for priority 255, which must then be set.',
    }),
    vips: Type.Array(Vip, { default: [], maxItems: MAX_VIPS, description: 'Virtual addresses (virtual_ipaddress); one address family per instance. At most 255: the advert\'s address count is one byte.' }),
    excluded_vips: Type.Array(Vip, { default: [], maxItems: MAX_VIPS, description: 'Addresses moved with the instance but not listed in adverts (virtual_ipaddress_excluded); any family.' }),
    unicast_src_ip: Type.Optional(Type.String({ format: 'ip', description: 'Source address of unicast adverts; default the interface\'s primary address.' })),
    unicast_peers: Type.Array(Type.String({ format: 'ip' }), {
      maxItems: 16,
      default: [],
      uniqueItems: true,
      description: 'Send adverts by unicast to these peers instead of multicast (unicast_peer).',
    }),
    mcast_group: Type.Optional(Type.String({ format: 'ip', description: 'Multicast group of the adverts; the loader fills in 224.0.0.18 (IPv4) or ff02::12 (IPv6) when unset.' })),
    authentication: Type.Optional(
      Section(
        {
          type: Enum(['PASS', 'AH'] as const, {
            description: 'PASS: simple password in every advert (RFC 2338 5.3.6.1). AH: IPsec AH with HMAC-MD5-96 and anti-replay sequence numbers, keepalived\'s auth_type AH (RFC 2338 5.3.6.2, RFC 2402); IPv4 only, initial state BACKUP.',
          }),
          password: Type.Optional(Type.String({
            minLength: 1,
            maxLength: 8,
            description: 'The password (PASS) or HMAC key (AH), at most 8 characters (keepalived silently truncates longer ones). Give password or password_file.',
            'x-valid': '1 to 8 characters',
          })),
          password_file: Type.Optional(Path('File holding the password (first line, at most 8 characters). Give password or password_file.')),
        },
        { description: 'VRRPv2 authentication (auth_type/auth_pass). Not allowed with version 3 (RFC 5798 removed it).' },
      ),
    ),
    track_interfaces: Type.Array(TrackRef('interface', { format: 'ifname' }), {
      maxItems: 32,
      default: [],
      description: 'Interfaces whose link state the instance follows (track_interface).',
    }),
    track_checks: Type.Array(TrackRef('check', { pattern: NAME_PATTERN, 'x-valid': NAME_VALID }), {
      maxItems: 64,
      default: [],
      description: 'Checks (from the checks section) the instance follows (track_script).',
    }),
    track_nginx: Type.Optional(
      Type.Union(
        [
          Type.Boolean(),
          Section({ weight: Type.Optional(Weight()) }),
        ],
        { description: 'Follow the local Nginx health: true (failure => FAULT) or {weight}.', 'x-valid': 'true, false, or {"weight": -253..253}' },
      ),
    ),
    garp: GarpSchema,
    notify: Notify,
    smtp_alert: Type.Boolean({ default: false, description: 'Send an e-mail (email section) on each transition.' }),
    address_list_mismatch: Enum(['drop', 'accept'] as const, {
      default: 'drop',
      description:
        'An advert for our VRID whose address list differs from ours (count or addresses): drop = keepalived 2.2.7\'s rule, dropped, counted (drop.address-list) and logged with the source and both lists; accept = acted upon as if it matched, counted as warning.address-list (lenient; a stray advert can then move the VIP).',
    }),
    mixed_group: Type.Boolean({
      default: false,
      description:
        'A third router legitimately belongs to this VRID (e.g. keepalived during a migration): adverts from any source act as RFC 3768/5798 and keepalived say. Without it, and with the serial heartbeat, only the twin\'s adverts are acted upon; any other source on our VRID is dropped (drop.not-twin) and raises the vrid-conflict alarm.',
    }),
    v3_checksum: Enum(['rfc5798', 'v2-compatible'] as const, {
      default: 'rfc5798',
      description: 'VRRPv3 IPv4 checksum sent: rfc5798 (with pseudo-header, keepalived\'s default) or v2-compatible (without, as Cisco/Juniper/RFC 9568; keepalived v3_checksum_as_v2). Both are accepted on receive.',
    }),
  },
  { description: 'A VRRP instance (keepalived vrrp_instance).' },
);

export type InstanceConfig = Static<typeof InstanceSchema>;
export type VipSpec = InstanceConfig['vips'][number];
export type TrackSpec = InstanceConfig['track_interfaces'][number];

export const SyncGroupSchema = Section(
  {
    instances: Type.Array(Type.String({ pattern: NAME_PATTERN, 'x-valid': NAME_VALID }), {
      maxItems: 64,
      minItems: 1,
      uniqueItems: true,
      description: 'Instances that change state together (group).',
    }),
    notify: Notify,
    smtp_alert: Type.Boolean({ default: false, description: 'Send an e-mail on each group transition.' }),
  },
  { description: 'A sync group (keepalived vrrp_sync_group).' },
);

export type SyncGroupConfig = Static<typeof SyncGroupSchema>;
