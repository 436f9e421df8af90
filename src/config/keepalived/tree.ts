import type { Statement } from './lexer';

/** A keyword line and, when a `{ }` block follows it, the lines inside. */
export interface KNode {
  key: string;
  args: string[];
  raw: string;
  file: string;
  line: number;
  children?: KNode[];
}

export type TreeResult = { ok: true; nodes: KNode[] } | { ok: false; file: string; line: number; message: string };

/**
 * Nests statements by their braces. Like keepalived, a `{` opens the block of the keyword just
 * before it (on the same line or the line above). Unlike keepalived, which logs "Extra '}'" and
 * goes on, an unbalanced brace is an error here: a converter must not guess where a block ends.
 */
export function buildTree(statements: readonly Statement[]): TreeResult {
  const root: KNode[] = [];
  const stack: { list: KNode[]; opener?: Statement }[] = [{ list: root }];
  for (const st of statements) {
    const top = stack[stack.length - 1] as { list: KNode[]; opener?: Statement };
    if (st.words.length === 1 && st.words[0] === '{' && st.raw === '{') {
      const owner = top.list[top.list.length - 1];
      if (!owner || owner.children) return { ok: false, file: st.file, line: st.line, message: "'{' without a keyword before it" };
      owner.children = [];
      stack.push({ list: owner.children, opener: st });
      continue;
    }
    if (st.words.length === 1 && st.words[0] === '}' && st.raw === '}') {
      if (stack.length === 1) return { ok: false, file: st.file, line: st.line, message: "extra '}': no block is open here" };
      stack.pop();
      continue;
    }
    top.list.push({ key: st.words[0] as string, args: st.words.slice(1), raw: st.raw, file: st.file, line: st.line });
  }
  if (stack.length > 1) {
    const open = stack[stack.length - 1]?.opener as Statement;
    return { ok: false, file: open.file, line: open.line, message: `missing '}': the block opened here is never closed` };
  }
  return { ok: true, nodes: root };
}
