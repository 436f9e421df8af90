import { closeSync, fstatSync, globSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseAddress } from '../../lib/ip';
import { KEEPALIVED_KEYWORDS } from './keywords';
import { decomment, lexLine, splitBraces, splitWords, type Statement } from './lexer';
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

/** What reading cost: files read from disk, inclusions followed, bytes of text processed. */
export interface ReadStats {
  filesRead: number;
  inclusions: number;
  bytes: number;
}

export type ReadResult =
  | { ok: true; statements: Statement[]; notes: NoteList; files: string[]; stats: ReadStats }
  | { ok: false; error: ReadError; notes: NoteList; stats: ReadStats };

const MAX_INCLUDE_DEPTH = 16;
/**
 * Bounds on what includes may expand to. A file included several times counts each time
 * (keepalived reads it each time), but is read from disk once. Real configurations stay far
 * below; files including each other in a fan stop here instead of growing exponentially.
 */
export const MAX_INCLUDED_FILES = 256;
export const MAX_TOTAL_BYTES = 8 * 1024 * 1024;

class Fatal extends Error {
  constructor(readonly at: ReadError) {
    super(at.message);
  }
}

/**
 * Reads a keepalived.conf and its includes into one statement list, in keepalived's order.
 * `include PATTERN` is globbed relative to the including file's directory (keepalived chdir()s
 * there); directories and executable files are skipped as keepalived does. Each file is read
 * from disk once; inclusions are bounded (MAX_INCLUDED_FILES, MAX_TOTAL_BYTES). A file that is
 * not keepalived syntax stops the import without any of its lines being shown, and so does an
 * unfilled template placeholder (with its file and line). Never throws.
 */
export function readKeepalivedConfig(path: string, opts: ReadOptions = {}): ReadResult {
  const notes = new NoteList();
  const statements: Statement[] = [];
  const files: string[] = [];
  const defs = new Map<string, string>();
  const stack: string[] = [];
  const cache = new Map<string, { lines: string[]; bytes: number }>();
  const statCache = new Map<string, Stats | undefined>();
  let included = 0;
  let totalBytes = 0;

  const statOnce = (absolute: string): Stats | undefined => {
    if (!statCache.has(absolute)) {
      try {
        statCache.set(absolute, statSync(absolute));
      } catch {
        statCache.set(absolute, undefined);
      }
    }
    return statCache.get(absolute);
  };

  const load = (display: string, absolute: string, from: Located | undefined): { lines: string[]; bytes: number } => {
    const cached = cache.get(absolute);
    if (cached) return cached;
    const where = from ?? { file: display, line: 0 };
    let text: string;
    try {
      text = readBounded(absolute, MAX_TOTAL_BYTES - totalBytes);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EFBIG') throw new Fatal({ ...where, message: `${display} is larger than what is left of the ${MAX_TOTAL_BYTES >> 20} MiB the importer reads in all` });
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : code ?? 'unreadable';
      throw new Fatal({ ...where, message: `cannot read ${display}: ${why}` });
    }
    const lines = text.split('\n').map((l) => l.replace(/\r+$/, ''));
    // Before a single line is used (or shown in a message): is this keepalived's syntax at all?
    const foreign = foreignLine(lines);
    if (foreign !== undefined) {
      throw new Fatal({
        file: display,
        line: foreign.line,
        message: `not keepalived syntax (${foreign.why})${from ? `; included from ${from.file}:${from.line}` : ''}. None of its lines is shown`,
      });
    }
    const entry = { lines, bytes: Buffer.byteLength(text) };
    cache.set(absolute, entry);
    return entry;
  };

  const readOne = (display: string, absolute: string, from?: Located): void => {
    if (stack.includes(absolute)) {
      throw new Fatal({ ...(from ?? { file: display, line: 0 }), message: `include loop: ${display} includes itself (through ${stack.length} files)` });
    }
    if (stack.length >= MAX_INCLUDE_DEPTH) throw new Fatal({ ...(from ?? { file: display, line: 0 }), message: `includes nested deeper than ${MAX_INCLUDE_DEPTH}` });
    if (from && ++included > MAX_INCLUDED_FILES) {
      throw new Fatal({ ...from, message: `more than ${MAX_INCLUDED_FILES} file inclusions (a file included twice counts twice): the importer stops here` });
    }
    const { lines, bytes } = load(display, absolute, from);
    totalBytes += bytes;
    if (totalBytes > MAX_TOTAL_BYTES) {
      throw new Fatal({ ...(from ?? { file: display, line: 0 }), message: `the configuration and its includes add up to more than ${MAX_TOTAL_BYTES >> 20} MiB: the importer stops here` });
    }
    stack.push(absolute);
    if (!files.includes(display)) files.push(display);
    for (let n = 0; n < lines.length; n++) {
      const at = { file: display, line: n + 1 };
      const source = lines[n] as string;
      const { text: decommented, unterminatedQuote } = decomment(source);
      const placeholder = templatePlaceholder(source, decommented);
      if (placeholder) throw new Fatal({ ...at, message: `unfilled template placeholder ${placeholder}: fill in the template (Ansible/Jinja, Helm, ERB, envsubst ...) and import the result` });
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
      if (clean.includes('$')) {
        clean = substitute(clean, defs, dirname(absolute), at, notes);
        for (const u of unresolvedNames(clean)) {
          const name = u.text.replace(/[${}]/g, '');
          if (RUNTIME_DEFS.has(name)) continue;
          // Inside a quoted command a shell may expand it at run time: keepalived leaves it alone.
          if (u.quoted) {
            notes.warn(at, u.text, `no $${name}= definition: left as written, as keepalived does (a shell in the command may expand it at run time; twinvip runs commands without one unless the command is /bin/sh -c ...)`);
            continue;
          }
          throw new Fatal({ ...at, message: `unresolved ${u.text}: no $${name}= definition comes before this line — an unfilled template (envsubst, a container entrypoint)? ${u.text.startsWith('${')
            // keepalived 2.2.7 -t on `state ${STATE}`: "unknown state '$', defaulting to BACKUP", "Unexpected '{'", then every later keyword of the block unknown.
            ? "keepalived would read '$' as the value and the braces as a block, losing the rest of the block"
            : 'keepalived would use the text as it is'}` });
        }
      }

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
      const st = statOnce(abs);
      if (!st || st.isDirectory()) continue;
      if (!st.isFile() || (st.mode & 0o111) !== 0) {
        notes.unconverted(at, 'include', `${disp} skipped: keepalived reads only regular non-executable files`);
        continue;
      }
      used++;
      readOne(disp, abs, at);
    }
    if (used === 0) notes.warn(at, 'include', `no file matches ${pattern} (relative to ${baseDisplay}); keepalived goes on without it, so does the importer`);
  };

  const stats = (): ReadStats => ({ filesRead: cache.size, inclusions: included, bytes: totalBytes });
  try {
    readOne(path, resolve(path));
  } catch (err) {
    if (err instanceof Fatal) return { ok: false, error: err.at, notes, stats: stats() };
    throw err;
  }
  return { ok: true, statements, notes, files, stats: stats() };
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

const RUNTIME_DEFS = new Set(['_INSTANCE', '_RANDOM']);

/**
 * Reads a file as UTF-8, but no more than `limit` bytes: a larger file is an EFBIG error before
 * anything is read (a size is known for regular files; others are read up to the limit).
 */
function readBounded(path: string, limit: number): string {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (st.isFile() && st.size > limit) throw Object.assign(new Error('too big'), { code: 'EFBIG' });
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.alloc(65536);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      total += n;
      if (total > limit) throw Object.assign(new Error('too big'), { code: 'EFBIG' });
      chunks.push(buf.subarray(0, n));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

// What may start a keepalived statement besides a keyword: a value line inside a block (a VIP,
// a peer, an interface, an instance name, an e-mail address).
const VALUE_WORD = /^[A-Za-z0-9_][A-Za-z0-9_.@+-]*$/;
const QUOTED_NAME = /^[A-Za-z0-9_][A-Za-z0-9_. @+-]*$/;

/**
 * The first line that shows the file is not keepalived syntax, or undefined. Says why without
 * quoting the line. A keepalived file has every statement start with a keyword or a value word
 * and at least one keepalived keyword (or only addresses, as an included VIP list).
 */
function foreignLine(lines: string[]): { line: number; why: string } | undefined {
  let keywords = 0;
  let words = 0;
  let addressesOnly = true;
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n] as string;
    if (line.includes('\u0000')) return { line: n + 1, why: 'binary data (NUL byte)' };
    let { text } = decomment(line);
    if (text === '') continue;
    // A placeholder stops the import later with its own message (file and line).
    if (templatePlaceholder(line, text) !== undefined) continue;
    text = text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, '$$$1');
    if (text.startsWith('@')) text = text.replace(/^@\^?\S+\s*/, '');
    if (/^\$[A-Za-z_][A-Za-z0-9_]*\s*=/.test(text) || text.startsWith('~')) {
      keywords++;
      continue;
    }
    for (const part of splitBraces(text)) {
      if (part === '{' || part === '}') continue;
      if (part.startsWith('"')) {
        // A quoted name ("chk nginx" in track_script), never a quoted key as in JSON ("vrid": 51).
        const m = /^"([^"]*)"(.*)$/.exec(part);
        if (m && QUOTED_NAME.test(m[1] as string) && !/^\s*:/.test(m[2] as string)) {
          words++;
          addressesOnly = false;
          continue;
        }
        return { line: n + 1, why: `line ${n + 1} does not start with a keyword or a value` };
      }
      const first = splitWords(part).words[0];
      if (first === undefined) continue;
      words++;
      if (KEEPALIVED_KEYWORDS.has(first)) {
        keywords++;
        addressesOnly = false;
      } else if (parseAddress(first) !== undefined) {
        // a VIP, peer or route line
      } else if (VALUE_WORD.test(first) || /^\$[A-Za-z_]/.test(first)) {
        addressesOnly = false;
      } else {
        return { line: n + 1, why: `line ${n + 1} does not start with a keyword or a value` };
      }
    }
  }
  if (words > 0 && keywords === 0 && !addressesOnly) return { line: 1, why: 'no line starts with a keepalived keyword' };
  return undefined;
}

/** A template engine's placeholder left in a line (Jinja/Helm/Go, ERB, @VAR@), or undefined. */
function templatePlaceholder(source: string, decommented: string): string | undefined {
  const inLine = /\{\{.*?\}\}|\{%.*?%\}|<%.*?%>/.exec(decommented)?.[0] ?? /\{\{|\{%|<%/.exec(decommented)?.[0];
  if (inLine !== undefined) return inLine.length > 3 ? inLine : `${inLine}...`;
  // `{# ... #}` is a Jinja comment, which keepalived's own comment character cuts: the raw line.
  const comment = /\{#.*?#\}/.exec(source)?.[0];
  if (comment !== undefined) return comment;
  return /@[A-Z][A-Z0-9_]*@/.exec(decommented)?.[0];
}

/** `$NAME` / `${NAME}` still in a line after substitution, and whether each is inside double quotes. */
function unresolvedNames(text: string): { text: string; quoted: boolean }[] {
  const out: { text: string; quoted: boolean }[] = [];
  const re = /\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const quotes = (text.slice(0, m.index).match(/"/g) ?? []).length;
    out.push({ text: m[0], quoted: quotes % 2 === 1 });
  }
  return out;
}
