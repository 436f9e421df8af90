import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePublicKey, publicKeyText } from '../../../src/fleet/keys';
import { parseSignedRequest, signedBytes, signRequest, verifySignature, type SignedRequest } from '../../../src/fleet/signed-request';

const { privateKey } = generateKeyPairSync('ed25519');
const { privateKey: otherKey } = generateKeyPairSync('ed25519');
const pub = parsePublicKey(publicKeyText(privateKey));
if (!pub.ok) throw new Error(pub.error);
const TOPIC = 'twinvip/gw-a/request/maintenance';
const NOW = Date.parse('2026-03-01T10:00:00.000Z');

describe('signed request', () => {
  const req = signRequest(privateKey, TOPIC, { on: true }, { now: NOW, validSeconds: 30, nonce: 'AAAAAAAAAAAAAAAAAAAAAA' });

  it('carries every field the box needs, with times and the key as text', () => {
    expect(req).toEqual({
      v: 1,
      key: publicKeyText(privateKey),
      sent_at: '2026-03-01T10:00:00.000Z',
      expires_at: '2026-03-01T10:00:30.000Z',
      nonce: 'AAAAAAAAAAAAAAAAAAAAAA',
      payload: '{"on":true}',
      signature: expect.stringMatching(/^[A-Za-z0-9+/]{86}==$/),
    });
    expect(parseSignedRequest({ ...req })).toEqual({ ok: true, request: req });
  });

  it('verifies with the signer key over the same topic only', () => {
    expect(verifySignature(pub.key, TOPIC, req)).toBe(true);
    expect(verifySignature(pub.key, 'twinvip/gw-b/request/maintenance', req)).toBe(false);
    expect(verifySignature(pub.key, 'twinvip/gw-a/request/failover', req)).toBe(false);
    const other = parsePublicKey(publicKeyText(otherKey));
    expect(other.ok && verifySignature(other.key, TOPIC, req)).toBe(false);
  });

  it('fails when any signed field is changed', () => {
    const tampered: Partial<SignedRequest>[] = [
      { payload: '{"on":false}' },
      { payload: '{"on": true}' },
      { sent_at: '2026-03-01T10:00:01.000Z' },
      { expires_at: '2026-03-01T11:00:30.000Z' },
      { nonce: 'BAAAAAAAAAAAAAAAAAAAAA' },
      { key: publicKeyText(otherKey) },
    ];
    for (const t of tampered) expect(verifySignature(pub.key, TOPIC, { ...req, ...t }), JSON.stringify(t)).toBe(false);
    expect(verifySignature(pub.key, TOPIC, { ...req, signature: 'A'.repeat(86) + '==' })).toBe(false);
  });

  it('encodes canonically: length prefixes, so no field can borrow bytes from its neighbour', () => {
    const a = { key: 'k', sent_at: 's', expires_at: 'e', nonce: 'ab', payload: 'c' };
    const b = { key: 'k', sent_at: 's', expires_at: 'e', nonce: 'a', payload: 'bc' };
    expect(signedBytes('t', a).equals(signedBytes('t', b))).toBe(false);
    expect(signedBytes('t', a).toString()).toBe('18:twinvip-request-v1,1:t,1:k,1:s,1:e,2:ab,1:c,');
    // Bytes, not characters: a multi-byte payload is counted in UTF-8.
    expect(signedBytes('t', { ...a, payload: 'é' }).toString()).toContain(',2:é,');
  });

  it('refuses a malformed envelope with the field named', () => {
    const bad = (patch: Record<string, unknown>) => parseSignedRequest({ ...req, ...patch });
    expect(bad({ v: 2 })).toMatchObject({ ok: false, error: expect.stringMatching(/^v must be 1/) });
    expect(bad({ sent_at: 1767225600000 })).toMatchObject({ ok: false, error: expect.stringMatching(/^sent_at must be/) });
    expect(bad({ expires_at: 'tomorrow' })).toMatchObject({ ok: false, error: expect.stringMatching(/^expires_at must be/) });
    expect(bad({ nonce: 'short' })).toMatchObject({ ok: false, error: expect.stringMatching(/^nonce must be/) });
    expect(bad({ payload: { on: true } })).toMatchObject({ ok: false, error: expect.stringMatching(/^payload must be a string/) });
    expect(bad({ key: 'x' })).toMatchObject({ ok: false, error: expect.stringMatching(/^key must be/) });
    expect(bad({ signature: 'x' })).toMatchObject({ ok: false, error: expect.stringMatching(/^signature must be/) });
    expect(bad({ extra: 1 })).toMatchObject({ ok: false, error: expect.stringMatching(/unknown field 'extra'/) });
  });
});
