import { lstat, readlink } from 'node:fs/promises';
import { isAbsolute } from 'node:path';

/** One name the kernel passes through when it resolves a path: a directory, a symlink, or the file. */
export interface PathElement {
  path: string;
  kind: 'dir' | 'symlink' | 'file';
  uid: number;
  gid: number;
  mode: number;
}

export type PathWalk = { ok: true; realPath: string; elements: PathElement[] } | { ok: false; reason: string };

const MAX_SYMLINKS = 40; // Linux's limit (ELOOP)

/**
 * Resolves `path` the way the kernel does, one name at a time with lstat, following symlinks,
 * and records every directory, symlink and the final file it passes through: realpath() alone
 * would hide an intermediate symlink (in a directory a user may write) that decides where the
 * path leads. When every recorded element can only be changed by root, nobody else can make the
 * real path name another file between this walk and exec (see scriptInsecurity).
 */
export async function walkPath(path: string): Promise<PathWalk> {
  if (!isAbsolute(path)) return { ok: false, reason: `${path}: not an absolute path` };
  const elements: PathElement[] = [];
  const root = await lstatElement('/', 'dir');
  if (!root.ok) return root;
  elements.push(root.element);
  const todo = path.split('/');
  let current = '/';
  let links = 0;
  while (todo.length > 0) {
    const name = todo.shift() as string;
    if (name === '' || name === '.') continue;
    if (name === '..') {
      // `current` holds no symlink, so its parent is its textual parent (already walked).
      current = current === '/' ? '/' : current.slice(0, current.lastIndexOf('/')) || '/';
      continue;
    }
    const next = current === '/' ? `/${name}` : `${current}/${name}`;
    let st;
    try {
      st = await lstat(next);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { ok: false, reason: code === 'ENOENT' ? `${next}: no such file` : `${next}: ${code ?? (err as Error).message}` };
    }
    const base = { path: next, uid: st.uid, gid: st.gid, mode: st.mode };
    if (st.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) return { ok: false, reason: `${path}: too many symbolic links` };
      elements.push({ ...base, kind: 'symlink' });
      let target: string;
      try {
        target = await readlink(next);
      } catch (err) {
        return { ok: false, reason: `${next}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
      }
      if (target.startsWith('/')) current = '/';
      todo.unshift(...target.split('/'));
      continue;
    }
    if (st.isDirectory()) {
      elements.push({ ...base, kind: 'dir' });
      current = next;
      continue;
    }
    if (!st.isFile()) return { ok: false, reason: `${next}: not a regular file` };
    if (todo.some((n) => n !== '')) return { ok: false, reason: `${next}: not a directory` };
    elements.push({ ...base, kind: 'file' });
    return { ok: true, realPath: next, elements };
  }
  return { ok: false, reason: `${path}: is a directory, not a file` };
}

async function lstatElement(path: string, kind: PathElement['kind']): Promise<{ ok: true; element: PathElement } | { ok: false; reason: string }> {
  try {
    const st = await lstat(path);
    return { ok: true, element: { path, kind, uid: st.uid, gid: st.gid, mode: st.mode } };
  } catch (err) {
    return { ok: false, reason: `${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
}

/**
 * keepalived's check_security() rule for one element: owned by root, and a directory without
 * the sticky bit or a file is writable neither by a non-root group nor by others. A sticky
 * directory (/tmp) may be world-writable: only an entry's owner can rename or remove it there,
 * and its entries are held to root ownership in turn. A symlink's own mode means nothing, but
 * its owner may replace it in a sticky directory, so it must be root's too.
 * Undefined when safe, else why not.
 */
export function elementInsecurity(e: PathElement): string | undefined {
  if (e.uid !== 0) return `${e.path} is owned by uid ${e.uid}, not root`;
  if (e.kind === 'symlink') return undefined;
  const sticky = e.kind === 'dir' && (e.mode & 0o1000) !== 0;
  if (sticky) return undefined;
  if (e.gid !== 0 && (e.mode & 0o020) !== 0) return `${e.path} is writable by group ${e.gid}`;
  if ((e.mode & 0o002) !== 0) return `${e.path} is writable by others`;
  return undefined;
}
