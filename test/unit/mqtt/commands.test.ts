import { describe, expect, it } from 'vitest';
import { RecentRequests } from '../../../src/mqtt/commands/dedupe';
import { parseRequest, timeOf } from '../../../src/mqtt/commands/request';
import { validateCommandPayload } from '../../../src/mqtt/commands/schemas';

const NOW = Date.parse('2026-01-01T12:00:00Z');
const parse = (cmd: string, body: unknown, retain = false) =>
  parseRequest(cmd, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), { retain }, NOW, 60_000);

describe('command validation', () => {
  it('accepts each command\'s happy path', () => {
    expect(parse('status', '')).toMatchObject({ ok: true, request: { command: 'status', args: {} } });
    expect(parse('maintenance', { on: true, id: 'r1' })).toEqual({ ok: true, request: { command: 'maintenance', id: 'r1', args: { on: true } } });
    expect(parse('failover', { transaction: 3 })).toEqual({ ok: true, request: { command: 'failover', id: 't:3', transaction: 3, args: {} } });
    expect(parse('reload', {})).toMatchObject({ ok: true });
    expect(parse('config', { config: { node: { name: 'x' } } })).toMatchObject({ ok: true, request: { args: { config: { node: { name: 'x' } } } } });
    expect(parse('diagnostics', { log_lines: 20 })).toMatchObject({ ok: true, request: { args: { log_lines: 20 } } });
  });

  it('refuses malformed payloads with the path and reason, keeping the transaction', () => {
    expect(parse('maintenance', {})).toMatchObject({ ok: false, error: expect.stringContaining("missing field 'on'") });
    expect(parse('maintenance', { on: 1, transaction: 'x' })).toMatchObject({ ok: false, transaction: 'x', error: expect.stringContaining('/on: must be boolean') });
    expect(parse('status', { verbose: true })).toMatchObject({ ok: false, error: expect.stringContaining("unknown field 'verbose'") });
    expect(parse('config', { config: [] })).toMatchObject({ ok: false });
    expect(parse('diagnostics', { log_lines: 0 })).toMatchObject({ ok: false });
    expect(parse('status', '{oops')).toMatchObject({ ok: false, error: expect.stringMatching(/^payload is not JSON/) });
    expect(parse('status', '[1]')).toMatchObject({ ok: false, error: 'payload must be a JSON object' });
    expect(parse('status', 'null')).toMatchObject({ ok: false });
    expect(parse('reboot', {})).toMatchObject({ ok: false, error: expect.stringMatching(/^unknown command 'reboot'/) });
  });

  it('refuses retained requests (they would run again on every reconnect)', () => {
    expect(parse('status', {}, true)).toMatchObject({ ok: false, error: expect.stringMatching(/retained/) });
  });

  it('honours expires_at and the maximum age of sent_at', () => {
    expect(parse('maintenance', { on: true, expires_at: NOW + 1000 })).toMatchObject({ ok: true });
    expect(parse('maintenance', { on: true, expires_at: '2026-01-01T11:59:59Z' })).toMatchObject({ ok: false, error: expect.stringMatching(/^expired/) });
    expect(parse('maintenance', { on: true, sent_at: NOW - 59_000 })).toMatchObject({ ok: true });
    expect(parse('maintenance', { on: true, sent_at: '2026-01-01T09:00:00Z' })).toMatchObject({ ok: false, error: expect.stringMatching(/too old: sent 10800 s ago/) });
    expect(parse('maintenance', { on: true, sent_at: 'yesterday' })).toMatchObject({ ok: false, error: expect.stringMatching(/not an ISO time/) });
    expect(timeOf('2026-01-01T12:00:00Z')).toBe(NOW);
    expect(timeOf(true)).toBeUndefined();
  });

  it('never throws on arbitrary bytes', () => {
    for (let i = 0; i < 500; i++) {
      const bytes = Buffer.from(Array.from({ length: i % 40 }, (_, k) => (i * 31 + k * 17) % 256));
      expect(() => parseRequest('status', bytes, { retain: false }, NOW, 60_000)).not.toThrow();
    }
    expect(validateCommandPayload('status', {})).toEqual([]);
  });
});

describe('request de-duplication', () => {
  it('remembers pending and finished ids, forgetting the oldest beyond the bound', () => {
    const r = new RecentRequests(3);
    expect(r.lookup('a')).toBeUndefined();
    r.begin('a');
    expect(r.lookup('a')).toBe('pending');
    r.finish('a', { status: 'ok' });
    expect(r.lookup('a')).toEqual({ status: 'ok' });
    r.begin('b');
    r.begin('c');
    r.begin('d');
    expect(r.size).toBe(3);
    expect(r.lookup('a')).toBeUndefined();
    expect(r.lookup('d')).toBe('pending');
  });
});
