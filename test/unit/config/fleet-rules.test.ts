import { describe, expect, it } from 'vitest';
import { configSchemaJson } from '../../../src/config/schema-json';
import { PUSHABLE_SECTIONS } from '../../../src/config/local-only';
import { MAX_REQUEST_BYTES } from '../../../src/config/schema/services';
import { generateKeyPair } from '../../../src/fleet/keys';
import { baseConfig, expectError, expectValid, parse } from './helpers';

const KEY = generateKeyPair().publicKey;
const withMqtt = (mqtt: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  baseConfig({}, { mqtt: { enabled: true, ...mqtt }, trusted_keys: { ops: { role: 'operator', public_key: KEY } }, ...extra });

describe('fleet commands in the config', () => {
  it('commands are off by default: the box only reports', () => {
    const { config } = expectValid(baseConfig({}, { mqtt: { enabled: true, url: 'mqtt://127.0.0.1:1883' } }));
    expect(config.mqtt.commands).toMatchObject({ enabled: false, unsigned: [], config_push: false, max_payload: 65536 });
    expect(config.trusted_keys).toEqual({});
  });

  it('refuses commands over a plaintext broker unless allow_plaintext_commands says so, then warns', () => {
    for (const url of ['mqtt://broker:1883', 'ws://broker/mqtt']) {
      expectError(withMqtt({ url, commands: { enabled: true } }), '/mqtt/url', 'is plaintext while mqtt.commands.enabled is true');
    }
    const ok = expectValid(withMqtt({ url: 'mqtt://broker:1883', allow_plaintext_commands: true, commands: { enabled: true } }));
    expect(ok.warnings.map((w) => w.path)).toContain('/mqtt/allow_plaintext_commands');
    expectValid(withMqtt({ url: 'mqtts://broker:8883', commands: { enabled: true } }));
    expectValid(withMqtt({ url: 'wss://broker/mqtt', commands: { enabled: true } }));
  });

  it('never repeats broker credentials of the URL in an error', () => {
    const r = parse(withMqtt({ url: 'mqtt://fleet:s3cret@broker:1883', commands: { enabled: true } }));
    expect(r.ok).toBe(false);
    expect(JSON.stringify(r)).not.toContain('s3cret');
    const bad = parse(withMqtt({ url: 'http://u:hunter2@x' }));
    expect(JSON.stringify(bad)).not.toContain('hunter2');
  });

  it('one public key, one role; keys must be Ed25519 public keys', () => {
    expectError(withMqtt({ url: 'mqtts://b' }, { trusted_keys: { a: { role: 'operator', public_key: KEY }, b: { role: 'admin', public_key: KEY } } }), '/trusted_keys/b/public_key', 'same key as trusted_keys.a');
    expectError(withMqtt({ url: 'mqtts://b' }, { trusted_keys: { a: { role: 'operator', public_key: 'abc' } } }), '/trusted_keys/a/public_key');
    expectError(withMqtt({ url: 'mqtts://b' }, { trusted_keys: { a: { role: 'root', public_key: KEY } } }), '/trusted_keys/a/role');
  });

  it('only read-only commands may be allowed unsigned', () => {
    expectValid(withMqtt({ url: 'mqtts://b', commands: { enabled: true, unsigned: ['status', 'diagnostics'] } }));
    expectError(withMqtt({ url: 'mqtts://b', commands: { enabled: true, unsigned: ['maintenance'] } }), '/mqtt/commands/unsigned/0');
  });

  it('warns when nothing could ever be accepted', () => {
    const none = expectValid(baseConfig({}, { mqtt: { enabled: true, url: 'mqtts://b', commands: { enabled: true, config_push: true } } }));
    expect(none.warnings.map((w) => w.path)).toEqual(expect.arrayContaining(['/mqtt/commands/enabled', '/mqtt/commands/config_push']));
  });

  it('the request cap has a ceiling (the largest allowed request is measured in bench/)', () => {
    expectError(withMqtt({ url: 'mqtts://b', commands: { max_payload: MAX_REQUEST_BYTES + 1 } }), '/mqtt/commands/max_payload');
  });
});

describe('bounded input: arrays and maps a config push can fill', () => {
  it('VIPs are capped at 255 per instance (730,195 used to pass)', () => {
    const vips = Array.from({ length: 256 }, (_, i) => `10.0.${i >> 8}.${(i & 255) + 0}/32`);
    expectError(baseConfig({ vips }), '/instances/VI_1/vips', 'at most 255 items');
    expectValid(baseConfig({ vips: vips.slice(1) }));
  });

  it('every array and map under the pushable sections has a maximum', () => {
    const unbounded: string[] = [];
    const visit = (s: Record<string, unknown>, where: string) => {
      if (s.type === 'array' && typeof s.maxItems !== 'number') unbounded.push(where);
      if (s.additionalProperties && typeof s.additionalProperties === 'object' && typeof s.maxProperties !== 'number') unbounded.push(where);
      for (const [k, v] of Object.entries((s.properties ?? {}) as Record<string, Record<string, unknown>>)) visit(v, `${where}.${k}`);
      if (s.additionalProperties && typeof s.additionalProperties === 'object') visit(s.additionalProperties as Record<string, unknown>, `${where}.<name>`);
      if (s.items) visit(s.items as Record<string, unknown>, `${where}[]`);
      for (const alt of [...((s.anyOf ?? []) as Record<string, unknown>[]), ...((s.oneOf ?? []) as Record<string, unknown>[])]) visit(alt, where);
    };
    const props = configSchemaJson().properties as Record<string, Record<string, unknown>>;
    for (const section of PUSHABLE_SECTIONS) visit(props[section]!, section);
    expect(unbounded).toEqual([]);
  });
});
