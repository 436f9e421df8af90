import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Logger, RingBuffer, memorySink, streamSink } from '../../../src/log';

const fixedClock = () => Date.parse('2026-11-25T14:36:48.123Z');

describe('Logger', () => {
  it('filters by level, per subsystem', () => {
    const sink = memorySink();
    const log = new Logger({ level: 'info', levels: { vrrp: 'debug', mqtt: 'error' }, sink, now: fixedClock });
    log.for('vrrp').debug('vrrp debug shown');
    log.for('net').debug('net debug hidden');
    log.for('mqtt').warn('mqtt warn hidden');
    log.for('mqtt').error('mqtt error shown');
    expect(sink.lines.map((l) => l.slice(31))).toEqual(['vrrp: vrrp debug shown', 'mqtt: mqtt error shown']);
    log.setSubsystemLevel('net', 'debug');
    log.for('net').debug('now shown');
    expect(sink.lines).toHaveLength(3);
  });

  it('binds an instance so lines name it', () => {
    const sink = memorySink();
    const log = new Logger({ sink, now: fixedClock });
    log.for('vrrp').forInstance('VI_1').info('BACKUP -> MASTER (master down, 1204 ms)');
    expect(sink.lines[0]).toBe('2026-11-25T14:36:48.123Z info  VI_1: BACKUP -> MASTER (master down, 1204 ms)');
  });

  it('keeps the last N lines in its ring, oldest first', () => {
    const sink = memorySink();
    const log = new Logger({ sink, ringSize: 3, format: 'json', now: fixedClock });
    for (let i = 1; i <= 5; i++) log.for('daemon').info(`line ${i}`);
    expect(log.recent().map((l) => JSON.parse(l).msg)).toEqual(['line 3', 'line 4', 'line 5']);
    expect(log.recent(2).map((l) => JSON.parse(l).msg)).toEqual(['line 4', 'line 5']);
    expect(log.recent(0)).toEqual([]);
  });

  it('switches format and level on configure (reload)', () => {
    const sink = memorySink();
    const log = new Logger({ sink, now: fixedClock });
    log.configure({ format: 'json', level: 'warn' });
    log.for('daemon').info('hidden');
    log.for('daemon').warn('shown');
    expect(sink.lines).toHaveLength(1);
    expect(JSON.parse(sink.lines[0]!).msg).toBe('shown');
  });

  it('hands records to listeners; a throwing or logging listener breaks nothing', () => {
    const sink = memorySink();
    const log = new Logger({ sink, now: fixedClock });
    const seen: string[] = [];
    log.onRecord(() => {
      throw new Error('broken listener');
    });
    const off = log.onRecord((r) => {
      seen.push(r.msg);
      log.for('daemon').info('from listener');
    });
    log.for('control').info('one');
    off();
    log.for('control').info('two');
    expect(seen).toEqual(['one']);
    expect(sink.lines.map((l) => l.slice(31))).toEqual(['control: one', 'daemon: from listener', 'control: two']);
  });
});

describe('streamSink', () => {
  it('never throws when the reader is gone (EPIPE) and keeps the ring', async () => {
    const failing = new Writable({
      write(_chunk, _enc, cb) {
        const err = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
        cb(err);
      },
    });
    const log = new Logger({ sink: streamSink(failing), now: fixedClock });
    log.for('daemon').info('first');
    await new Promise((r) => setImmediate(r));
    expect(() => log.for('daemon').info('second')).not.toThrow();
    expect(log.recent()).toHaveLength(2);
  });

  it('writes one line per event to a working stream', async () => {
    const out = new PassThrough();
    const log = new Logger({ sink: streamSink(out), now: fixedClock });
    log.for('daemon').info('a');
    log.for('daemon').info('b');
    out.end();
    const text = (await out.toArray()).join('');
    expect(text.split('\n')).toEqual([expect.stringMatching(/daemon: a$/), expect.stringMatching(/daemon: b$/), '']);
  });
});

describe('RingBuffer', () => {
  it('refuses a nonsense capacity', () => {
    expect(() => new RingBuffer(0)).toThrow(RangeError);
  });
  it('wraps', () => {
    const r = new RingBuffer<number>(2);
    r.push(1); r.push(2); r.push(3);
    expect(r.last()).toEqual([2, 3]);
    expect(r.last(10)).toEqual([2, 3]);
    expect(r.size).toBe(2);
  });
});
