// The one diagnostic shell behind both transports: bytes in (from a serial port, or lines from
// the control socket), text out through `write`. It owns the line editor, the prompt, the
// password and confirmation steps of guarded actions, and the rate limit on complaints. No I/O of
// its own, the clock is injected: every behaviour is a unit test.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { GuardedRun } from './action-guard';
import { runCommand, type CommandOutcome, type GuardedAction, type ShellServices } from './commands';
import { ComplaintLimiter } from './complaint-limiter';
import { LineEditor, type EditorEvent } from './line-editor';
import { stateSummary } from './snapshot';
import { printable } from './text-format';

/** Who may run guarded actions: anyone (local socket), after a password, or nobody. */
export type Access = { kind: 'full' } | { kind: 'password'; password: string } | { kind: 'read-only' };

// The counters live in counters.ts: the extension holds them from start-up, while this module is
// loaded only when the first console session opens.
export { newConsoleCounters, type ConsoleCounters } from './counters';
import type { ConsoleCounters } from './counters';

export interface ShellOptions {
  services: ShellServices;
  /** Output; already in the transport's line ending. */
  write(text: string): void;
  /** "serial" or "local": named in the log lines of actions. */
  transport: string;
  /** Echo typed characters back (serial) or not (control socket: the client edits the line). */
  echo: boolean;
  newline: '\r\n' | '\n';
  /** Write prompts into the output (serial); the local client shows `prompt` itself. */
  showPrompt: boolean;
  access: Access;
  counters: ConsoleCounters;
  version: string;
  /** Actions and refused passwords are logged (`console: failover confirmed on serial`). */
  log?: (level: 'info' | 'warn', msg: string) => void;
  maxLine?: number;
  maxTypeahead?: number;
}

type ComplaintKind = 'noise' | 'unknown' | 'too-long' | 'typeahead';

type Mode = { kind: 'command' } | { kind: 'password'; action: GuardedAction } | { kind: 'confirm'; action: GuardedAction };

export const DEFAULT_MAX_LINE = 256;
const DEFAULT_MAX_TYPEAHEAD = 4096;
/** At most one "ignored N non-printable bytes" per this many ms; the count keeps adding up. */
const NOISE_COMPLAINT_MS = 5000;
const LOCKOUT_MAX_MS = 30_000;

export class Shell {
  private readonly editor: LineEditor;
  /** One limiter per kind of complaint: a burst of garbage must not silence the note about a long line. */
  private readonly limiters = new Map<ComplaintKind, ComplaintLimiter>();
  private readonly maxTypeahead: number;
  private mode: Mode = { kind: 'command' };
  private pending: Buffer = Buffer.alloc(0);
  private pos = 0;
  private busy = false;
  /** Bumped by Ctrl-C while busy: the abandoned command's late answer is not shown. */
  private generation = 0;
  private noisePending = 0;
  private lastNoiseComplaint = -Infinity;
  private typeaheadDropped = 0;
  private atLineStart = true;
  private authenticated = false;
  private failures = 0;
  private lockedUntil = -Infinity;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: ShellOptions) {
    this.editor = new LineEditor({ maxLine: opts.maxLine ?? DEFAULT_MAX_LINE, echo: opts.echo });
    this.maxTypeahead = opts.maxTypeahead ?? DEFAULT_MAX_TYPEAHEAD;
  }

  /** The prompt for the current step: the command prompt, "password: " or the confirmation question. */
  prompt(): string {
    switch (this.mode.kind) {
      case 'password':
        return 'password: ';
      case 'confirm':
        return `${this.mode.action.question} (y/N) `;
      case 'command': {
        const snap = this.opts.services.snapshot();
        return `twinvip ${snap.node} [${stateSummary(snap)}]> `;
      }
    }
  }

  get isBusy(): boolean {
    return this.busy;
  }

  /** Starts a session: a banner and the prompt. */
  start(): void {
    const snap = this.opts.services.snapshot();
    const access =
      this.opts.access.kind === 'read-only' ? ' Read-only: guarded actions need console.password_file in the config.' :
      this.opts.access.kind === 'password' ? ' Guarded actions ask for the console password.' : '';
    this.say(`twinvip ${this.opts.version} diagnostic console on ${snap.node}. Type 'help'.${access}`);
    this.showPrompt();
  }

  /** Ends the session (idle timeout, logout): forgets the password and any half-done step. */
  endSession(reason: string): void {
    const wasIn = this.authenticated;
    this.authenticated = false;
    this.mode = { kind: 'command' };
    this.editor.reset();
    this.editor.masked = false;
    this.generation++;
    this.busy = false;
    this.pending = Buffer.alloc(0);
    this.pos = 0;
    this.newlineIfNeeded();
    this.say(`session ended (${reason})${wasIn ? '; password needed again' : ''}`);
  }

  feed(chunk: Uint8Array): void {
    this.opts.counters.bytes_in += chunk.length;
    let data = Buffer.from(chunk);
    if (this.busy) {
      // Ctrl-C while a command runs: stop waiting for it and drop what was typed before it.
      const cut = data.lastIndexOf(0x03);
      if (cut !== -1) {
        this.abandon();
        this.pending = Buffer.alloc(0);
        this.pos = 0;
        data = data.subarray(cut + 1);
      }
    }
    if (this.busy) {
      const room = Math.max(0, this.maxTypeahead - (this.pending.length - this.pos));
      if (data.length > room) {
        this.typeaheadDropped += data.length - room;
        this.opts.counters.typeahead_dropped += data.length - room;
        data = data.subarray(0, room);
      }
    }
    this.pending = this.pos === 0 ? Buffer.concat([this.pending, data]) : Buffer.concat([this.pending.subarray(this.pos), data]);
    this.pos = 0;
    this.pump();
  }

  /** Feeds one complete line (the control socket's transport). */
  feedLine(line: string): void {
    this.feed(Buffer.from(`${line}\n`, 'latin1'));
  }

  /** Ctrl-C from the local client: abandons the line, a confirmation or a wait. */
  interrupt(): void {
    this.feed(Buffer.from([0x03]));
  }

  /** Resolves once nothing runs and all input is processed (control transport, tests). */
  whenIdle(): Promise<void> {
    if (!this.busy && this.pos >= this.pending.length) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private pump(): void {
    while (!this.busy && this.pos < this.pending.length) {
      const step = this.editor.push(this.pending[this.pos++]!);
      if (step.echo) this.raw(step.echo);
      if (step.event) this.onEvent(step.event);
    }
    if (this.pos >= this.pending.length) {
      this.pending = Buffer.alloc(0);
      this.pos = 0;
    }
    if (!this.busy) {
      this.flushNoise();
      if (this.typeaheadDropped > 0) {
        this.complainRedraw('typeahead', `${this.typeaheadDropped} byte(s) typed while busy were dropped`);
        this.typeaheadDropped = 0;
      }
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private onEvent(ev: EditorEvent): void {
    switch (ev.kind) {
      case 'noise':
        this.noisePending++;
        this.opts.counters.noise_bytes++;
        return;
      case 'interrupt':
        this.atLineStart = true;
        if (this.mode.kind !== 'command') {
          this.opts.counters.actions_cancelled++;
          this.say(`${this.mode.action.name}: cancelled`);
          this.setMode({ kind: 'command' });
        }
        this.showPrompt();
        return;
      case 'eof':
        if (this.authenticated) {
          this.authenticated = false;
          this.newlineIfNeeded();
          this.say('logged out');
          this.showPrompt();
        }
        return;
      case 'too-long':
        this.atLineStart = true;
        this.opts.counters.long_lines++;
        this.complain('too-long', `line too long (over ${ev.limit} characters): ignored up to the next Enter`);
        return;
      case 'discarded':
        this.atLineStart = true;
        this.showPrompt();
        return;
      case 'line':
        this.atLineStart = true;
        this.onLine(ev.text);
        return;
    }
  }

  private onLine(text: string): void {
    this.opts.counters.lines++;
    const mode = this.mode;
    if (mode.kind === 'password') return this.onPassword(text, mode.action);
    if (mode.kind === 'confirm') return this.onConfirm(text, mode.action);
    const outcome = runCommand(text, this.opts.services);
    if (outcome instanceof Promise) {
      this.opts.counters.commands++;
      this.runAsync(outcome.then((o) => this.describeOutcome(o)));
      return;
    }
    this.handleOutcome(outcome);
  }

  private handleOutcome(o: CommandOutcome): void {
    switch (o.kind) {
      case 'empty':
        break;
      case 'unknown':
        this.opts.counters.unknown_commands++;
        this.complain('unknown', `unknown command '${printable(o.word.slice(0, 24))}'; type 'help'`);
        break;
      case 'text':
        this.opts.counters.commands++;
        this.say(o.text);
        break;
      case 'guarded':
        this.opts.counters.commands++;
        this.beginGuarded(o.action);
        break;
    }
    this.showPrompt();
  }

  /** Async commands only answer text (peer, config check). */
  private describeOutcome(o: CommandOutcome): string {
    return o.kind === 'text' ? o.text : '';
  }

  private beginGuarded(action: GuardedAction): void {
    const access = this.opts.access;
    if (access.kind === 'read-only') {
      this.opts.counters.actions_refused++;
      this.say(`${action.name}: refused: this console is read-only (set console.password_file in the config to allow actions)`);
      return;
    }
    const busy = this.opts.services.guard.busy();
    if (busy !== undefined) {
      this.opts.counters.actions_refused++;
      this.say(`${action.name}: refused: another action ${busy}`);
      return;
    }
    if (access.kind === 'password' && !this.authenticated) {
      const wait = this.lockedUntil - this.opts.services.now();
      if (wait > 0) {
        this.opts.counters.actions_refused++;
        this.say(`${action.name}: refused: too many wrong passwords; try again in ${Math.ceil(wait / 1000)} s`);
        return;
      }
      this.setMode({ kind: 'password', action });
      return;
    }
    this.setMode({ kind: 'confirm', action });
  }

  private onPassword(text: string, action: GuardedAction): void {
    const access = this.opts.access;
    this.setMode({ kind: 'command' });
    if (access.kind !== 'password') return this.showPrompt();
    const now = this.opts.services.now();
    if (now < this.lockedUntil) {
      this.say(`refused: too many wrong passwords; try again in ${Math.ceil((this.lockedUntil - now) / 1000)} s`);
      return this.showPrompt();
    }
    if (!samePassword(text, access.password)) {
      this.failures++;
      this.opts.counters.auth_failures++;
      // Doubling delay per failure (1, 2, 4 ... 30 s): slows guessing over the wire to a crawl.
      const delay = Math.min(LOCKOUT_MAX_MS, 1000 * 2 ** (this.failures - 1));
      this.lockedUntil = now + delay;
      this.opts.log?.('warn', `console: wrong password on ${this.opts.transport} (${this.failures} in a row); locked for ${delay / 1000} s`);
      this.say(`wrong password; ${action.name} not run (next try in ${Math.ceil(delay / 1000)} s)`);
      return this.showPrompt();
    }
    this.failures = 0;
    this.authenticated = true;
    this.beginGuarded(action);
    this.showPrompt();
  }

  private onConfirm(text: string, action: GuardedAction): void {
    this.setMode({ kind: 'command' });
    const answer = text.trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      this.opts.counters.actions_cancelled++;
      this.say(`${action.name}: cancelled`);
      return this.showPrompt();
    }
    this.opts.log?.('info', `console: '${action.name}' confirmed on ${this.opts.transport}`);
    this.opts.counters.actions_run++;
    this.say(`${action.name}: running...`);
    const run = this.opts.services.guard.run(action.name, () => action.run(`console (${this.opts.transport})`));
    this.runAsync(run.then((r) => this.describeRun(action, r)));
  }

  private describeRun(action: GuardedAction, r: GuardedRun): string {
    if (r.ok) return `${action.name}: done. ${r.message}`;
    if ('refused' in r) {
      this.opts.counters.actions_refused++;
      return `${action.name}: refused: ${r.refused}`;
    }
    return `${action.name}: FAILED: ${r.error}`;
  }

  private runAsync(work: Promise<string>): void {
    this.busy = true;
    const gen = this.generation;
    const finish = (text: string) => {
      if (gen !== this.generation) return;
      this.busy = false;
      if (text !== '') this.say(text);
      this.showPrompt();
      this.pump();
    };
    work.then(finish, (err: unknown) => {
      this.opts.counters.command_failures++;
      finish(`internal error: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  private abandon(): void {
    this.generation++;
    this.busy = false;
    this.editor.reset();
    this.raw(this.opts.echo ? '^C' : '');
    this.newlineIfNeeded();
    this.say('stopped waiting (an action already started runs to its end)');
    this.setMode({ kind: 'command' });
    this.showPrompt();
  }

  private setMode(mode: Mode): void {
    this.mode = mode;
    this.editor.masked = mode.kind === 'password';
  }

  private flushNoise(): void {
    if (this.noisePending === 0) return;
    const now = this.opts.services.now();
    if (now - this.lastNoiseComplaint < NOISE_COMPLAINT_MS) return;
    this.lastNoiseComplaint = now;
    const n = this.noisePending;
    this.noisePending = 0;
    this.complainRedraw('noise', `ignored ${n} non-printable byte(s) (line noise or wrong baud rate?)`);
  }

  /** A complaint in the middle of typing: say it on its own line, then redraw prompt and line. */
  private complainRedraw(kind: ComplaintKind, msg: string): void {
    const limiter = this.limiterFor(kind);
    if (!this.limitedAllow(limiter)) return;
    this.newlineIfNeeded();
    this.say(withHeld(limiter, msg));
    if (!this.editor.isDiscarding) {
      this.showPrompt();
      if (this.editor.visibleLine) this.raw(this.editor.visibleLine);
    }
  }

  private complain(kind: ComplaintKind, msg: string): void {
    const limiter = this.limiterFor(kind);
    if (!this.limitedAllow(limiter)) return;
    this.newlineIfNeeded();
    this.say(withHeld(limiter, msg));
  }

  private limiterFor(kind: ComplaintKind): ComplaintLimiter {
    let l = this.limiters.get(kind);
    if (!l) {
      l = new ComplaintLimiter(3, 5000);
      this.limiters.set(kind, l);
    }
    return l;
  }

  private limitedAllow(limiter: ComplaintLimiter): boolean {
    if (limiter.allow(this.opts.services.now())) return true;
    this.opts.counters.complaints_suppressed++;
    return false;
  }

  private showPrompt(): void {
    if (!this.opts.showPrompt || this.busy) return;
    this.raw(this.prompt());
  }

  private newlineIfNeeded(): void {
    if (!this.atLineStart) this.raw(this.opts.newline);
  }

  /** A message on its own line(s). */
  private say(text: string): void {
    this.raw(`${text.replace(/\r?\n/g, this.opts.newline)}${this.opts.newline}`);
  }

  private raw(text: string): void {
    if (text === '') return;
    this.atLineStart = text.endsWith('\n');
    this.opts.write(text);
  }
}

function withHeld(limiter: ComplaintLimiter, msg: string): string {
  const held = limiter.takeHeld();
  return held > 0 ? `${msg} (${held} similar message(s) suppressed)` : msg;
}

function samePassword(given: string, expected: string): boolean {
  // Equal-length digests, so the comparison time does not tell how much of a guess was right.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
