import { describe, expect, it } from 'vitest';
import { LineSplitter, parseRequest, parseResponse } from '../../../src/control';

describe('parseRequest', () => {
  it('accepts {id, cmd, args}', () => {
    expect(parseRequest('{"id":1,"cmd":"log","args":{"n":5}}')).toEqual({ ok: true, request: { id: 1, cmd: 'log', args: { n: 5 } } });
    expect(parseRequest('{"id":"a","cmd":"ping"}')).toEqual({ ok: true, request: { id: 'a', cmd: 'ping' } });
  });
  it.each([
    ['not json', null, /malformed JSON/],
    ['[1,2]', null, /JSON object/],
    ['{"cmd":"ping"}', null, /'id'/],
    ['{"id":{},"cmd":"ping"}', null, /'id'/],
    ['{"id":3}', 3, /'cmd'/],
    ['{"id":3,"cmd":""}', 3, /'cmd'/],
    ['{"id":"x","cmd":"log","args":[1]}', 'x', /'args'/],
  ])('refuses %s with an error value naming the problem', (line, id, msg) => {
    const r = parseRequest(line);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.id).toBe(id);
      expect(r.error).toMatch(msg);
    }
  });
});

describe('parseResponse', () => {
  it('reads ok and error envelopes', () => {
    expect(parseResponse('{"id":1,"status":"ok","data":{"a":1}}')).toEqual({ ok: true, response: { id: 1, status: 'ok', data: { a: 1 } } });
    expect(parseResponse('{"id":null,"status":"error","error":"x"}')).toEqual({ ok: true, response: { id: null, status: 'error', error: 'x' } });
    expect(parseResponse('{"id":1}').ok).toBe(false);
  });
});

describe('LineSplitter', () => {
  it('reassembles lines across chunks, including a split multi-byte character', () => {
    const s = new LineSplitter(100);
    const bytes = Buffer.from('{"a":"é"}\r\n{"b":2}\n');
    const cut = bytes.indexOf(0xc3) + 1; // inside the two-byte é
    expect(s.push(bytes.subarray(0, cut))).toEqual({ lines: [], overflow: false });
    expect(s.push(bytes.subarray(cut))).toEqual({ lines: ['{"a":"é"}', '{"b":2}'], overflow: false });
  });
  it('overflows on a line longer than the bound, keeping the lines before it, and stays overflowed', () => {
    const s = new LineSplitter(10);
    expect(s.push(Buffer.from('short\n0123456789A'))).toEqual({ lines: ['short'], overflow: true });
    expect(s.push(Buffer.from('\nok\n'))).toEqual({ lines: [], overflow: true });
  });
  it('counts partial data without a newline against the bound', () => {
    const s = new LineSplitter(10);
    expect(s.push(Buffer.from('01234')).overflow).toBe(false);
    expect(s.push(Buffer.from('567890')).overflow).toBe(true);
  });
  it('accepts a line of exactly the bound', () => {
    const s = new LineSplitter(10);
    expect(s.push(Buffer.from('0123456789\n'))).toEqual({ lines: ['0123456789'], overflow: false });
  });
});
