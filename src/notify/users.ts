import { readFile } from 'node:fs/promises';

export interface UserIds {
  name: string;
  uid: number;
  gid: number;
}

/**
 * A user's uid and primary gid from /etc/passwd (Node has no getpwnam). A numeric name is taken
 * as a uid, as keepalived's script_user accepts. Undefined when unknown.
 */
export async function lookupUser(name: string, passwdPath = '/etc/passwd'): Promise<UserIds | undefined> {
  let text: string;
  try {
    text = await readFile(passwdPath, 'utf8');
  } catch {
    text = '';
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 4) continue;
    if (f[0] === name || (/^\d+$/.test(name) && f[2] === name)) {
      const uid = Number(f[2]);
      const gid = Number(f[3]);
      if (Number.isInteger(uid) && Number.isInteger(gid)) return { name: f[0] as string, uid, gid };
    }
  }
  if (/^\d+$/.test(name)) return { name, uid: Number(name), gid: Number(name) };
  return undefined;
}
