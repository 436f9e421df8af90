// The script policy's two pure parts: the name-by-name path walk (on real temp files) and
// keepalived's ownership/permission rule for one element; plus the passwd lookup and PATH search.
import { chmodSync, chownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { elementInsecurity, resolveCommand, userFromPasswd, walkPath, type PathElement } from '../../../src/exec';
import { itRequiring, needsRoot } from '../../helpers/prerequisites';
import { makeTempDir } from '../../helpers/tmp';

const tmp = makeTempDir('tv-pw-');
afterAll(() => tmp.remove());

describe('walkPath: every name the kernel passes through', () => {
  it('follows relative and absolute symlinks and "..", and records each directory, link and the file', async () => {
    const d = tmp.file('w1');
    mkdirSync(`${d}/real/bin`, { recursive: true });
    mkdirSync(`${d}/links`);
    writeFileSync(`${d}/real/bin/prog`, '#!/bin/sh\n', { mode: 0o755 });
    symlinkSync('../real/bin', `${d}/links/bin`); // relative
    symlinkSync(`${d}/links/bin/prog`, `${d}/entry`); // absolute, through another link
    const w = await walkPath(`${d}/./links/../entry`);
    expect(w.ok).toBe(true);
    if (!w.ok) return;
    expect(w.realPath).toBe(`${d}/real/bin/prog`);
    const byPath = new Map(w.elements.map((e) => [e.path, e.kind]));
    // The intermediate link links/bin decides where entry leads: it is part of the walk.
    expect(byPath.get(`${d}/entry`)).toBe('symlink');
    expect(byPath.get(`${d}/links/bin`)).toBe('symlink');
    expect(byPath.get(`${d}/links`)).toBe('dir');
    expect(byPath.get(`${d}/real/bin`)).toBe('dir');
    expect(byPath.get(`${d}/real/bin/prog`)).toBe('file');
    expect(w.elements[0]).toMatchObject({ path: '/', kind: 'dir' });
    expect(w.elements.at(-1)).toMatchObject({ path: `${d}/real/bin/prog`, kind: 'file' });
  });

  it('names what is wrong: missing, a file used as a directory, a directory, a symlink loop, a relative path', async () => {
    const d = tmp.file('w2');
    mkdirSync(d);
    writeFileSync(`${d}/f`, '');
    symlinkSync(`${d}/loop`, `${d}/loop`);
    expect(await walkPath(`${d}/nope`)).toEqual({ ok: false, reason: `${d}/nope: no such file` });
    expect(await walkPath(`${d}/f/x`)).toEqual({ ok: false, reason: `${d}/f: not a directory` });
    expect(await walkPath(d)).toEqual({ ok: false, reason: `${d}: is a directory, not a file` });
    expect(await walkPath(`${d}/loop`)).toEqual({ ok: false, reason: `${d}/loop: too many symbolic links` });
    expect(await walkPath('bin/sh')).toEqual({ ok: false, reason: 'bin/sh: not an absolute path' });
  });

  itRequiring([needsRoot], 'reports the owner and mode of each element as lstat sees them (the link, not its target)', async () => {
    const d = tmp.file('w3');
    mkdirSync(d, { mode: 0o755 });
    writeFileSync(`${d}/prog`, '', { mode: 0o755 });
    symlinkSync(`${d}/prog`, `${d}/link`);
    chownSync(d, 0, 0);
    // lchown: the link's own owner, which keepalived checks too.
    const { lchownSync } = await import('node:fs');
    lchownSync(`${d}/link`, 65534, 65534);
    const w = await walkPath(`${d}/link`);
    expect(w.ok && w.elements.find((e) => e.path === `${d}/link`)).toMatchObject({ kind: 'symlink', uid: 65534 });
    expect(w.ok && w.elements.at(-1)).toMatchObject({ kind: 'file', uid: process.getuid!() });
  });
});

describe("elementInsecurity: keepalived's check_security() rule", () => {
  const el = (over: Partial<PathElement>): PathElement => ({ path: '/x', kind: 'file', uid: 0, gid: 0, mode: 0o100755, ...over });
  it('root-owned, not writable by a non-root group or others: safe', () => {
    expect(elementInsecurity(el({}))).toBeUndefined();
    expect(elementInsecurity(el({ kind: 'dir', mode: 0o040755 }))).toBeUndefined();
    // Group write by root's own group is root's business (keepalived allows it too).
    expect(elementInsecurity(el({ mode: 0o100775 }))).toBeUndefined();
  });
  it('owned by another user: unsafe, whatever the mode, links included', () => {
    expect(elementInsecurity(el({ uid: 1000, mode: 0o100700 }))).toBe('/x is owned by uid 1000, not root');
    expect(elementInsecurity(el({ kind: 'symlink', uid: 1000, mode: 0o120777 }))).toBe('/x is owned by uid 1000, not root');
  });
  it('writable by a non-root group or by others: unsafe', () => {
    expect(elementInsecurity(el({ gid: 50, mode: 0o100775 }))).toBe('/x is writable by group 50');
    expect(elementInsecurity(el({ mode: 0o100757 }))).toBe('/x is writable by others');
    expect(elementInsecurity(el({ kind: 'dir', mode: 0o040777 }))).toBe('/x is writable by others');
  });
  it('a sticky world-writable directory (/tmp) is allowed; a root symlink\'s 0777 means nothing', () => {
    expect(elementInsecurity(el({ kind: 'dir', mode: 0o041777 }))).toBeUndefined();
    expect(elementInsecurity(el({ kind: 'symlink', mode: 0o120777 }))).toBeUndefined();
  });
});

describe('users and PATH', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nka:x:1234:99::/:/bin/false\nnobody:x:65534:65534::/:/bin/false\n';
  it('a name, a numeric uid with or without a passwd entry; unknown names are undefined', () => {
    expect(userFromPasswd(passwd, 'ka')).toEqual({ name: 'ka', uid: 1234, gid: 99 });
    expect(userFromPasswd(passwd, '1234')).toEqual({ name: 'ka', uid: 1234, gid: 99 });
    expect(userFromPasswd(passwd, '4321')).toEqual({ name: '4321', uid: 4321, gid: 4321 });
    expect(userFromPasswd(passwd, 'nosuch')).toBeUndefined();
  });
  it('a bare name is searched in absolute PATH entries only; a relative path is refused', async () => {
    const d = tmp.file('p');
    mkdirSync(d);
    writeFileSync(`${d}/tool`, '#!/bin/sh\n');
    chmodSync(`${d}/tool`, 0o755);
    expect(await resolveCommand('tool', `relative/dir:${d}`)).toEqual({ ok: true, path: `${d}/tool` });
    expect(await resolveCommand('tool', 'relative/dir')).toEqual({ ok: false, reason: 'tool: not found in PATH' });
    expect((await resolveCommand('./tool', d)).ok).toBe(false);
  });
});
