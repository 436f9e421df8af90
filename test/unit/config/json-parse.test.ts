import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseJsonWithPositions } from '../../../src/config/json-parse';

describe('strict JSON parser', () => {
  it('parses what JSON.parse parses, to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v, null, 2);
        const r = parseJsonWithPositions(text);
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.value).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('never throws, whatever the text', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => { parseJsonWithPositions(s); }), { numRuns: 1000 });
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), fc.string({ maxLength: 3 }), (v, at, junk) => {
        const text = JSON.stringify(v);
        const pos = at % (text.length + 1);
        parseJsonWithPositions(text.slice(0, pos) + junk + text.slice(pos));
      }),
      { numRuns: 1000 },
    );
  });

  it('remembers the line and column of every value by JSON pointer', () => {
    const r = parseJsonWithPositions('{\n  "a": {\n    "b/c": [1,\n      true]\n  }\n}');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.positions.get('/a')).toEqual({ line: 2, column: 8 });
    expect(r.positions.get('/a/b~1c/1')).toEqual({ line: 4, column: 7 });
  });

  it('reports line and column of a syntax error', () => {
    expect(parseJsonWithPositions('{\n  "a": 1\n  "b": 2\n}')).toMatchObject({ ok: false, line: 3, column: 3, path: '/a' });
    expect(parseJsonWithPositions('{"a": tru}')).toMatchObject({ ok: false, line: 1, column: 7 });
    expect(parseJsonWithPositions('{"a": "x\ny"}')).toMatchObject({ ok: false, message: expect.stringContaining('control character') });
    expect(parseJsonWithPositions("{'a': 1}")).toMatchObject({ ok: false, message: expect.stringContaining('double quotes') });
    expect(parseJsonWithPositions('{"a": 01}')).toMatchObject({ ok: false, message: expect.stringContaining('leading zeros') });
    expect(parseJsonWithPositions('{"a": 1} x')).toMatchObject({ ok: false, message: expect.stringContaining('after the end') });
    expect(parseJsonWithPositions('{"a": "abc')).toMatchObject({ ok: false, message: 'unterminated string', column: 7 });
  });

  it('refuses duplicate keys instead of keeping the last one silently', () => {
    const r = parseJsonWithPositions('{"x": {"k": 1, "k": 2}}');
    expect(r).toMatchObject({ ok: false, path: '/x/k', message: expect.stringContaining('duplicate key "k"') });
  });

  it('keeps "__proto__" as an ordinary key', () => {
    const r = parseJsonWithPositions('{"__proto__": {"polluted": true}}');
    expect(r.ok && Object.keys(r.value as object)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses absurd nesting with an error value, not a stack overflow', () => {
    const r = parseJsonWithPositions('['.repeat(100000));
    expect(r).toMatchObject({ ok: false, message: expect.stringContaining('nested deeper') });
  });

  it('accepts a UTF-8 byte order mark', () => {
    expect(parseJsonWithPositions('\ufeff{"a": 1}')).toMatchObject({ ok: true, value: { a: 1 } });
  });
});
