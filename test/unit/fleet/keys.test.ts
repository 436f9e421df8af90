import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { keygenCommand } from '../../../src/commands/keygen';
import { generateKeyPair, keyFingerprint, loadPrivateKey, parsePublicKey } from '../../../src/fleet/keys';
import { makeTempDir } from '../../helpers/tmp';

const dir = makeTempDir('tvkeys-');
afterAll(() => dir.remove());

async function quietly<T>(fn: () => Promise<T>): Promise<{ result: T; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    return { result: await fn(), out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = o;
    process.stderr.write = e;
  }
}

describe('keys', () => {
  it('a generated public key parses back; the fingerprint is stable', () => {
    const p = generateKeyPair();
    expect(p.publicKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(parsePublicKey(p.publicKey).ok).toBe(true);
    expect(keyFingerprint(p.publicKey)).toBe(keyFingerprint(p.publicKey));
    expect(keyFingerprint(p.publicKey)).toMatch(/^SHA256:[A-Za-z0-9_-]{16}$/);
    expect(parsePublicKey('not a key')).toMatchObject({ ok: false });
  });

  it('twinvip keygen writes the private key 0600 (whatever the umask) and the public key, and prints the trusted_keys entry', async () => {
    const old = process.umask(0o000);
    try {
      const file = dir.file('ops.key');
      const { result, out } = await quietly(() => keygenCommand(['-o', file, '--role', 'admin']));
      expect(result).toBe(0);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(`${file}.pub`).mode & 0o777).toBe(0o644);
      const pub = readFileSync(`${file}.pub`, 'utf8').trim();
      expect(out).toContain(`"ops": { "role": "admin", "public_key": "${pub}" }`);
      const loaded = await loadPrivateKey(file);
      expect(loaded).toMatchObject({ ok: true, publicKey: pub });
      // An existing key is never overwritten by accident.
      const again = await quietly(() => keygenCommand(['-o', file]));
      expect(again.result).toBe(1);
      expect(again.err).toMatch(/exists; use --force/);
      expect(readFileSync(`${file}.pub`, 'utf8').trim()).toBe(pub);
    } finally {
      process.umask(old);
    }
  });

  it('refuses a private key that group or others can read, and a key that is not Ed25519', async () => {
    const file = dir.file('loose.key');
    writeFileSync(file, generateKeyPair().privatePem, { mode: 0o600 });
    chmodSync(file, 0o644);
    expect(await loadPrivateKey(file)).toMatchObject({ ok: false, error: expect.stringMatching(/readable by group or others.*chmod 600/) });
    const junk = dir.file('junk.key');
    writeFileSync(junk, 'hello', { mode: 0o600 });
    expect(await loadPrivateKey(junk)).toMatchObject({ ok: false, error: expect.stringMatching(/not a PEM private key/) });
    expect(await loadPrivateKey(dir.file('missing.key'))).toMatchObject({ ok: false, error: expect.stringMatching(/ENOENT/) });
  });
});
