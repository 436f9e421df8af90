import { closeSync, fstatSync, openSync, readSync, constants as fsc } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Secrets (the heartbeat key, the MQTT, SMTP, console and VRRP passwords) live in files of their
 * own, named by the `*_file` fields: the first line is the secret. One reader for all of them,
 * used both by `twinvip check` and by the daemon, so what check accepts is what runs.
 */
export interface SecretFileRules {
  /** Fewer bytes than this is an error (the heartbeat key: 16). */
  minBytes?: number;
  /** More bytes than this is an error (the VRRP PASS password: 8). */
  maxBytes?: number;
  /** Trim surrounding white space (the heartbeat key, which both boxes must read alike). */
  trim?: boolean;
}

export type SecretRead = { ok: true; value: string; warnings: string[] } | { ok: false; error: string };

// A secret file is a line; anything larger is not one (and is not read into memory whole).
const MAX_FILE = 64 * 1024;

export async function readSecretFile(path: string, rules: SecretFileRules = {}): Promise<SecretRead> {
  let fh;
  try {
    // O_NOFOLLOW is not wanted (/etc/twinvip may be a symlink farm); O_NONBLOCK keeps a FIFO from hanging the loop.
    fh = await open(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (err) {
    return { ok: false, error: `${path}: ${errnoText(err)}` };
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) return { ok: false, error: `${path}: not a regular file` };
    const buf = Buffer.alloc(Math.min(st.size, MAX_FILE));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return judge(path, buf.subarray(0, bytesRead), st, rules);
  } catch (err) {
    return { ok: false, error: `${path}: ${errnoText(err)}` };
  } finally {
    await fh.close();
  }
}

/** The same, synchronously: for the few places that build state in one go (VRRP instance plans). */
export function readSecretFileSync(path: string, rules: SecretFileRules = {}): SecretRead {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY | fsc.O_NONBLOCK);
  } catch (err) {
    return { ok: false, error: `${path}: ${errnoText(err)}` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { ok: false, error: `${path}: not a regular file` };
    const buf = Buffer.alloc(Math.min(st.size, MAX_FILE));
    const n = readSync(fd, buf, 0, buf.length, 0);
    return judge(path, buf.subarray(0, n), st, rules);
  } catch (err) {
    return { ok: false, error: `${path}: ${errnoText(err)}` };
  } finally {
    closeSync(fd);
  }
}

function judge(path: string, bytes: Buffer, st: { mode: number; uid: number }, rules: SecretFileRules): SecretRead {
  let value = bytes.toString('utf8').split('\n')[0]!.replace(/\r$/, '');
  if (rules.trim) value = value.trim();
  const n = Buffer.byteLength(value, 'utf8');
  if (n === 0) return { ok: false, error: `${path}: empty (the secret is the file's first line)` };
  if (rules.minBytes !== undefined && n < rules.minBytes) return { ok: false, error: `${path}: ${n} bytes, shorter than ${rules.minBytes}` };
  if (rules.maxBytes !== undefined && n > rules.maxBytes) return { ok: false, error: `${path}: ${n} bytes, longer than ${rules.maxBytes}` };
  const warnings: string[] = [];
  if ((st.mode & 0o077) !== 0) {
    warnings.push(`${path}: mode ${(st.mode & 0o777).toString(8).padStart(4, '0')} lets group or others read or change the secret; chmod 600`);
  }
  const ourUid = process.getuid?.() ?? 0;
  if (st.uid !== 0 && st.uid !== ourUid) warnings.push(`${path}: owned by uid ${st.uid}, who can change the secret; chown root`);
  return { ok: true, value, warnings };
}

function errnoText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory, not a file';
  return code ?? (err as Error).message;
}
