import { globSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { decomment, lexLine, splitWords, type Statement } from './lexer';
import { NoteList, type Located } from './notes';

export interface ReadOptions {
  /**
   * keepalived's config id (`-i`, by default the short host name): lines starting `@ID` are kept
   * only for that id, `@^ID` for every other. Undefined = keepalived run without an id.
   */
  configId?: string;
}

export interface ReadError extends Located {
  message: string;
}

export type ReadResult =
  | { ok: true; statements: Statement[]; notes: NoteList; files: string[] }
  | { ok: false; error: ReadError; notes: NoteList };

const MAX_INCLUDE_DEPTH = 16;

class Fatal extends Error {
  constructor(readonly at: ReadError) {
    super(at.message);
  }
}

/**
 * Reads a keepalived.conf and its includes into one statement list, in keepalived's order.
 * `include PATTERN` is globbed relative to the including file's directory (keepalived chdir()s
 * there); directories and executable files are skipped as keepalived does. Never throws.
 */
export function readKeepalivedConfig(path: string, opts: ReadOptions = {}): ReadResult {
  const notes = new NoteList();
  const statements: Statement[] = [];
  const files: string[] = [];
  const defs = new Map<string, string>();
  const stack: string[] = [];

  const readOne = (display: string, absolute: string, from?: Located): void => {
    if (stack.includes(absolute)) {
      throw new Fatal({ ...(from ?? { file: display, line: 0 }), message: `include loop: ${display} includes itself (through ${stack.length} files)` });
    }
    if (stack.length >= MAX_INCLUDE_DEPTH) throw new Fatal({ ...(from ?? { file: display, line: 0 }), message: `includes nested deeper than ${MAX_INCLUDE_DEPTH}` });
    let text: string;
    try {
      text = readFileSync(absolute, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
      throw new Fatal({ ...(from ?? { file: display, line: 0 }), message: `cannot read ${display}: ${why}` });
    }
    stack.push(absolute);
    files.push(display);
    const lines = text.split('\n');
    for (let n = 0; n < lines.length; n++) {
      const at = { file: display, line: n + 1 };
      const source = (lines[n] as string).replace(/\r+$/, '');
      if (source.includes('\u0000')) throw new Fatal({ ...at, message: 'binary data (NUL byte): this is not a keepalived configuration' });
      const { text: decommented, unterminatedQuote } = decomment(source);
      let clean = decommented;
      if (clean === '') continue;
      if (unterminatedQuote) throw new Fatal({ ...at, message: `unterminated quote: ${clean}` });

      if (clean.startsWith('@')) {
        const rev = clean.startsWith('@^');
        const m = /^@\^?(\S+)\s+(.*)$/.exec(clean);
        const id = m?.[1];
        const keep = m !== null && (opts.configId !== undefined && id === opts.configId) !== rev;
        if (!keep) {
          notes.unconverted(at, clean.split(/\s+/)[0] as string, `line skipped: it applies to config id ${id ?? '?'} only${opts.configId ? ` (this import uses --config-id ${opts.configId})` : ' (give --config-id to import it for that box)'}`);
          continue;
        }
        notes.warn(at, clean.split(/\s+/)[0] as string, `conditional line kept for config id ${opts.configId ?? '(none)'}`);
        clean = (m?.[2] ?? '').trim();
      }
      const def = /^\$([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(clean);
      if (def) {
        const value = def[2] ?? '';
        if (value.endsWith('\\')) throw new Fatal({ ...at, message: `multi-line definition $${def[1]} is not supported by the importer: expand it by hand` });
        defs.set(def[1] as string, value);
        continue;
      }
      if (clean.startsWith('~')) throw new Fatal({ ...at, message: `${clean.split(/\s+/)[0]} (generated lines) is not supported by the importer: expand it by hand` });
      if (clean.includes('$')) clean = substitute(clean, defs, dirname(absolute), at, notes);

      const words = splitWords(clean).words;
      if (words[0] === 'include' && words.length === 2) {
        includeFiles(words[1] as string, display, absolute, at);
        continue;
      }
      const { statements: found, error } = lexLine(clean, display, at.line);
      if (error) throw new Fatal({ ...at, message: error });
      statements.push(...found);
    }
    stack.pop();
  };

  const includeFiles = (pattern: string, parentDisplay: string, parentAbsolute: string, at: Located): void => {
    const baseAbs = dirname(parentAbsolute);
    const baseDisplay = dirname(parentDisplay);
    let matches: string[];
    try {
      matches = isAbsolute(pattern) ? globSync(pattern) : globSync(pattern, { cwd: baseAbs });
    } catch (err) {
      throw new Fatal({ ...at, message: `include ${pattern}: ${(err as Error).message}` });
    }
    matches.sort();
    let used = 0;
    for (const m of matches) {
      const abs = isAbsolute(m) ? m : resolve(baseAbs, m);
      const disp = isAbsolute(m) ? m : join(baseDisplay, m);
      let st;
      try {
        st = statSync(abs);
      } catch {
        continue;
      }
      if (st.isDirectory()) continue;
      if (!st.isFile() || (st.mode & 0o111) !== 0) {
        notes.unconverted(at, 'include', `${disp} skipped: keepalived reads only regular non-executable files`);
        continue;
      }
      used++;
      readOne(disp, abs, at);
    }
    if (used === 0) notes.warn(at, 'include', `no file matches ${pattern} (relative to ${baseDisplay}); keepalived goes on without it, so does the importer`);
  };

  try {
    readOne(path, resolve(path));
  } catch (err) {
    if (err instanceof Fatal) return { ok: false, error: err.at, notes };
    throw err;
  }
  return { ok: true, statements, notes, files };
}

/** $NAME and ${NAME} replaced by their definitions (keepalived replace_param); _PWD is the file's directory. */
function substitute(text: string, defs: Map<string, string>, dir: string, at: Located, notes: NoteList): string {
  return text.replace(/\$(\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (whole, _b: string, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare) as string;
    const value = defs.get(name);
    if (value !== undefined) return value;
    if (name === '_PWD') return dir;
    if (name === '_INSTANCE' || name === '_RANDOM') {
      notes.warn(at, `$${name}`, 'left as written: the importer does not evaluate keepalived\'s run-time definitions');
    }
    return whole;
  });
}
