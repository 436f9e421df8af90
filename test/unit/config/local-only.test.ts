// A config push can change instances, priorities, VIPs and the Nginx model, and nothing that runs
// something, names a local file or is a trust anchor (DESIGN.md "Fleet trust").
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { configSchemaJson } from '../../../src/config/schema-json';
import { localOnlyChanges, localOnlyValues, PUSHABLE_SECTIONS } from '../../../src/config/local-only';
import { planPush } from '../../../src/config/push-plan';
import { Section } from '../../../src/lib/schema-helpers';
import { generateKeyPair } from '../../../src/fleet/keys';

const KEY = generateKeyPair().publicKey;

/** The box's own file: scripts, a fence, files, MQTT, keys, a static Nginx root. */
const LOCAL = {
  node: { name: 'gw-a', state_dir: '/var/lib/twinvip' },
  instances: {
    VI_1: { interface: 'lan0', vrid: 51, priority: 150, vips: ['192.0.2.10/24'], track_checks: ['gw'], notify: { master: ['/usr/local/bin/on-master', 'VI_1'] } },
    VI_2: { interface: 'lan0', vrid: 52, priority: 100, vips: ['192.0.2.11/24'] },
  },
  checks: { gw: { type: 'script', script: '/usr/local/bin/check-gw', interval: 2 }, up: { type: 'ping', host: '192.0.2.1' } },
  heartbeat: { serial: { device: '/dev/ttyS1', node_id: 1, key_file: '/etc/twinvip/hb.key' }, fence: { command: '/usr/local/bin/fence' } },
  nginx: {
    enabled: true,
    upstreams: { app: { servers: [{ address: '10.0.0.5', port: 8080 }] } },
    http: [{ listen: [{ port: 80 }], locations: [{ type: 'static', path: '/static/', root: '/srv/www' }, { type: 'proxy', path: '/', upstream: 'app' }] }],
  },
  mqtt: { enabled: true, url: 'mqtts://broker:8883', password_file: '/etc/twinvip/mqtt.pw', commands: { enabled: true, config_push: true } },
  console: { enabled: false, password: 'console-secret' },
  trusted_keys: { boss: { role: 'admin', public_key: KEY } },
};
const LOCAL_TEXT = JSON.stringify(LOCAL, null, 2);

const clone = <T>(v: T): T => structuredClone(v);

function refusedPaths(pushed: unknown): string[] {
  const p = planPush(LOCAL_TEXT, pushed);
  if (p.ok) return [];
  if (!p.localOnly) throw new Error(`refused for another reason: ${p.error}\n${p.errors.join('\n')}`);
  return p.localOnly;
}

describe('config push: what it may change', () => {
  it('priorities, VIPs, new instances and the Nginx model (proxy parts) are accepted', () => {
    const pushed = {
      instances: {
        VI_1: { interface: 'lan0', vrid: 51, priority: 120, vips: ['192.0.2.10/24', '192.0.2.20/24'], track_checks: ['gw', 'up'] },
        VI_2: { interface: 'lan0', vrid: 52, priority: 200, vips: ['192.0.2.11/24'] },
        VI_3: { interface: 'lan0', vrid: 53, vips: ['192.0.2.30/24'] },
      },
      nginx: {
        enabled: true,
        upstreams: { app: { servers: [{ address: '10.0.0.5', port: 8080 }, { address: '10.0.0.6', port: 8080, weight: 2 }] } },
        http: [{ listen: [{ port: 80 }], locations: [{ type: 'static', path: '/static/', root: '/srv/www' }, { type: 'proxy', path: '/', upstream: 'app' }] }],
      },
    };
    const p = planPush(LOCAL_TEXT, pushed);
    if (!p.ok) throw new Error(`${p.error}\n${p.errors.join('\n')}`);
    const written = JSON.parse(p.text);
    expect(written.instances.VI_1.priority).toBe(120);
    expect(written.instances.VI_3.vips).toEqual(['192.0.2.30/24']);
    // Left out of the push, kept from the box: its notify script, its sections and secrets.
    expect(written.instances.VI_1.notify).toEqual({ master: ['/usr/local/bin/on-master', 'VI_1'] });
    expect(written.mqtt).toEqual(LOCAL.mqtt);
    expect(written.trusted_keys).toEqual(LOCAL.trusted_keys);
    expect(written.heartbeat).toEqual(LOCAL.heartbeat);
    expect(written.console.password).toBe('console-secret');
  });

  it('a push that repeats the local-only values as they are is accepted', () => {
    expect(planPush(LOCAL_TEXT, clone(LOCAL)).ok).toBe(true);
    // Also when it spells out a default the file leaves out (compared after defaults).
    expect(planPush(LOCAL_TEXT, { nginx: { ...clone(LOCAL.nginx), binary: '/usr/sbin/nginx' } }).ok).toBe(true);
  });

  it('moving a static location within its array is no change of a local path', () => {
    const pushed = clone(LOCAL);
    pushed.nginx.http[0]!.locations.reverse();
    expect(planPush(LOCAL_TEXT, { nginx: pushed.nginx }).ok).toBe(true);
  });
});

describe('config push: local-only fields are refused with their paths, whatever the signature', () => {
  const cases: [string, (c: typeof LOCAL & Record<string, any>) => void, string[]][] = [
    ['a notify script', (c) => (c.instances.VI_1 as any).notify = { master: '/tmp/evil' }, ['/instances/VI_1/notify/master']],
    ['a notify script on a new instance', (c) => ((c.instances as any).VI_9 = { interface: 'lan0', vrid: 59, vips: ['192.0.2.90/24'], notify: { backup: '/bin/sh -c id' } }), ['/instances/VI_9/notify/backup']],
    ['a script check', (c) => (c.checks.gw.script = '/bin/sh'), ['/checks/gw/script']],
    ['a new script check', (c) => ((c.checks as any).pwn = { type: 'script', script: ['/bin/sh', '-c', 'id'] }), ['/checks/pwn/script']],
    ['a check turned into a script', (c) => ((c.checks as any).up = { type: 'script', script: '/bin/true' }), ['/checks/up/script']],
    ['the user a check runs as', (c) => ((c.checks.gw as any).user = 'root'), ['/checks/gw/user']],
    ['the fence command', (c) => (c.heartbeat.fence.command = '/tmp/fence'), ['/heartbeat']],
    ['the serial heartbeat key file', (c) => (c.heartbeat.serial.key_file = '/etc/shadow'), ['/heartbeat']],
    ['nginx.binary', (c) => ((c.nginx as any).binary = '/tmp/nginx'), ['/nginx/binary']],
    ['nginx.prefix', (c) => ((c.nginx as any).prefix = '/etc'), ['/nginx/prefix']],
    ['nginx includes (modules, mime types)', (c) => Object.assign(c.nginx, { modules: '/etc/nginx/modules-enabled/x.conf', mime_types: '/etc/nginx/mime.types' }), ['/nginx/mime_types', '/nginx/modules']],
    ['a static root', (c) => (c.nginx.http[0]!.locations[0] as any).root = '/etc/twinvip', ['/nginx/http/0/locations/0/root']],
    ['the Nginx worker user', (c) => ((c.nginx as any).user = 'www-data'), ['/nginx/user']],
    ['mqtt.url (to another broker)', (c) => (c.mqtt.url = 'mqtts://evil:8883'), ['/mqtt']],
    ['mqtt.password_file', (c) => (c.mqtt.password_file = '/etc/shadow'), ['/mqtt']],
    ['config push itself', (c) => (c.mqtt.commands.config_push = false), ['/mqtt']],
    ['the console password', (c) => (c.console.password = 'x'), ['/console']],
    ['the trusted keys', (c) => (c.trusted_keys = { boss: { role: 'admin', public_key: generateKeyPair().publicKey } }), ['/trusted_keys']],
    ['the node name and state dir', (c) => (c.node.state_dir = '/tmp'), ['/node']],
    ['notify settings', (c) => ((c as any).notify = { script_user: 'root', enable_script_security: false }), ['/notify']],
    ['e-mail', (c) => ((c as any).email = { smtp_server: 'evil.example', from: 'a@b.c', to: ['x@y.z'] }), ['/email']],
    ['logging', (c) => ((c as any).logging = { level: 'error' }), ['/logging']],
    ['removing an instance that has a notify script', (c) => delete (c.instances as any).VI_1, ['/instances/VI_1/notify/master']],
  ];
  for (const [what, change, paths] of cases) {
    it(what, () => {
      const pushed = clone(LOCAL) as typeof LOCAL & Record<string, any>;
      change(pushed);
      const got = refusedPaths(pushed);
      expect(got).toEqual(expect.arrayContaining(paths));
      expect(got.every((p) => paths.some((want) => p === want || p.startsWith(`${want}/`)))).toBe(true);
    });
  }

  it('lists every offending path at once', () => {
    const pushed = clone(LOCAL) as any;
    pushed.mqtt.url = 'mqtts://evil:8883';
    pushed.checks.gw.script = '/bin/sh';
    pushed.nginx.binary = '/tmp/nginx';
    const p = planPush(LOCAL_TEXT, pushed);
    expect(p).toMatchObject({ ok: false, localOnly: ['/checks/gw/script', '/mqtt', '/nginx/binary'], error: expect.stringMatching(/changes 3 local-only field/) });
  });

  it('an invalid push is refused with its errors, the file unchanged', () => {
    const pushed = clone(LOCAL) as any;
    pushed.instances.VI_1.priority = 300;
    expect(planPush(LOCAL_TEXT, pushed)).toMatchObject({ ok: false, errors: [expect.stringMatching(/\/instances\/VI_1\/priority/)] });
    expect(planPush(LOCAL_TEXT, [])).toMatchObject({ ok: false });
  });
});

describe('local-only is data-driven', () => {
  it('any key ending in _file is local-only, in a field added later and anywhere in the tree', () => {
    const schema = Section({ instances: Type.Optional(Type.Record(Type.String(), Type.Object({ cert_file: Type.Optional(Type.String()), name: Type.Optional(Type.String()) }))) });
    const vals = localOnlyValues({ instances: { a: { cert_file: '/etc/x', name: 'n' } } }, schema as never);
    expect(vals.map((v) => v.path)).toEqual(['/instances/a/cert_file']);
    expect(localOnlyChanges({ instances: { a: { cert_file: '/x' } } }, { instances: { a: { cert_file: '/y' } } }, schema as never)).toEqual(['/instances/a/cert_file']);
  });

  it('Nginx TLS certificate and key files are local-only (the _file rule, no list to update)', () => {
    const tls = { certificate_file: '/etc/ssl/a.pem', key_file: '/etc/ssl/a.key', ocsp_stapling: { resolvers: ['192.0.2.53'], trusted_certificate_file: '/etc/ssl/ca.pem' } };
    const paths = localOnlyValues({ nginx: { http: [{ listen: [{ port: 443 }], tls, locations: [] }], stream: [{ listen: [{ port: 8443 }], tls }] } }).map((v) => v.path);
    expect(paths).toEqual(expect.arrayContaining([
      '/nginx/http/0/tls/certificate_file', '/nginx/http/0/tls/key_file', '/nginx/http/0/tls/ocsp_stapling/trusted_certificate_file',
      '/nginx/stream/0/tls/certificate_file', '/nginx/stream/0/tls/key_file',
    ]));
  });

  it('every absolute path and every program in the published schema is local-only', () => {
    const offenders: string[] = [];
    const visit = (s: Record<string, unknown>, where: string) => {
      if (s.type === 'string' && typeof s.pattern === 'string' && /^\^\/\[?A-Za-z0-9\._(\/\*)?-/.test(s.pattern) && s['x-local-only'] === undefined) offenders.push(where);
      for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Record<string, unknown>>)) visit(v, `${where}.${k}`);
      if (s.additionalProperties && typeof s.additionalProperties === 'object') visit(s.additionalProperties as Record<string, unknown>, `${where}.<name>`);
      if (s.items) visit(s.items as Record<string, unknown>, `${where}[]`);
      for (const alt of [...((s.anyOf ?? []) as Record<string, unknown>[]), ...((s.oneOf ?? []) as Record<string, unknown>[])]) visit(alt, where);
    };
    const schema = configSchemaJson();
    for (const section of PUSHABLE_SECTIONS) visit((schema.properties as Record<string, Record<string, unknown>>)[section]!, section);
    expect(offenders).toEqual([]);
  });
});
