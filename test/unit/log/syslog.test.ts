import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LogOutputs, Logger, facilityCode, journalPrefix, rfc3164Time, stdoutIsJournal, syslogDatagram, withJournalPrefix, type LogOutputSettings } from '../../../src/log';

const TS = Date.parse('2026-11-05T04:06:08.123Z');
const clock = () => TS;

function settings(over: Partial<LogOutputSettings> = {}, syslog: Partial<LogOutputSettings['syslog']> = {}): LogOutputSettings {
  return { format: 'text', journal_priority: 'auto', ...over, syslog: { enabled: false, facility: 'local0', socket: '/dev/log', tag: 'twinvip', ...syslog } };
}

function captured(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { stream, text: () => chunks.join('') };
}

describe('journal priority prefix (sd-daemon)', () => {
  it('maps the four levels to syslog severities 7/6/4/3', () => {
    expect(['debug', 'info', 'warn', 'error'].map((l) => journalPrefix(l as 'info'))).toEqual(['<7>', '<6>', '<4>', '<3>']);
  });
  it('prefixes every line of a multi-line message, not the empty tail after the last newline', () => {
    expect(withJournalPrefix('a\nb\n', 'error')).toBe('<3>a\n<3>b\n');
    expect(withJournalPrefix('one', 'warn')).toBe('<4>one');
  });
  it('detects the journal only when JOURNAL_STREAM names this very stream', () => {
    const id = { dev: 25n, ino: 123456789012n };
    expect(stdoutIsJournal({ JOURNAL_STREAM: '25:123456789012' }, id)).toBe(true);
    expect(stdoutIsJournal({ JOURNAL_STREAM: '25:99' }, id)).toBe(false); // redirected elsewhere by a parent
    expect(stdoutIsJournal({}, id)).toBe(false);
    expect(stdoutIsJournal({ JOURNAL_STREAM: 'garbage' }, id)).toBe(false);
    expect(stdoutIsJournal({ JOURNAL_STREAM: '25:123456789012' }, undefined)).toBe(false);
  });
});

describe('syslog datagram (RFC 3164, as syslog(3) sends it)', () => {
  it('carries PRI = facility * 8 + severity, a local timestamp, tag[pid] and the line without its own time', () => {
    const d = syslogDatagram({ ts: TS, level: 'error', subsystem: 'vrrp', instance: 'VI_1', msg: 'socket closed', fields: { errno: 'ENETDOWN' } }, { format: 'text', facility: 'local0', tag: 'twinvip', pid: 42 });
    expect(facilityCode('local0')).toBe(16);
    expect(facilityCode('local7')).toBe(23);
    expect(d).toBe(`<131>${rfc3164Time(TS)} twinvip[42]: error VI_1: socket closed errno=ENETDOWN`);
    expect(rfc3164Time(TS)).toMatch(/^Nov [ 1-3]\d \d\d:\d\d:\d\d$/);
  });
  it('pads a one-digit day with a space, as syslog(3) does', () => {
    const d = new Date(2026, 10, 5, 4, 6, 8);
    expect(rfc3164Time(d.getTime())).toBe('Nov  5 04:06:08');
  });
  it('sends the JSON object as the message in json format', () => {
    const d = syslogDatagram({ ts: TS, level: 'warn', subsystem: 'mqtt', msg: 'broker down' }, { format: 'json', facility: 'local3', tag: 'gw', pid: 7 });
    expect(d.startsWith('<156>')).toBe(true); // 19 * 8 + 4
    expect(JSON.parse(d.slice(d.indexOf(': ') + 2))).toMatchObject({ level: 'warn', subsystem: 'mqtt', msg: 'broker down' });
  });
});

describe('LogOutputs', () => {
  it('prefixes stdout lines when stdout is the journal (auto), keeps the ring unprefixed', () => {
    const out = captured();
    const outputs = new LogOutputs({ stdout: out.stream, settings: settings(), env: { JOURNAL_STREAM: '1:2' }, stdoutId: { dev: 1n, ino: 2n }, now: clock });
    const logger = new Logger({ sink: outputs.sink, now: clock });
    logger.for('vrrp', 'VI_1').error('cannot open socket');
    logger.for('daemon').info('started');
    expect(out.text()).toBe('<3>2026-11-05T04:06:08.123Z error VI_1: cannot open socket\n<6>2026-11-05T04:06:08.123Z info  daemon: started\n');
    expect(logger.recent()[0]).toBe('2026-11-05T04:06:08.123Z error VI_1: cannot open socket');
  });
  it('does not prefix on a terminal or a pipe (auto without JOURNAL_STREAM), and obeys always/never', () => {
    const plain = captured();
    const a = new LogOutputs({ stdout: plain.stream, settings: settings(), env: {}, stdoutId: { dev: 1n, ino: 2n } });
    a.sink('line', { ts: TS, level: 'error', subsystem: 'daemon', msg: 'x' });
    expect(plain.text()).toBe('line\n');
    const forced = captured();
    const b = new LogOutputs({ stdout: forced.stream, settings: settings({ journal_priority: 'always' }), env: {} });
    b.sink('line', { ts: TS, level: 'warn', subsystem: 'daemon', msg: 'x' });
    expect(forced.text()).toBe('<4>line\n');
    const never = captured();
    const c = new LogOutputs({ stdout: never.stream, settings: settings({ journal_priority: 'never' }), env: { JOURNAL_STREAM: '1:2' }, stdoutId: { dev: 1n, ino: 2n } });
    c.sink('line', { ts: TS, level: 'error', subsystem: 'daemon', msg: 'x' });
    expect(never.text()).toBe('line\n');
    expect(c.forStderr('a\nb\n')).toBe('a\nb\n');
    expect(b.forStderr('a\nb\n')).toBe('<3>a\n<3>b\n');
  });
  it('sends one datagram per line to the configured socket when syslog is enabled, and follows a reload', () => {
    const sent: Array<[string, string]> = [];
    const out = captured();
    const outputs = new LogOutputs({
      stdout: out.stream,
      settings: settings({}, { enabled: true, facility: 'local2', socket: '/run/x.sock', tag: 'gw-a' }),
      env: {},
      send: (s, p) => void sent.push([s, p.toString()]),
      pid: 9,
    });
    const logger = new Logger({ sink: outputs.sink, now: clock });
    logger.for('heartbeat').warn('serial heartbeat lost');
    expect(sent).toEqual([['/run/x.sock', `<148>${rfc3164Time(TS)} gw-a[9]: warn  heartbeat: serial heartbeat lost`]]);
    outputs.configure(settings());
    logger.for('heartbeat').warn('again');
    expect(sent).toHaveLength(1);
  });
  it('a refusing syslog socket drops lines without throwing, says so once on stdout, and once when it works again', () => {
    let refuse = true;
    const delivered: string[] = [];
    const out = captured();
    const outputs = new LogOutputs({
      stdout: out.stream,
      settings: settings({}, { enabled: true }),
      env: {},
      send: (_s, p) => {
        if (refuse) throw Object.assign(new Error('sendto: ENOENT'), { code: 'ENOENT' });
        delivered.push(p.toString());
      },
      now: clock,
    });
    const logger = new Logger({ sink: outputs.sink, now: clock });
    logger.for('daemon').info('one');
    logger.for('daemon').info('two');
    refuse = false;
    logger.for('daemon').info('three');
    const lines = out.text().trim().split('\n');
    expect(lines).toEqual([
      '2026-11-05T04:06:08.123Z info  daemon: one',
      '2026-11-05T04:06:08.123Z warn  daemon: syslog output: cannot send to /dev/log (ENOENT); lines go to stdout only until it accepts them',
      '2026-11-05T04:06:08.123Z info  daemon: two',
      '2026-11-05T04:06:08.123Z info  daemon: three',
      '2026-11-05T04:06:08.123Z info  daemon: syslog output to /dev/log works again; 2 line(s) were not delivered to it',
    ]);
    expect(delivered).toHaveLength(1);
    expect(outputs.lostTotal).toBe(2);
  });
});
