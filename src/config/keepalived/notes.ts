/**
 * What the importer tells the user about a keyword: `unconverted` means it is not carried over
 * (the reason says what it did in keepalived and what to do instead); `warning` means it was
 * carried over with a change worth reviewing; `refused` means the configuration cannot be
 * converted at all (keepalived refuses it too, or the result would not mean the same): the
 * import fails. Every keyword read is either mapped or noted: nothing is dropped silently.
 */
export interface ImportNote {
  file: string;
  line: number;
  keyword: string;
  severity: 'unconverted' | 'warning' | 'refused';
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

  refuse(at: Located, keyword: string, message: string): void {
    this.items.push({ file: at.file, line: at.line, keyword, severity: 'refused', message });
  }

  get refused(): ImportNote[] {
    return this.items.filter((n) => n.severity === 'refused');
  }
}

/** `file:line: [not converted] keyword: why`, one per line, in file order. */
export function formatNotes(notes: readonly ImportNote[]): string {
  return [...notes]
    .sort((a, b) => (a.file === b.file ? a.line - b.line : 0))
    .map((n) => `${n.file}:${n.line}: ${n.severity === 'unconverted' ? 'not converted' : n.severity === 'refused' ? 'error' : 'warning'}: ${n.keyword}: ${n.message}`)
    .join('\n');
}
