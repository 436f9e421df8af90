import { access, constants, realpath, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';

export type Resolved = { ok: true; path: string } | { ok: false; reason: string };

/** argv[0] to a file: as written when it holds a '/', else the first executable match in PATH (as execvp and keepalived's find_path). */
export async function resolveCommand(cmd: string, pathEnv = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): Promise<Resolved> {
  if (cmd.includes('/')) {
    if (!isAbsolute(cmd)) return { ok: false, reason: `${cmd}: a relative path depends on the daemon's working directory; use an absolute path` };
    return { ok: true, path: cmd };
  }
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, cmd);
    try {
      await access(candidate, constants.X_OK);
      const st = await stat(candidate);
      if (st.isFile()) return { ok: true, path: candidate };
    } catch {
      // not in this directory
    }
  }
  return { ok: false, reason: `${cmd}: not found in PATH` };
}

/**
 * keepalived's check_script_secure(), for a script run as root: the real path of the script and
 * every directory above it must be owned by root, and none may be writable by a non-root group
 * or by others (a directory with the sticky bit, such as /tmp, is allowed to be). Otherwise a
 * local user could replace what root runs. Returns undefined when safe, else why not.
 */
export async function scriptInsecurity(path: string): Promise<string | undefined> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    return `${path}: cannot resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  const parts = real.split('/').filter(Boolean);
  const chain = ['/', ...parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`)];
  for (let i = 0; i < chain.length; i++) {
    const p = chain[i] as string;
    const last = i === chain.length - 1;
    let st;
    try {
      st = await stat(p);
    } catch (err) {
      return `${p}: ${(err as NodeJS.ErrnoException).code ?? 'cannot stat'}`;
    }
    if (last ? !st.isFile() : !st.isDirectory()) return `${p}: ${last ? 'not a regular file' : 'not a directory'}`;
    if (st.uid !== 0) return `${p} is owned by uid ${st.uid}, not root`;
    const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0;
    if (!sticky) {
      if (st.gid !== 0 && (st.mode & 0o020) !== 0) return `${p} is writable by group ${st.gid}`;
      if ((st.mode & 0o002) !== 0) return `${p} is writable by others`;
    }
  }
  return undefined;
}
