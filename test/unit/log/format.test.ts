import { describe, expect, it } from 'vitest';
import { formatJson, formatText } from '../../../src/log';

const TS = Date.parse('2026-11-25T14:36:48.123Z');

describe('text format', () => {
  it('matches the documented transition line', () => {
    const line = formatText({ ts: TS, level: 'info', subsystem: 'vrrp', instance: 'VI_1', msg: 'BACKUP -> MASTER (master down, 1204 ms)' });
    expect(line).toBe('2026-11-25T14:36:48.123Z info  VI_1: BACKUP -> MASTER (master down, 1204 ms)');
  });
  it('names the subsystem when no instance is concerned, and appends fields', () => {
    const line = formatText({ ts: TS, level: 'warn', subsystem: 'daemon', msg: 'config refused', fields: { path: '/etc/t.json', errors: 2, why: 'a b' } });
    expect(line).toBe('2026-11-25T14:36:48.123Z warn  daemon: config refused path=/etc/t.json errors=2 why="a b"');
  });
  it('never emits more than one line, whatever the message holds', () => {
    const line = formatText({ ts: TS, level: 'error', subsystem: 'control', msg: 'bad\nfake 2026 info line', fields: { v: 'x\ny' } });
    expect(line.split('\n')).toHaveLength(1);
  });
});

describe('json format', () => {
  it('is one object per line with the envelope first and fields flattened', () => {
    const line = formatJson({ ts: TS, level: 'info', subsystem: 'vrrp', instance: 'VI_1', msg: 'BACKUP -> MASTER', fields: { cause: 'master down', ms: 1204 } });
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({ ts: '2026-11-25T14:36:48.123Z', level: 'info', subsystem: 'vrrp', instance: 'VI_1', msg: 'BACKUP -> MASTER', cause: 'master down', ms: 1204 });
    expect(Object.keys(JSON.parse(line)).slice(0, 5)).toEqual(['ts', 'level', 'subsystem', 'instance', 'msg']);
  });
  it('does not let a field overwrite the envelope', () => {
    const obj = JSON.parse(formatJson({ ts: TS, level: 'debug', subsystem: 'net', msg: 'm', fields: { level: 'error', ts: 'forged' } }));
    expect(obj.level).toBe('debug');
    expect(obj.ts).toBe('2026-11-25T14:36:48.123Z');
  });
  it('survives values JSON cannot take', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => formatJson({ ts: TS, level: 'info', subsystem: 'net', msg: 'm', fields: { big: 10n, cyclic } })).not.toThrow();
    const withBig = JSON.parse(formatJson({ ts: TS, level: 'info', subsystem: 'net', msg: 'm', fields: { big: 10n, err: new Error('boom') } }));
    expect(withBig.big).toBe('10');
    expect(withBig.err).toEqual({ name: 'Error', message: 'boom' });
  });
});
