import { describe, expect, it } from 'vitest';
import { LineEditor, type EditorEvent } from '../../../src/console';

function run(input: string | number[], opts = { maxLine: 16, echo: true }) {
  const ed = new LineEditor(opts);
  const bytes = typeof input === 'string' ? [...Buffer.from(input, 'latin1')] : input;
  let echo = '';
  const events: EditorEvent[] = [];
  for (const b of bytes) {
    const s = ed.push(b);
    echo += s.echo;
    if (s.event) events.push(s.event);
  }
  return { echo, events, ed };
}

const lines = (events: EditorEvent[]) => events.filter((e) => e.kind === 'line').map((e) => (e as { text: string }).text);

describe('line editor', () => {
  it.each([
    ['CR', 'status\r'],
    ['LF', 'status\n'],
    ['CRLF', 'status\r\n'],
    ['CR NUL (telnet)', 'status\r\0'],
  ])('Enter as %s gives exactly one line', (_name, input) => {
    const r = run(input);
    expect(lines(r.events)).toEqual(['status']);
    expect(r.events.filter((e) => e.kind === 'noise')).toEqual([]);
    expect(r.echo).toBe('status\r\n');
  });

  it('CRLF CRLF is two (empty second) lines, LF LF too', () => {
    expect(lines(run('a\r\n\r\n').events)).toEqual(['a', '']);
    expect(lines(run('a\n\n').events)).toEqual(['a', '']);
  });

  it.each([[0x08], [0x7f]])('backspace 0x%s erases one character with an erase echo', (bs) => {
    const r = run([...Buffer.from('stx'), bs, ...Buffer.from('atus\r')]);
    expect(lines(r.events)).toEqual(['status']);
    expect(r.echo).toBe('stx\b \batus\r\n');
  });

  it('backspace on an empty line echoes nothing', () => {
    const r = run([0x7f, 0x7f, ...Buffer.from('x\r')]);
    expect(r.echo).toBe('x\r\n');
    expect(lines(r.events)).toEqual(['x']);
  });

  it('Ctrl-C abandons the line', () => {
    const r = run([...Buffer.from('failover'), 0x03, ...Buffer.from('help\r')]);
    expect(r.events[0]).toEqual({ kind: 'interrupt' });
    expect(lines(r.events)).toEqual(['help']);
    expect(r.echo).toBe('failover^C\r\nhelp\r\n');
  });

  it('Ctrl-U erases the whole line on screen, Ctrl-W the last word', () => {
    const u = run([...Buffer.from('abc'), 0x15, ...Buffer.from('log\r')]);
    expect(lines(u.events)).toEqual(['log']);
    expect(u.echo).toBe('abc\b \b\b \b\b \blog\r\n');
    const w = run([...Buffer.from('vrrp VI_1'), 0x17, ...Buffer.from('VI_2\r')]);
    expect(lines(w.events)).toEqual(['vrrp VI_2']);
  });

  it('a line over the limit is refused once and discarded up to Enter', () => {
    const r = run(`${'x'.repeat(40)}\rhelp\r`);
    expect(r.events.filter((e) => e.kind === 'too-long')).toEqual([{ kind: 'too-long', limit: 16 }]);
    expect(r.events.filter((e) => e.kind === 'discarded')).toHaveLength(1);
    expect(lines(r.events)).toEqual(['help']);
    // Echo stops at the limit.
    expect(r.echo).toBe(`${'x'.repeat(16)}\r\nhelp\r\n`);
  });

  it('exactly maxLine characters is still a line', () => {
    expect(lines(run(`${'y'.repeat(16)}\r`).events)).toEqual(['y'.repeat(16)]);
  });

  it('binary noise never enters the line and is reported byte by byte', () => {
    const r = run([0x01, 0x02, 0x80, 0xff, 0xc3, 0xa9, ...Buffer.from('help'), 0x90, 0x0d]);
    expect(lines(r.events)).toEqual(['help']);
    expect(r.events.filter((e) => e.kind === 'noise')).toHaveLength(7);
    expect(r.echo).toBe('help\r\n');
  });

  it('arrow keys and other escape sequences are swallowed silently', () => {
    const r = run(`sta\x1b[A\x1b[1;5Dtus\x1bOP\r`);
    expect(lines(r.events)).toEqual(['status']);
    expect(r.events.filter((e) => e.kind === 'noise')).toEqual([]);
    expect(r.echo).toBe('status\r\n');
  });

  it('a broken escape sequence counts as noise and does not eat the Enter', () => {
    const r = run([0x1b, 0x5b, 0x31, 0x0d]);
    expect(r.events.map((e) => e.kind)).toEqual(['line']);
    const s = run([0x1b, 0x5b, ...Array(20).fill(0x31), 0x0d]);
    expect(s.events.some((e) => e.kind === 'noise')).toBe(true);
    expect(s.events.at(-1)?.kind).toBe('line');
  });

  it('masked entry echoes nothing but still edits', () => {
    const ed = new LineEditor({ maxLine: 16, echo: true });
    ed.masked = true;
    let echo = '';
    let ev: EditorEvent | undefined;
    for (const b of [...Buffer.from('secrex'), 0x7f, ...Buffer.from('t\r')]) {
      const s = ed.push(b);
      echo += s.echo;
      ev = s.event ?? ev;
    }
    expect(echo).toBe('\r\n');
    expect(ev).toEqual({ kind: 'line', text: 'secret' });
  });

  it('without echo (control socket) nothing is echoed', () => {
    const r = run('status\r', { maxLine: 16, echo: false });
    expect(r.echo).toBe('');
    expect(lines(r.events)).toEqual(['status']);
  });

  it('Ctrl-D only on an empty line', () => {
    expect(run([0x04]).events).toEqual([{ kind: 'eof' }]);
    expect(run([0x61, 0x04]).events).toEqual([]);
  });

  it('random bytes never produce a line containing a non-printable character', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
    const ed = new LineEditor({ maxLine: 64, echo: true });
    for (let i = 0; i < 200_000; i++) {
      const s = ed.push(rnd());
      if (s.event?.kind === 'line') {
        expect(s.event.text).toMatch(/^[\x20-\x7e]*$/);
        expect(s.event.text.length).toBeLessThanOrEqual(64);
      }
      expect(s.echo).toMatch(/^[\x20-\x7e\r\n\b^]*$/);
    }
  });
});
