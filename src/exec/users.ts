import { readFile } from 'node:fs/promises';

export interface UserIds {
  name: string;
  uid: number;
  gid: number;
}

/**
 * A user's uid and primary gid from /etc/passwd (Node has no getpwnam). A numeric name is a uid,
 * as keepalived's script_user accepts: its passwd entry when there is one, else uid = gid = that
 * number. Undefined when a name is unknown. The one lookup behind notify scripts, script checks
 * and the fence command.
 */
export async function lookupUser(name: string, passwdPath = '/etc/passwd'): Promise<UserIds | undefined> {
  let text: string;
  try {
    text = await readFile(passwdPath, 'utf8');
  } catch {
    text = '';
  }
  return userFromPasswd(text, name);
}

export function userFromPasswd(passwd: string, name: string): UserIds | undefined {
  const numeric = /^\d+$/.test(name);
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length < 4) continue;
    if (f[0] === name || (numeric && f[2] === name)) {
      const uid = Number(f[2]);
      const gid = Number(f[3]);
      if (Number.isInteger(uid) && Number.isInteger(gid)) return { name: f[0] as string, uid, gid };
    }
  }
  if (numeric && Number(name) <= 0xfffffffe) return { name, uid: Number(name), gid: Number(name) };
  return undefined;
}
