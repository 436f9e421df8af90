import { createHash, createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';

/** What twinvip knows about one certificate/key pair after checking it. */
export interface CertificateFacts {
  subject: string;
  issuer: string;
  /** DNS names of subjectAltName (or the CN when there is none). */
  names: string[];
  notBefore: string;
  notAfter: string;
  /** Whole days until notAfter (negative once expired), as of `now`. */
  daysLeft: number;
  fingerprint: string;
  /** The certificate names an OCSP responder (needed for stapling). */
  ocspUrl: boolean;
}

export type PairProblem = { field: 'certificate_file' | 'key_file'; message: string; fix?: string };

export type PairCheck =
  | { ok: true; facts: CertificateFacts; certificate: Buffer; key: Buffer; digest: string }
  | { ok: false; problems: PairProblem[] };

const DAY_MS = 86_400_000;

export function daysLeft(notAfter: Date, now: number): number {
  return Math.floor((notAfter.getTime() - now) / DAY_MS);
}

/**
 * Reads and checks a certificate/key pair the way Nginx will use it, but with messages a person
 * can act on: the key is root's and readable by root only (it is the server's identity), the
 * certificate parses, the key is unencrypted (Nginx would ask for a pass phrase on a terminal it
 * does not have) and is the certificate's. Expiry is read, not judged: an expired certificate
 * still loads in Nginx (the caller warns and alarms).
 */
export async function checkPair(certificateFile: string, keyFile: string, now = Date.now()): Promise<PairCheck> {
  const problems: PairProblem[] = [];
  const keyBuf = await readKey(keyFile, problems);
  const certBuf = await readCertificateFile(certificateFile, problems);
  let cert: X509Certificate | undefined;
  if (certBuf) {
    try {
      cert = new X509Certificate(certBuf);
    } catch (err) {
      problems.push({ field: 'certificate_file', message: `${certificateFile} is not a PEM certificate: ${(err as Error).message}` });
    }
  }
  let key: KeyObject | undefined;
  if (keyBuf) {
    try {
      key = createPrivateKey(keyBuf);
    } catch (err) {
      const msg = (err as Error).message;
      const encrypted = /passphrase|encrypted|bad decrypt/i.test(msg) || keyBuf.includes('ENCRYPTED');
      problems.push(
        encrypted
          ? { field: 'key_file', message: `${keyFile} is encrypted: Nginx would wait for a pass phrase`, fix: `openssl pkey -in ${keyFile} -out ${keyFile}.plain (then chmod 600)` }
          : { field: 'key_file', message: `${keyFile} is not a PEM private key: ${msg}` },
      );
    }
  }
  if (cert && key && !cert.checkPrivateKey(key)) {
    problems.push({ field: 'key_file', message: `${keyFile} is not the key of ${certificateFile} (${cert.subject.replace(/\n/g, ', ')}): Nginx would refuse the pair`, fix: 'the key the certificate was issued for' });
  }
  if (problems.length > 0 || !cert || !certBuf || !keyBuf) return { ok: false, problems };
  const notAfter = new Date(cert.validTo);
  const names = (cert.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((n) => n.startsWith('DNS:'))
    .map((n) => n.slice(4));
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject)?.[1];
  return {
    ok: true,
    certificate: certBuf,
    key: keyBuf,
    digest: createHash('sha256').update(certBuf).update('\0').update(keyBuf).digest('hex'),
    facts: {
      subject: cert.subject.replace(/\n/g, ', '),
      issuer: cert.issuer.replace(/\n/g, ', '),
      names: names.length > 0 ? names : cn ? [cn] : [],
      notBefore: new Date(cert.validFrom).toISOString(),
      notAfter: notAfter.toISOString(),
      daysLeft: daysLeft(notAfter, now),
      fingerprint: cert.fingerprint256,
      ocspUrl: /OCSP - URI:/.test(cert.infoAccess ?? ''),
    },
  };
}

async function readKey(path: string, problems: PairProblem[]): Promise<Buffer | undefined> {
  try {
    const st = await stat(path);
    if (!st.isFile()) {
      problems.push({ field: 'key_file', message: `${path} is not a regular file` });
      return undefined;
    }
    if (st.uid !== 0) problems.push({ field: 'key_file', message: `${path} is owned by uid ${st.uid}, not root: its owner could swap the server's identity`, fix: `chown root:root ${path}` });
    if ((st.mode & 0o077) !== 0) {
      problems.push({ field: 'key_file', message: `${path} is readable or writable by others than root (mode ${(st.mode & 0o777).toString(8).padStart(4, '0')})`, fix: `chmod 600 ${path}` });
    }
    return await readFile(path);
  } catch (err) {
    problems.push({ field: 'key_file', message: `cannot read ${path}: ${describe(err)}` });
    return undefined;
  }
}

async function readCertificateFile(path: string, problems: PairProblem[]): Promise<Buffer | undefined> {
  try {
    const st = await stat(path);
    if (!st.isFile()) {
      problems.push({ field: 'certificate_file', message: `${path} is not a regular file` });
      return undefined;
    }
    if (st.size > 1024 * 1024) {
      problems.push({ field: 'certificate_file', message: `${path} is larger than 1 MiB: not a certificate chain` });
      return undefined;
    }
    return await readFile(path);
  } catch (err) {
    problems.push({ field: 'certificate_file', message: `cannot read ${path}: ${describe(err)}` });
    return undefined;
  }
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied (run the check as root)' : (err as Error).message;
}
