import { readFile, stat } from 'node:fs/promises';
import { pointer, type IssueCollector } from '../../lib/issue-collector';
import { checkPair } from './certificates';
import type { HttpTlsConfig, NginxConfig, StreamTlsConfig } from './schema';

/** Every certificate/key pair of the model with the JSON pointer of its `tls` section. */
export function tlsPairs(n: NginxConfig): { at: string; tls: HttpTlsConfig | StreamTlsConfig }[] {
  const out: { at: string; tls: HttpTlsConfig | StreamTlsConfig }[] = [];
  (n.http ?? []).forEach((s, i) => s.tls && out.push({ at: pointer('nginx', 'http', i, 'tls'), tls: s.tls }));
  (n.stream ?? []).forEach((s, i) => s.tls && out.push({ at: pointer('nginx', 'stream', i, 'tls'), tls: s.tls }));
  return out;
}

/**
 * The nginx section's rules that need this box's files, run by `twinvip check` and by every load
 * of the configuration (start, reload): a pair refused here never reaches `nginx -t`. Also closes
 * two ways to make the root master read a file it should not: `mime_types` must be a root-owned,
 * world-readable `types { }` file (`/etc/shadow` is root's too, but neither), and `user` must not
 * resolve to uid 0.
 */
export async function checkNginxFiles(n: NginxConfig, out: IssueCollector, now = Date.now(), passwd = '/etc/passwd'): Promise<void> {
  if (!n.enabled) return;
  const alarmDays = n.certificates?.alarm_days ?? 30;
  for (const { at, tls } of tlsPairs(n)) {
    const r = await checkPair(tls.certificate_file, tls.key_file, now);
    if (!r.ok) {
      for (const p of r.problems) out.error(`${at}/${p.field}`, p.message, p.field === 'key_file' ? tls.key_file : tls.certificate_file, p.fix);
      continue;
    }
    const f = r.facts;
    if (f.daysLeft < 0) out.warn(`${at}/certificate_file`, `${tls.certificate_file} (${f.subject}) expired on ${f.notAfter}: clients will refuse it`, tls.certificate_file);
    else if (f.daysLeft < alarmDays) out.warn(`${at}/certificate_file`, `${tls.certificate_file} (${f.subject}) expires in ${f.daysLeft} days (${f.notAfter})`, tls.certificate_file);
    if ('ocsp_stapling' in tls && tls.ocsp_stapling && !f.ocspUrl) {
      out.error(`${at}/ocsp_stapling`, `${tls.certificate_file} names no OCSP responder: Nginx would ignore stapling (and its warning fails the apply)`, undefined, 'remove ocsp_stapling for this certificate');
    }
  }
  if (n.mime_types !== undefined) await checkMimeTypes(n.mime_types, out);
  if (n.user !== undefined) await checkUser(n.user, out, passwd);
}

async function checkMimeTypes(path: string, out: IssueCollector): Promise<void> {
  const at = '/nginx/mime_types';
  try {
    const st = await stat(path);
    if (!st.isFile()) return out.error(at, `${path} is not a regular file`, path);
    if (st.uid !== 0) return out.error(at, `${path} is owned by uid ${st.uid}, not root: Nginx (root) parses it as configuration`, path, `chown root ${path}`);
    if ((st.mode & 0o022) !== 0) return out.error(at, `${path} is writable by others than root: whoever can write it writes Nginx configuration`, path, `chmod go-w ${path}`);
    // A MIME table is public: a file others may not read is not one (and its lines would end up
    // in `nginx -t` error messages).
    if ((st.mode & 0o004) === 0) return out.error(at, `${path} is not world-readable: not a MIME types file`, path, '/etc/nginx/mime.types');
    if (st.size > 1024 * 1024) return out.error(at, `${path} is larger than 1 MiB: not a MIME types file`, path);
    const text = await readFile(path, 'utf8');
    const code = text.replace(/#[^\n]*/g, '').trim();
    if (!/^types\s*\{[^{}]*\}$/.test(code)) return out.error(at, `${path} is not a MIME types file (one "types { ... }" block)`, path, '/etc/nginx/mime.types');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    out.error(at, `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`, path);
  }
}

async function checkUser(user: string, out: IssueCollector, passwd: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(passwd, 'utf8');
  } catch {
    return;
  }
  const entry = text.split('\n').find((l) => l.split(':')[0] === user);
  if (!entry) {
    out.warn('/nginx/user', `no user "${user}" on this machine: Nginx will refuse to start here`, user);
    return;
  }
  if (entry.split(':')[2] === '0') out.error('/nginx/user', `"${user}" has uid 0: the workers, which parse every client request, would run as root`, user, 'an unprivileged user such as www-data or nobody');
}
