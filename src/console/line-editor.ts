// A byte-level line editor for a serial terminal (picocom, screen, minicom send raw keys and
// expect the remote end to echo). Pure: bytes in, echo text and events out; no I/O, no clock.
//
// Terminals disagree on Enter (CR, LF, or CRLF; telnet sends CR NUL) and on Backspace (0x08 or
// 0x7f), so every variant is accepted. Only printable ASCII enters the line: a serial line picks
// up noise (baud mismatch, a cable plugged in, a device dumping binary), and a diagnostic shell
// must not act on it.

export type EditorEvent =
  /** Enter was pressed: the line as typed (printable ASCII only). */
  | { kind: 'line'; text: string }
  /** Ctrl-C: the line was abandoned. */
  | { kind: 'interrupt' }
  /** Ctrl-D on an empty line. */
  | { kind: 'eof' }
  /** The line outgrew the limit; everything up to the next Enter is discarded. */
  | { kind: 'too-long'; limit: number }
  /** Enter ended a discarded (too long) line. */
  | { kind: 'discarded' }
  /** A byte that is neither printable nor an editing key. */
  | { kind: 'noise' };

export interface EditorStep {
  echo: string;
  event?: EditorEvent;
}

const ESC = 0x1b;
const NONE: EditorStep = { echo: '' };
/** Longest escape sequence swallowed before the rest counts as noise. */
const MAX_ESCAPE_BYTES = 16;

export interface LineEditorOptions {
  maxLine: number;
  /** Echo typed characters (serial); off for the control socket, where the client edits. */
  echo: boolean;
}

export class LineEditor {
  private buf = '';
  private afterCr = false;
  private discarding = false;
  /** 0: none, 1: saw ESC, 2: inside CSI/SS3 (ESC [ or ESC O). */
  private escape: 0 | 1 | 2 = 0;
  private escapeLen = 0;
  /** Hide what is typed (password entry): nothing is echoed but editing still works. */
  masked = false;

  constructor(private readonly opts: LineEditorOptions) {}

  /** The line typed so far (for redrawing it after an interruption). */
  get line(): string {
    return this.buf;
  }

  /** What redraws the current line after the prompt (empty while masked or not echoing). */
  get visibleLine(): string {
    return this.opts.echo && !this.masked ? this.buf : '';
  }

  get isDiscarding(): boolean {
    return this.discarding;
  }

  reset(): void {
    this.buf = '';
    this.discarding = false;
    this.escape = 0;
  }

  push(byte: number): EditorStep {
    const wasCr = this.afterCr;
    this.afterCr = false;
    if (this.escape !== 0) return this.inEscape(byte);
    switch (byte) {
      case 0x0d:
        this.afterCr = true;
        return this.enter();
      case 0x0a:
        // The LF of a CRLF pair was already handled by its CR.
        return wasCr ? NONE : this.enter();
      case 0x00:
        // Telnet-style CR NUL.
        return wasCr ? NONE : { echo: '', event: { kind: 'noise' } };
      case 0x08:
      case 0x7f:
        return this.backspace();
      case 0x03:
        this.reset();
        return { echo: this.opts.echo ? '^C\r\n' : '', event: { kind: 'interrupt' } };
      case 0x15:
        return this.eraseLine();
      case 0x17:
        return this.eraseWord();
      case 0x04:
        return this.buf === '' && !this.discarding ? { echo: '', event: { kind: 'eof' } } : NONE;
      case 0x09:
        return this.insert(0x20);
      case ESC:
        this.escape = 1;
        this.escapeLen = 1;
        return NONE;
      default:
        if (byte >= 0x20 && byte < 0x7f) return this.insert(byte);
        return { echo: '', event: { kind: 'noise' } };
    }
  }

  private enter(): EditorStep {
    const newline = this.opts.echo ? '\r\n' : '';
    if (this.discarding) {
      this.discarding = false;
      this.buf = '';
      return { echo: '', event: { kind: 'discarded' } };
    }
    const text = this.buf;
    this.buf = '';
    return { echo: newline, event: { kind: 'line', text } };
  }

  private insert(byte: number): EditorStep {
    if (this.discarding) return NONE;
    if (this.buf.length >= this.opts.maxLine) {
      this.discarding = true;
      this.buf = '';
      return { echo: this.opts.echo ? '\r\n' : '', event: { kind: 'too-long', limit: this.opts.maxLine } };
    }
    const ch = String.fromCharCode(byte);
    this.buf += ch;
    return { echo: this.opts.echo && !this.masked ? ch : '' };
  }

  private backspace(): EditorStep {
    if (this.discarding || this.buf === '') return NONE;
    this.buf = this.buf.slice(0, -1);
    // Back, overwrite with a space, back again: erases the glyph on every terminal.
    return { echo: this.opts.echo && !this.masked ? '\b \b' : '' };
  }

  private eraseLine(): EditorStep {
    return this.eraseTo(0);
  }

  private eraseWord(): EditorStep {
    const trimmed = this.buf.replace(/\s+$/, '');
    const cut = trimmed.lastIndexOf(' ') + 1;
    return this.eraseTo(cut);
  }

  private eraseTo(length: number): EditorStep {
    if (this.discarding) return NONE;
    const n = this.buf.length - length;
    this.buf = this.buf.slice(0, length);
    return { echo: this.opts.echo && !this.masked ? '\b \b'.repeat(n) : '' };
  }

  /** Arrow keys, Home/End, F-keys: swallowed quietly (no history or cursor movement here). */
  private inEscape(byte: number): EditorStep {
    this.escapeLen++;
    if (this.escape === 1) {
      if (byte === 0x5b || byte === 0x4f) {
        this.escape = 2;
        return NONE;
      }
      // ESC + one key (Alt-x): drop both.
      this.escape = 0;
      return NONE;
    }
    if (byte >= 0x40 && byte <= 0x7e) {
      this.escape = 0;
      return NONE;
    }
    if (byte < 0x20 || byte > 0x7e || this.escapeLen > MAX_ESCAPE_BYTES) {
      // Not a well-formed sequence: this was noise, and the byte is handled on its own.
      this.escape = 0;
      const step = this.push(byte);
      return step.event ? step : { echo: step.echo, event: { kind: 'noise' } };
    }
    return NONE;
  }
}
