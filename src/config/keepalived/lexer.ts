/**
 * keepalived.conf tokenizer, following keepalived 2.2.7's lib/parser.c: decomment() (a `!` or
 * `#` outside double quotes starts a comment, `\!` and `\#` are literal), read_line() (a line is
 * cut at the first `{` or `}` outside double quotes, so braces glued to words and whole blocks on
 * one line become separate statements) and alloc_strvec() (words split on white space, a
 * "quoted string" is one word without its quotes). Pure: no file access here.
 */

export interface Statement {
  /** Words as keepalived's alloc_strvec() gives them (quotes removed). */
  words: string[];
  /** The statement's text after comment removal, for the quote- and escape-aware re-parse of scripts. */
  raw: string;
  file: string;
  line: number;
}

/** Removes a comment, keeping `"..."` intact; returns the text without leading/trailing blanks. */
export function decomment(text: string): { text: string; unterminatedQuote: boolean } {
  let out = '';
  let quote = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"') {
      quote = !quote;
      out += c;
      continue;
    }
    if (c === '\\' && i + 1 < text.length) {
      const next = text[i + 1] as string;
      // keepalived drops the escaping of comment characters outside quotes only.
      if (!quote && (next === '#' || next === '!')) out += next;
      else out += c + next;
      i++;
      continue;
    }
    if (!quote && (c === '!' || c === '#')) break;
    out += c;
  }
  return { text: out.trim(), unterminatedQuote: quote };
}

/** Cuts a decommented line into statements at every brace outside double quotes (read_line's residue loop). */
export function splitBraces(text: string): string[] {
  const parts: string[] = [];
  let cur = '';
  let quote = false;
  for (const c of text) {
    if (c === '"') quote = !quote;
    if (!quote && (c === '{' || c === '}')) {
      if (cur.trim() !== '') parts.push(cur.trim());
      parts.push(c);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim() !== '') parts.push(cur.trim());
  return parts;
}

const WHITE = /[ \t\f\n\r\v]/;

/** alloc_strvec(): white-space separated words; a word starting with `"` runs to the next `"`. */
export function splitWords(text: string): { words: string[]; error?: string } {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && WHITE.test(text[i] as string)) i++;
    if (i >= text.length) break;
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return { words, error: `unmatched quote in: ${text}` };
      words.push(text.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    let j = i;
    while (j < text.length && !WHITE.test(text[j] as string) && text[j] !== '"') j++;
    words.push(text.slice(i, j));
    i = j;
  }
  return { words };
}

/**
 * alloc_strvec_quoted_escaped(): the parse keepalived applies to script lines. Single and double
 * quotes group (and may be glued to other text: a"b c"d is one word), backslash escapes work in
 * and out of quotes (\n, \t, \xHH, octal, \cX, anything else literal).
 */
export function splitQuotedEscaped(text: string): { words: string[]; error?: string } {
  const words: string[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && WHITE.test(text[i] as string)) i++;
    if (i >= text.length) break;
    let word = '';
    let quote: string | undefined;
    for (; i < text.length; ) {
      const c = text[i] as string;
      if (c === '\\') {
        i++;
        if (i >= text.length) return { words, error: `missing escaped character at the end of: ${text}` };
        const e = text[i] as string;
        if (e === 'x' && /[0-9a-fA-F]/.test(text[i + 1] ?? '')) {
          let v = 0;
          i++;
          while (/[0-9a-fA-F]/.test(text[i] ?? '')) v = ((v << 4) | parseInt(text[i++] as string, 16)) & 0xff;
          word += String.fromCharCode(v);
        } else if (e === 'c' && i + 1 < text.length) {
          word += String.fromCharCode((text.charCodeAt(i + 1) & 0x1f));
          i += 2;
        } else if (e >= '0' && e <= '7') {
          let v = 0;
          let n = 0;
          while (n < 3 && (text[i] ?? '') >= '0' && (text[i] ?? '') <= '7') {
            v = (v << 3) + Number(text[i]);
            i++;
            n++;
          }
          word += String.fromCharCode(v & 0xff);
        } else {
          const map: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
          word += map[e] ?? e;
          i++;
        }
        continue;
      }
      if (quote !== undefined) {
        if (c === quote) quote = undefined;
        else word += c;
        i++;
        continue;
      }
      if (c === '"' || c === "'") {
        quote = c;
        i++;
        continue;
      }
      if (WHITE.test(c)) break;
      word += c;
      i++;
    }
    if (quote !== undefined) return { words, error: `missing terminating ${quote} in: ${text}` };
    words.push(word);
  }
  return { words };
}

/** One decommented, non-empty line to statements; an error names what is wrong. */
export function lexLine(clean: string, file: string, line: number): { statements: Statement[]; error?: string } {
  const statements: Statement[] = [];
  for (const part of splitBraces(clean)) {
    const { words, error } = splitWords(part);
    if (error) return { statements, error };
    if (words.length > 0) statements.push({ words, raw: part, file, line });
  }
  return { statements };
}
