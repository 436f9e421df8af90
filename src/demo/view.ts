// The demo's terminal output. On a terminal: narration scrolls above a status block redrawn in
// place with plain ANSI (cursor up + erase down; no curses, so any VT100-ish terminal works).
// Not a terminal, or TERM=dumb: plain lines — the narration plus one line per change (state,
// client's answering box, MQTT event), which is also what the integration test reads.

import type { ChangeEvent, Observer } from './observe';

export interface ViewOptions {
  out: NodeJS.WriteStream | NodeJS.WritableStream;
  live: boolean;
  startedAt: number;
}

const REDRAW_MS = 200;
const RECENT = 6;

export class DemoView {
  private height = 0;
  private lastDraw = 0;
  private pending: NodeJS.Timeout | undefined;
  private readonly recent: string[] = [];
  private off: (() => void) | undefined;
  private phase = '';

  constructor(
    private readonly obs: Observer,
    private readonly opts: ViewOptions,
  ) {}

  static wantsLive(out: NodeJS.WriteStream | NodeJS.WritableStream, env: NodeJS.ProcessEnv): boolean {
    return (out as NodeJS.WriteStream).isTTY === true && env.TERM !== 'dumb' && env.TERM !== undefined && env.TERM !== '';
  }

  attach(): void {
    this.off = this.obs.on((e) => this.onChange(e));
  }

  detach(): void {
    this.off?.();
    if (this.pending) clearTimeout(this.pending);
    this.pending = undefined;
    if (this.opts.live) {
      this.draw();
      this.height = 0;
    }
  }

  setPhase(text: string): void {
    this.phase = text;
    this.schedule();
  }

  /** A narration line, kept in the scrollback above the live block. */
  say(line: string): void {
    if (this.opts.live) {
      this.erase();
      this.opts.out.write(`${line}\n`);
      this.draw();
    } else {
      this.opts.out.write(`${line}\n`);
    }
  }

  private stamp(t: number): string {
    return `+${((t - this.opts.startedAt) / 1000).toFixed(1).padStart(5)} s`;
  }

  private onChange(e: ChangeEvent): void {
    let line: string | undefined;
    switch (e.kind) {
      case 'box-state':
        line = `${this.stamp(e.t)}  ${e.box}: ${e.from ?? 'down'} -> ${e.to ?? 'down'}${e.to && e.cause ? `   (${e.cause})` : ''}`;
        break;
      case 'client':
        line = `${this.stamp(e.t)}  client: ${e.to.startsWith('(') ? `no answer ${e.to}` : `http://VIP/who answered by ${e.to}`}`;
        break;
      case 'static':
        line = `${this.stamp(e.t)}  client: ${e.to.startsWith('(') ? `static page: no answer ${e.to}` : `static page http://VIP/ served by Nginx on ${e.to}`}`;
        break;
      case 'https':
        line = `${this.stamp(e.t)}  client: ${e.to.startsWith('(') ? `https://VIP/who: no answer ${e.to}` : `https://VIP/who (new TLS handshake) answered by ${e.to}`}`;
        break;
      case 'mqtt':
        line = `${this.stamp(e.event.t)}  mqtt ${e.event.node} ${e.event.kind}: ${e.event.text}`;
        break;
      case 'mqtt-link':
        line = `${this.stamp(e.t)}  client: MQTT subscriber ${e.up ? 'connected to the broker' : 'disconnected'}`;
        break;
      case 'tick':
        break;
    }
    if (line) {
      if (this.opts.live) {
        this.recent.push(line);
        if (this.recent.length > RECENT) this.recent.shift();
      } else {
        this.opts.out.write(`    ${line}\n`);
      }
    }
    if (this.opts.live) this.schedule();
  }

  private schedule(): void {
    if (!this.opts.live || this.pending) return;
    const wait = Math.max(0, this.lastDraw + REDRAW_MS - Date.now());
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.erase();
      this.draw();
    }, wait);
  }

  private erase(): void {
    if (this.height > 0) this.opts.out.write(`\x1b[${this.height}F\x1b[J`);
    this.height = 0;
  }

  private draw(): void {
    const lines = this.render();
    this.opts.out.write(`${lines.join('\n')}\n`);
    this.height = lines.length;
    this.lastDraw = Date.now();
  }

  render(): string[] {
    const now = Date.now();
    const rows: string[][] = [['BOX', 'STATE', 'PRIO', 'VIP', 'ETH HB', 'SERIAL HB', 'LAST TRANSITION']];
    for (const b of this.obs.boxes) {
      rows.push([
        b.name,
        b.reachable ? (b.state ?? '?') : 'down',
        b.priority === undefined || !b.reachable ? '-' : String(b.priority),
        b.reachable && b.vipsHeld ? 'held' : '-',
        !b.reachable ? '-' : b.ethernet ?? (b.ethHeardAt !== undefined ? `${((now - b.ethHeardAt) / 1000).toFixed(1)} s ago` : '-'),
        b.reachable ? (b.serial ?? 'n/a') : '-',
        b.reachable ? (b.lastCause ?? '-') : (b.error ?? '-').slice(0, 40),
      ]);
    }
    const out = [`── twinvip demo ${'─'.repeat(50)}`, ...table(rows)];
    out.push(`client 10.88.0.50: http://VIP/who -> ${this.obs.clientWho ?? '…'}${this.obs.clientWhoHttps !== undefined ? `   https -> ${this.obs.clientWhoHttps}` : ''}   static / -> ${this.obs.staticBox ?? '…'}   MQTT: ${this.obs.mqttUp ? 'subscribed' : 'not connected'}`);
    if (this.phase) out.push(`now: ${this.phase}`);
    if (this.recent.length > 0) out.push('recent:', ...this.recent.map((l) => `  ${l}`));
    out.push('─'.repeat(66));
    return out;
  }
}

export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  '));
}
