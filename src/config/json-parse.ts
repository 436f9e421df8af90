// A strict JSON parser (RFC 8259) that also remembers where each value starts, so every
// configuration error can name its line, and that refuses duplicate keys: JSON.parse keeps the
// last of two "VI_1" instances silently, which would lose configuration without a word.
import { escapePointer } from '../lib/issue-collector';

export interface Position {
  line: number;
  column: number;
}

export type JsonParseResult =
  | { ok: true; value: unknown; positions: Map<string, Position> }
  | { ok: false; message: string; line: number; column: number; path: string };

// Far beyond any real configuration, and far below the stack depth that would crash the parser.
const MAX_DEPTH = 64;

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
    readonly path: string,
  ) {
    super(message);
  }
}

export function parseJsonWithPositions(text: string): JsonParseResult {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lineStarts.push(i + 1);
  const positionOf = (offset: number): Position => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - (lineStarts[lo] as number) + 1 };
  };
  const positions = new Map<string, Position>();
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0; // a BOM from a Windows editor is harmless

  const fail = (message: string, path: string, at = i): never => {
    throw new JsonSyntaxError(message, at, path);
  };
  const describe = (at: number): string =>
    at >= text.length ? 'end of file' : `'${text[at] === '\n' ? '\\n' : text[at]}'`;
  const skipSpace = (): void => {
    while (i < text.length) {
      const c = text[i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
      else break;
    }
  };

  let depth = 0;
  const parseValue = (path: string): unknown => {
    skipSpace();
    if (depth > MAX_DEPTH) return fail(`nested deeper than ${MAX_DEPTH} levels`, path);
    positions.set(path, positionOf(i));
    const c = text[i];
    if (c === '{' || c === '[') {
      depth++;
      const value = c === '{' ? parseObject(path) : parseArray(path);
      depth--;
      return value;
    }
    if (c === '"') return parseString(path);
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber(path);
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return value;
      }
    }
    if (c === "'") return fail("strings must use double quotes (\")", path);
    if (c === '/') return fail('comments are not allowed in JSON', path);
    return fail(`expected a value, found ${describe(i)}`, path);
  };

  const parseObject = (path: string): Record<string, unknown> => {
    const obj: Record<string, unknown> = {};
    const seen = new Map<string, number>();
    i++;
    skipSpace();
    if (text[i] === '}') { i++; return obj; }
    for (;;) {
      skipSpace();
      if (text[i] === '/') return fail('comments are not allowed in JSON', path);
      if (text[i] !== '"') {
        return fail(text[i] === '}' ? 'trailing comma before }' : `expected a key in double quotes, found ${describe(i)}`, path);
      }
      const keyAt = i;
      const key = parseString(path);
      const childPath = `${path}/${escapePointer(key)}`;
      if (seen.has(key)) {
        const first = positionOf(seen.get(key) as number);
        return fail(`duplicate key "${key}" (first at line ${first.line}); JSON keeps only one of them`, childPath, keyAt);
      }
      seen.set(key, keyAt);
      skipSpace();
      if (text[i] !== ':') return fail(`expected ':' after key "${key}", found ${describe(i)}`, childPath);
      i++;
      const value = parseValue(childPath);
      Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
      skipSpace();
      if (text[i] === ',') { i++; continue; }
      if (text[i] === '}') { i++; return obj; }
      return fail(`expected ',' or '}' after the value of "${key}", found ${describe(i)}`, childPath);
    }
  };

  const parseArray = (path: string): unknown[] => {
    const arr: unknown[] = [];
    i++;
    skipSpace();
    if (text[i] === ']') { i++; return arr; }
    for (;;) {
      skipSpace();
      if (text[i] === ']') return fail('trailing comma before ]', path);
      arr.push(parseValue(`${path}/${arr.length}`));
      skipSpace();
      if (text[i] === ',') { i++; continue; }
      if (text[i] === ']') { i++; return arr; }
      return fail(`expected ',' or ']' in array, found ${describe(i)}`, path);
    }
  };

  const parseString = (path: string): string => {
    const start = i;
    i++;
    for (;;) {
      if (i >= text.length) return fail('unterminated string', path, start);
      const code = text.charCodeAt(i);
      if (code === 0x22) break;
      if (code < 0x20) return fail('control character in string (a line break inside quotes?)', path);
      if (code === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return fail('bad \\u escape', path);
          i += 6;
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) return fail(`bad escape '\\${e ?? ''}' in string`, path);
        i += 2;
        continue;
      }
      i++;
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };

  const parseNumber = (path: string): number => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail(`bad number starting with ${describe(i)}`, path);
    i += m[0].length;
    const next = text[i];
    if (next !== undefined && /[0-9A-Za-z.]/.test(next)) return fail(`bad number: unexpected '${next}' (leading zeros and hex are not JSON)`, path);
    return Number(m[0]);
  };

  try {
    skipSpace();
    if (i >= text.length) return { ok: false, message: 'the file is empty; expected a JSON object', line: 1, column: 1, path: '' };
    const value = parseValue('');
    skipSpace();
    if (i < text.length) fail(`unexpected ${describe(i)} after the end of the JSON value`, '');
    return { ok: true, value, positions };
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    const pos = positionOf(Math.min(err.offset, text.length));
    return { ok: false, message: err.message, ...pos, path: err.path };
  }
}
