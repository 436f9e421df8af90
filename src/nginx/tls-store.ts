import { chmod, mkdir, readdir, rm } from 'node:fs/promises';
import { writeFileAtomic } from '../lib/atomic-file';
import { join } from 'node:path';
import { checkPair, daysLeft, type CertificateFacts } from '../config/nginx/certificates';
import { tlsPairs } from '../config/nginx/local-files';
import { pairKey } from './render';
import type { NginxConfig } from '../config/nginx/schema';

/** One certificate of the model as telemetry, the console and `status` show it. */
export interface CertificateFigure {
  certificate_file: string;
  key_file: string;
  /** JSON pointers of the tls sections that use the pair. */
  used_by: string[];
  state: 'ok' | 'expiring' | 'expired' | 'invalid';
  subject: string | null;
  names: string[];
  not_after: string | null;
  days_left: number | null;
  fingerprint: string | null;
  /** Why the files on disk are not served (the last good copy is), when state is invalid. */
  error: string | null;
  /** The files on disk differ from what Nginx serves (rotation refused, or not applied yet). */
  pending: boolean;
}

interface Entry {
  certificateFile: string;
  keyFile: string;
  usedBy: string[];
  /** The copy Nginx is (or will be) given. */
  copy?: { digest: string; certificate: string; key: string; facts: CertificateFacts };
  error?: string;
  /** Digest of the files on disk when they differ from the copy. */
  diskDigest?: string;
}

/**
 * Root-only copies of every certificate/key pair, named by a hash of their content, which the
 * rendered config points at. So a rotation is a new file name, hence a new generation that goes
 * through the safe apply path (`nginx -t`, reload, probe, rollback); a pair that fails the checks
 * or `nginx -t` never replaces the copy the known good config uses, and a restart of Nginx after
 * a bad rotation still starts with the last good pair instead of failing.
 */
export class TlsStore {
  private entries = new Map<string, Entry>();
  private previous = new Map<string, Entry['copy']>();
  /** Digests `nginx -t` refused: not tried again until the files change. */
  private readonly refused = new Map<string, string>();

  constructor(private readonly dir: string) {}

  /**
   * Looks at the files of every pair of `model`. A valid pair whose content changed gets a new
   * copy; an invalid one keeps the last good copy. Returns the keys of the pairs whose copy
   * changed (those need an apply) and of the pairs that are invalid.
   */
  async refresh(model: NginxConfig, now = Date.now()): Promise<{ changed: string[]; invalid: string[] }> {
    const wanted = new Map<string, Entry>();
    for (const { at, tls } of tlsPairs(model)) {
      const key = pairKey(tls.certificate_file, tls.key_file);
      const e = wanted.get(key) ?? this.entries.get(key) ?? { certificateFile: tls.certificate_file, keyFile: tls.key_file, usedBy: [] };
      if (!wanted.has(key)) e.usedBy = [];
      e.usedBy.push(at);
      wanted.set(key, e);
    }
    const changed: string[] = [];
    const invalid: string[] = [];
    this.previous = new Map([...this.entries].map(([k, e]) => [k, e.copy]));
    for (const [key, e] of wanted) {
      const r = await checkPair(e.certificateFile, e.keyFile, now);
      if (!r.ok) {
        e.error = r.problems.map((p) => p.message).join('; ');
        e.diskDigest = undefined;
        invalid.push(key);
        continue;
      }
      if (e.copy?.digest === r.digest) {
        e.copy.facts = r.facts;
        e.error = undefined;
        e.diskDigest = undefined;
        continue;
      }
      const refusal = this.refused.get(r.digest);
      if (refusal !== undefined) {
        e.error = refusal;
        e.diskDigest = r.digest;
        invalid.push(key);
        continue;
      }
      e.copy = { digest: r.digest, ...(await this.writeCopy(r.digest, r.certificate, r.key)), facts: r.facts };
      e.error = undefined;
      e.diskDigest = undefined;
      changed.push(key);
    }
    for (const key of this.entries.keys()) if (!wanted.has(key)) changed.push(key);
    this.entries = wanted;
    return { changed, invalid };
  }

  /**
   * The apply of new copies was refused (`nginx -t`): go back to the copies before the last
   * refresh for `keys`, and remember the refused content so it is not tried again unchanged.
   */
  revert(keys: string[], reason: string): void {
    for (const key of keys) {
      const e = this.entries.get(key);
      if (!e?.copy) continue;
      const before = this.previous.get(key);
      if (before?.digest === e.copy.digest) continue;
      this.refused.set(e.copy.digest, reason);
      e.diskDigest = e.copy.digest;
      e.error = reason;
      if (before) e.copy = before;
      else delete e.copy;
    }
  }

  /** The files Nginx is given, by pairKey (RenderInput.certificates). */
  copies(): Map<string, { certificate: string; key: string }> {
    const out = new Map<string, { certificate: string; key: string }>();
    for (const [k, e] of this.entries) if (e.copy) out.set(k, { certificate: e.copy.certificate, key: e.copy.key });
    return out;
  }

  figures(alarmDays: number, now = Date.now()): CertificateFigure[] {
    return [...this.entries.values()]
      .sort((a, b) => (a.certificateFile < b.certificateFile ? -1 : a.certificateFile > b.certificateFile ? 1 : 0))
      .map((e) => {
        const f = e.copy?.facts;
        const days = f ? daysLeft(new Date(f.notAfter), now) : null;
        const state = e.error !== undefined || !f ? 'invalid' : days! < 0 ? 'expired' : days! < alarmDays ? 'expiring' : 'ok';
        return {
          certificate_file: e.certificateFile,
          key_file: e.keyFile,
          used_by: [...e.usedBy],
          state,
          subject: f?.subject ?? null,
          names: f?.names ?? [],
          not_after: f?.notAfter ?? null,
          days_left: days,
          fingerprint: f?.fingerprint ?? null,
          error: e.error ?? null,
          pending: e.diskDigest !== undefined || e.error !== undefined,
        };
      });
  }

  /** Removes copies that neither the current nor the previous pairs use. */
  async prune(): Promise<void> {
    const keep = new Set<string>();
    for (const e of this.entries.values()) if (e.copy) keep.add(e.copy.digest.slice(0, 32));
    for (const c of this.previous.values()) if (c) keep.add(c.digest.slice(0, 32));
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return;
    }
    for (const n of names) {
      const m = /^([0-9a-f]{32})\.(crt|key)$/.exec(n);
      if (m && !keep.has(m[1]!)) await rm(join(this.dir, n), { force: true });
    }
  }

  private async writeCopy(digest: string, certificate: Buffer, key: Buffer): Promise<{ certificate: string; key: string }> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    const base = join(this.dir, digest.slice(0, 32));
    await writeFileAtomic(`${base}.crt`, certificate);
    await writeFileAtomic(`${base}.key`, key);
    return { certificate: `${base}.crt`, key: `${base}.key` };
  }
}
