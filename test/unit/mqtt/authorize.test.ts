// Every refusal of the request gate, with a fake clock: the hostile cases of issue "fleet trust"
// plus a few more, and the legitimate signed path.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfigText, type TwinvipConfig } from '../../../src/config';
import { publicKeyText } from '../../../src/fleet/keys';
import { signRequest } from '../../../src/fleet/signed-request';
import { authorizeRequest, type GateResult } from '../../../src/mqtt/commands/authorize';
import { NonceCache } from '../../../src/mqtt/commands/nonce-cache';
import { TrustStore } from '../../../src/mqtt/commands/trust-store';

const NOW = Date.parse('2026-03-01T10:00:00.000Z');
const operator = generateKeyPairSync('ed25519').privateKey;
const admin = generateKeyPairSync('ed25519').privateKey;
const stranger = generateKeyPairSync('ed25519').privateKey;
const PREFIX = 'twinvip/gw-a/';

function config(commands: Record<string, unknown> = {}): TwinvipConfig {
  const r = parseConfigText(JSON.stringify({
    node: { name: 'gw-a' },
    mqtt: { enabled: true, url: 'mqtts://broker:8883', commands: { enabled: true, config_push: true, ...commands } },
    trusted_keys: { ops: { role: 'operator', public_key: publicKeyText(operator) }, boss: { role: 'admin', public_key: publicKeyText(admin) } },
  }));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

function gate(cfg = config(), nonces = new NonceCache(cfg.mqtt.commands.nonce_cache)) {
  const trust = new TrustStore(cfg.trusted_keys);
  return (command: string, payload: string | Buffer, opts: { now?: number; retain?: boolean; topic?: string } = {}): GateResult =>
    authorizeRequest(command, opts.topic ?? `${PREFIX}request/${command}`, Buffer.isBuffer(payload) ? payload : Buffer.from(payload), { retain: opts.retain ?? false }, {
      now: opts.now ?? NOW, settings: cfg.mqtt.commands, maxAgeMs: cfg.mqtt.command_max_age * 1000, trust, nonces,
    });
}

const signed = (key: KeyObject, command: string, args: unknown, o: { now?: number; valid?: number; nonce?: string; topic?: string } = {}) =>
  JSON.stringify(signRequest(key, o.topic ?? `${PREFIX}request/${command}`, args, { now: o.now ?? NOW, validSeconds: o.valid ?? 30, ...(o.nonce ? { nonce: o.nonce } : {}) }));

const reason = (r: GateResult) => (r.ok ? 'accepted' : r.reason);

describe('request gate: the legitimate path', () => {
  it('accepts each command signed by a key whose role allows it, naming the signer', () => {
    const g = gate();
    for (const [cmd, args] of [['maintenance', { on: true }], ['failover', {}], ['reload', {}], ['status', {}], ['diagnostics', { log_lines: 5 }]] as const) {
      const r = g(cmd, signed(operator, cmd, args));
      expect(r, cmd).toMatchObject({ ok: true, request: { command: cmd, args }, signer: { name: 'ops', role: 'operator' } });
    }
    expect(g('config', signed(admin, 'config', { config: { instances: {} } }))).toMatchObject({ ok: true, signer: { name: 'boss', role: 'admin' } });
    // An admin may do what an operator may.
    expect(reason(g('failover', signed(admin, 'failover', {})))).toBe('accepted');
  });

  it('echoes a transaction from the signed payload and returns the nonce for correlation', () => {
    const r = gate()('maintenance', signed(operator, 'maintenance', { on: false, transaction: 'tx-9' }, { nonce: 'n'.repeat(22) }));
    expect(r).toMatchObject({ ok: true, nonce: 'n'.repeat(22), request: { transaction: 'tx-9', args: { on: false } } });
  });

  it('accepts sent_at up to clock_skew in the future and expires_at up to clock_skew in the past', () => {
    const g = gate();
    expect(reason(g('failover', signed(operator, 'failover', {}, { now: NOW + 29_000 })))).toBe('accepted');
    expect(reason(g('failover', signed(operator, 'failover', {}, { now: NOW - 55_000, valid: 30 })))).toBe('accepted');
  });
});

describe('request gate: every hostile case is refused with its reason', () => {
  it('unsigned state-changing commands', () => {
    const g = gate();
    for (const cmd of ['maintenance', 'failover', 'reload', 'config']) {
      const r = g(cmd, JSON.stringify({ on: true, config: {} }));
      expect(reason(r), cmd).toBe('unsigned');
    }
    expect(gate()('maintenance', '{"on":true,"transaction":"t1"}')).toMatchObject({ ok: false, transaction: 't1', error: expect.stringMatching(/must be signed by a trusted key with the operator role/) });
    // Read-only commands too, unless the local config allows them unsigned.
    expect(reason(g('status', '{}'))).toBe('unsigned');
    expect(reason(gate(config({ unsigned: ['status'] }))('status', '{}'))).toBe('accepted');
    expect(reason(gate(config({ unsigned: ['status'] }))('diagnostics', '{}'))).toBe('unsigned');
  });

  it('a key that is not trusted, and a signature made by another key', () => {
    const g = gate();
    expect(reason(g('failover', signed(stranger, 'failover', {})))).toBe('unknown-key');
    const forged = { ...JSON.parse(signed(stranger, 'failover', {})), key: publicKeyText(operator) };
    expect(gate()('failover', JSON.stringify(forged))).toMatchObject({ ok: false, reason: 'bad-signature', signer: { name: 'ops' } });
  });

  it('a signed request moved to another topic (another box, another command)', () => {
    const forB = signed(operator, 'maintenance', { on: true }, { topic: 'twinvip/gw-b/request/maintenance' });
    expect(reason(gate()('maintenance', forB))).toBe('bad-signature');
    const asFailover = signed(operator, 'failover', {});
    expect(reason(gate()('reload', asFailover))).toBe('bad-signature');
  });

  it('a tampered payload', () => {
    const env = JSON.parse(signed(operator, 'maintenance', { on: false }));
    env.payload = '{"on":true}';
    expect(reason(gate()('maintenance', JSON.stringify(env)))).toBe('bad-signature');
  });

  it('an operator key pushing a config', () => {
    expect(gate()('config', signed(operator, 'config', { config: {} }))).toMatchObject({ ok: false, reason: 'forbidden', error: expect.stringMatching(/operator role; 'config' needs admin/) });
  });

  it('a replayed nonce, while it is remembered', () => {
    const g = gate();
    const once = signed(operator, 'failover', {});
    expect(reason(g('failover', once))).toBe('accepted');
    expect(reason(g('failover', once))).toBe('replay');
    expect(reason(g('failover', once, { now: NOW + 10_000 }))).toBe('replay');
    // The same nonce with a fresh signature (new times) is still a replay.
    const nonce = JSON.parse(once).nonce as string;
    expect(reason(g('failover', signed(operator, 'failover', {}, { nonce, now: NOW + 1000 }), { now: NOW + 1000 }))).toBe('replay');
  });

  it('expired, from the future, and valid for too long', () => {
    const g = gate();
    expect(reason(g('failover', signed(operator, 'failover', {}, { now: NOW - 120_000 })))).toBe('expired');
    const future = g('failover', signed(operator, 'failover', {}, { now: NOW + 10 * 365 * 86_400_000 }));
    expect(future).toMatchObject({ ok: false, reason: 'future', error: expect.stringMatching(/ahead of this box's clock/) });
    expect(reason(g('failover', signed(operator, 'failover', {}, { now: NOW + 31_000 })))).toBe('future');
    expect(reason(g('failover', signed(operator, 'failover', {}, { valid: 3600 })))).toBe('too-long');
    expect(g('failover', signed(operator, 'failover', {}, { valid: 0 }))).toMatchObject({ ok: false, reason: 'malformed', error: expect.stringMatching(/is not after sent_at/) });
  });

  it('oversized: refused by size before any parsing, even when it is not JSON', () => {
    const cfg = config();
    const big = Buffer.alloc(cfg.mqtt.commands.max_payload + 1, 0x7b);
    expect(gate(cfg)('status', big)).toMatchObject({ ok: false, reason: 'oversize', error: expect.stringMatching(/over the limit of 65536/) });
  });

  it('retained, unknown commands, non-JSON, bad envelopes, bad arguments', () => {
    const g = gate();
    expect(reason(g('failover', signed(operator, 'failover', {}), { retain: true }))).toBe('retained');
    expect(reason(g('selfdestruct', signed(operator, 'selfdestruct', {})))).toBe('unknown-command');
    expect(reason(g('status', '{not json'))).toBe('malformed');
    expect(reason(g('status', '[]'))).toBe('malformed');
    expect(reason(g('failover', JSON.stringify({ ...JSON.parse(signed(operator, 'failover', {})), v: 9 })))).toBe('malformed');
    expect(reason(g('maintenance', signed(operator, 'maintenance', { on: 'yes' })))).toBe('malformed');
    expect(reason(g('maintenance', signed(operator, 'maintenance', { on: true, expires_at: '2099-01-01T00:00:00Z' })))).toBe('malformed');
    expect(reason(g('failover', signed(operator, 'failover', 'not an object')))).toBe('malformed');
  });

  it('a full nonce cache refuses rather than forgetting an unexpired nonce', () => {
    const cfg = config({ nonce_cache: 100 });
    const g = gate(cfg, new NonceCache(100));
    for (let i = 0; i < 100; i++) expect(reason(g('status', signed(operator, 'status', {})))).toBe('accepted');
    expect(reason(g('status', signed(operator, 'status', {})))).toBe('nonce-cache-full');
    // Once they expire (30 s + skew 30 s), there is room again.
    expect(reason(g('status', signed(operator, 'status', {}, { now: NOW + 61_000 }), { now: NOW + 61_000 }))).toBe('accepted');
  });

  it('never throws on arbitrary bytes, signed-looking or not', () => {
    const g = gate();
    const base = signed(operator, 'failover', {});
    // The original first: a change that decodes to the same request (a non-canonical last base64
    // character of the signature) is then a replay, never a second run.
    expect(reason(g('failover', base))).toBe('accepted');
    for (let i = 0; i < 400; i++) {
      const bytes = Buffer.from(base);
      for (let k = 0; k < 1 + (i % 5); k++) {
        const at = (i * 131 + k * 977) % bytes.length;
        bytes[at] = bytes[at]! ^ (1 + ((i * 31 + k) % 255));
      }
      const r = g('failover', bytes);
      expect(r.ok).toBe(false);
    }
  });
});
