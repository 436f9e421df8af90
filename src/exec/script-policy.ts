import { access, constants, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';
import { elementInsecurity, walkPath } from './path-walk';
import { lookupUser, type UserIds } from './users';

/**
 * The one policy for everything twinvip executes on the operator's behalf: notify scripts,
 * script checks and the fence command (keepalived applies enable_script_security to notify and
 * vrrp_script alike).
 *
 * - Who: `user` of the job, else the configured script_user, else the daemon's own user; one
 *   passwd lookup (names and numeric uids) for all three kinds.
 * - What: keepalived's check_script_secure(). A program that would run with root's power (as uid
 *   or gid 0, or a set-uid/set-gid root file) must be reachable only through elements root alone
 *   can change: every directory, every symlink and the file itself owned by root, none writable
 *   by a non-root group or by others (sticky directories excepted). With enable_script_security
 *   such a program is refused; without it, it runs and the finding is reported as a warning
 *   (keepalived logs "Unsafe permissions found for script" and runs it too).
 * - Exactly what was checked: the walk resolves the path name by name, symlinks included, and the
 *   job executes the resolved real path, never the configured one. Every element that decides
 *   what that real path names was checked to be root's alone, so no other user can swap the file
 *   between the check and exec (root can, and root is trusted). Executing the configured name
 *   instead would let a symlink be re-pointed after the check; exec through /proc/self/fd of an
 *   opened file would break `#!` scripts (the interpreter reopens the path) and $0.
 */
export interface ScriptPolicyOptions {
  /** keepalived enable_script_security: refuse programs root would run from unsafe places. */
  security: boolean;
  /** keepalived script_user: run as this user (name or uid) when the job names none; default the daemon's user. */
  defaultUser?: string;
  /** PATH for bare command names; default the daemon's. */
  pathEnv?: string;
  /** Seams for tests. */
  ourUid?: number;
  ourGid?: number;
  passwdPath?: string;
}

/** What to hand to exec: the checked real path, the configured argv[0] for ps, and the ids. */
export interface PreparedProgram {
  file: string;
  argv0: string;
  args: string[];
  /** Set when the job runs as another user than the daemon. */
  uid?: number;
  gid?: number;
  /** The user it runs as, for log lines. */
  user: string;
  /** Security is off and the program is not safe: it runs anyway, and this says why it is unsafe. */
  insecure?: string;
}

export type Preparation = { ok: true; program: PreparedProgram } | { ok: false; reason: string };

export class ScriptPolicy {
  private readonly users = new Map<string, Promise<UserIds | undefined>>();

  constructor(readonly opts: ScriptPolicyOptions) {}

  get security(): boolean {
    return this.opts.security;
  }

  /** Resolves who runs `argv` and what file it is, and judges it. Never throws. */
  async prepare(argv: readonly string[], user?: string): Promise<Preparation> {
    const cmd = argv[0];
    if (cmd === undefined || cmd === '') return { ok: false, reason: 'empty command' };
    const ourUid = this.opts.ourUid ?? process.getuid?.() ?? 0;
    const ourGid = this.opts.ourGid ?? process.getgid?.() ?? 0;
    const wanted = user ?? this.opts.defaultUser;
    let ids: UserIds | undefined;
    if (wanted !== undefined) {
      ids = await this.lookup(wanted);
      if (!ids) return { ok: false, reason: `script user '${wanted}' does not exist` };
    }
    const runUid = ids?.uid ?? ourUid;
    const runGid = ids?.gid ?? ourGid;

    const found = await resolveCommand(cmd, this.opts.pathEnv ?? process.env.PATH);
    if (!found.ok) return found;
    const walk = await walkPath(found.path);
    if (!walk.ok) return { ok: false, reason: walk.reason };
    const file = walk.elements[walk.elements.length - 1]!;
    if (!executableBy(file.mode, file.uid, file.gid, runUid, runGid)) {
      return { ok: false, reason: `${walk.realPath} is not executable by uid ${runUid}` };
    }
    const setRoot = (file.uid === 0 && (file.mode & 0o4100) === 0o4100) || (file.gid === 0 && (file.mode & 0o2010) === 0o2010);
    let insecure: string | undefined;
    if (runUid === 0 || runGid === 0 || setRoot) {
      for (const e of walk.elements) {
        insecure = elementInsecurity(e);
        if (insecure) break;
      }
      if (insecure && this.opts.security) return { ok: false, reason: `enable_script_security: ${insecure}` };
    }
    const program: PreparedProgram = {
      file: walk.realPath,
      argv0: cmd,
      args: argv.slice(1),
      user: ids ? ids.name : String(ourUid),
      ...(ids && (ids.uid !== ourUid || ids.gid !== ourGid) ? { uid: ids.uid, gid: ids.gid } : {}),
      ...(insecure ? { insecure } : {}),
    };
    return { ok: true, program };
  }

  private lookup(name: string): Promise<UserIds | undefined> {
    let p = this.users.get(name);
    if (!p) {
      p = lookupUser(name, this.opts.passwdPath);
      this.users.set(name, p);
    }
    return p;
  }
}

type NotifySettings = { enable_script_security: boolean; script_user?: string | undefined };
const fromConfig = new WeakMap<NotifySettings, ScriptPolicy>();

/**
 * The policy the configuration asks for (notify.enable_script_security, notify.script_user); one
 * per loaded configuration, so callers ask for it at each run and a reload applies everywhere.
 */
export function scriptPolicyFromConfig(notify: NotifySettings): ScriptPolicy {
  let p = fromConfig.get(notify);
  if (!p) {
    p = new ScriptPolicy({ security: notify.enable_script_security, ...(notify.script_user === undefined ? {} : { defaultUser: notify.script_user }) });
    fromConfig.set(notify, p);
  }
  return p;
}

/** A policy, or where to get the current one (the running configuration's). */
export type PolicySource = ScriptPolicy | (() => ScriptPolicy);

export function currentPolicy(source: PolicySource): ScriptPolicy {
  return typeof source === 'function' ? source() : source;
}

function executableBy(mode: number, fileUid: number, fileGid: number, uid: number, gid: number): boolean {
  if (uid === 0) return (mode & 0o111) !== 0;
  if (uid === fileUid) return (mode & 0o100) !== 0;
  if (gid === fileGid) return (mode & 0o010) !== 0;
  return (mode & 0o001) !== 0;
}

export type Resolved = { ok: true; path: string } | { ok: false; reason: string };

/** argv[0] to a file: as written when it holds a '/', else the first executable match in PATH (as execvp and keepalived's find_path). */
export async function resolveCommand(cmd: string, pathEnv = process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'): Promise<Resolved> {
  if (cmd.includes('/')) {
    if (!isAbsolute(cmd)) return { ok: false, reason: `${cmd}: a relative path depends on the daemon's working directory; use an absolute path` };
    return { ok: true, path: cmd };
  }
  for (const dir of pathEnv.split(delimiter)) {
    // A relative PATH entry would make the result depend on the working directory.
    if (!dir || !isAbsolute(dir)) continue;
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
