/**
 * Splits a byte stream into lines with a bound: a peer that never sends a newline cannot make us
 * buffer without limit. Works on bytes, so a multi-byte character split across chunks is safe.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private pending = 0;
  private overflowed = false;

  constructor(private readonly maxLineBytes: number) {}

  /**
   * Returns the complete lines in `chunk`; `overflow` turns true (and stays so) once a line exceeds
   * the bound, after which nothing more is returned. Lines completed before the overflow still count.
   */
  push(chunk: Buffer): { lines: string[]; overflow: boolean } {
    const lines: string[] = [];
    if (this.overflowed) return { lines, overflow: true };
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl === -1) break;
      const piece = chunk.subarray(start, nl);
      if (this.pending + piece.length > this.maxLineBytes) return this.overflow(lines);
      this.parts.push(piece);
      let line = Buffer.concat(this.parts).toString('utf8');
      if (line.endsWith('\r')) line = line.slice(0, -1);
      lines.push(line);
      this.parts = [];
      this.pending = 0;
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      if (this.pending + rest.length > this.maxLineBytes) return this.overflow(lines);
      // Copy: the socket may reuse its chunk buffers.
      this.parts.push(Buffer.from(rest));
      this.pending += rest.length;
    }
    return { lines, overflow: false };
  }

  private overflow(lines: string[]): { lines: string[]; overflow: boolean } {
    this.overflowed = true;
    this.parts = [];
    this.pending = 0;
    return { lines, overflow: true };
  }
}
