// A throwaway PKI made with the real openssl for the TLS tests: short-lived P-256 certificates in
// a temp dir the test removes. Nothing here is ever trusted outside that test.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface Ca {
  cert: string;
  key: string;
}

export interface Pair {
  cert: string;
  key: string;
}

/** A self-signed CA (CA:TRUE, keyCertSign) as <dir>/<name>.crt and .key. */
export function makeCa(dir: string, name: string): Ca {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  openssl(['req', '-x509', ...EC, '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { cert, key };
}

/** A leaf signed by `ca`: `extensions` are openssl x509v3 lines (subjectAltName, extendedKeyUsage). */
export function makeLeaf(dir: string, name: string, cn: string, ca: Ca, extensions: string[]): Pair {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, `${['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature', ...extensions].join('\n')}\n`);
  openssl(['req', '-new', ...EC, '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`]);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '2', '-extfile', ext, '-out', cert]);
  return { cert, key };
}

export interface Pki {
  ca: Ca;
  /** Another CA that signed nothing here: trusting only it must refuse the broker. */
  otherCa: Ca;
  server: Pair;
  client: Pair;
  /** The client certificate's CN (mosquitto use_identity_as_username makes it the user name). */
  clientCn: string;
}

export function makePki(dir: string): Pki {
  const ca = makeCa(dir, 'tv-test-ca');
  const otherCa = makeCa(dir, 'tv-other-ca');
  const server = makeLeaf(dir, 'server', 'localhost', ca, ['subjectAltName=IP:127.0.0.1,DNS:localhost', 'extendedKeyUsage=serverAuth']);
  const clientCn = 'tv-client';
  const client = makeLeaf(dir, 'client', clientCn, ca, ['extendedKeyUsage=clientAuth']);
  return { ca, otherCa, server, client, clientCn };
}
