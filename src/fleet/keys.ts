// Ed25519 keys for signed fleet requests, with node:crypto only. A public key travels as the
// base64 of its 32 raw bytes (one line in JSON, like a WireGuard key); a private key is a PKCS#8
// PEM file that only its owner may read.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';

/** base64 of 32 bytes: 43 characters and one "=". */
export const PUBLIC_KEY_PATTERN = '^[A-Za-z0-9+/]{43}=$';

export interface KeyPairText {
  /** PKCS#8 PEM. */
  privatePem: string;
  /** base64 of the raw 32-byte public key. */
  publicKey: string;
}

export function generateKeyPair(): KeyPairText {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), publicKey: publicKeyText(privateKey) };
}

/** The base64 raw public key of a private or public Ed25519 key. */
export function publicKeyText(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' });
  return Buffer.from(String(jwk.x), 'base64url').toString('base64');
}

/** A public key from its base64 text, or an error value naming what is wrong. */
export function parsePublicKey(text: string): { ok: true; key: KeyObject } | { ok: false; error: string } {
  if (!new RegExp(PUBLIC_KEY_PATTERN).test(text)) return { ok: false, error: 'not the base64 of a 32-byte Ed25519 public key (44 characters ending in "=")' };
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(text, 'base64').toString('base64url') }, format: 'jwk' });
    return { ok: true, key };
  } catch (err) {
    return { ok: false, error: `not a valid Ed25519 public key (${(err as Error).message})` };
  }
}

/** "SHA256:" and 16 characters of the key's hash, for logs and audit lines (as ssh shows keys). */
export function keyFingerprint(publicKey: string): string {
  return `SHA256:${createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('base64url').slice(0, 16)}`;
}

export type PrivateKeyResult = { ok: true; key: KeyObject; publicKey: string } | { ok: false; error: string };

/**
 * Reads a private key file. Like ssh, refuses a file that group or others may read: a signing
 * key others can copy is no longer this operator's.
 */
export async function loadPrivateKey(path: string): Promise<PrivateKeyResult> {
  let text: string;
  try {
    const st = await stat(path);
    if ((st.mode & 0o077) !== 0) {
      return { ok: false, error: `${path} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 ${path}` };
    }
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { ok: false, error: `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  try {
    const key = createPrivateKey(text);
    if (key.asymmetricKeyType !== 'ed25519') return { ok: false, error: `${path} holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; an Ed25519 key is needed (twinvip keygen)` };
    return { ok: true, key, publicKey: publicKeyText(key) };
  } catch (err) {
    return { ok: false, error: `${path} is not a PEM private key (${(err as Error).message})` };
  }
}

/**
 * Writes a new file that must not exist yet (O_EXCL), created with `mode` from the start so
 * there is no moment where a private key is readable by others.
 */
export async function writeNewFile(path: string, text: string, mode: number): Promise<void> {
  const fh = await open(path, 'wx', mode);
  try {
    // The umask may have removed bits; a private key must end up exactly 0600.
    await fh.chmod(mode);
    await fh.writeFile(text);
  } finally {
    await fh.close();
  }
}
