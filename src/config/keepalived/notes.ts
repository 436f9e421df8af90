/**
 * What the importer tells the user about a keyword: `unconverted` means it is not carried over
 * (the reason says what it did in keepalived and what to do instead); `warning` means it was
 * carried over with a change worth reviewing. Every keyword read is either mapped or noted:
 * nothing is dropped silently.
 */
export interface ImportNote {
  file: string;
  line: number;
  keyword: string;
  severity: 'unconverted' | 'warning';
  message: string;
}

export interface Located {
  file: string;
  line: number;
}

export class NoteList {
  readonly items: ImportNote[] = [];

  unconverted(at: Located, keyword: string, message: string): void {
    this.items.push({ file: at.file, line: at.line, keyword, severity: 'unconverted', message });
  }

  warn(at: Located, keyword: string, message: string): void {
    this.items.push({ file: at.file, line: at.line, keyword, severity: 'warning', message });
  }
}

/** `file:line: [not converted] keyword: why`, one per line, in file order. */
export function formatNotes(notes: readonly ImportNote[]): string {
  return [...notes]
    .sort((a, b) => (a.file === b.file ? a.line - b.line : 0))
    .map((n) => `${n.file}:${n.line}: ${n.severity === 'unconverted' ? 'not converted' : 'warning'}: ${n.keyword}: ${n.message}`)
    .join('\n');
}
