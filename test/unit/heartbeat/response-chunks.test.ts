import { describe, expect, it } from 'vitest';
import { MAX_RESPONSE_BODY, RESPONSE_CHUNK } from '../../../src/heartbeat/frame';
import { splitResponse } from '../../../src/heartbeat/response-chunks';

describe('splitResponse', () => {
  it('splits on character boundaries within the chunk size and rejoins exactly', () => {
    const body = JSON.stringify({ text: 'ü€😀'.repeat(400) });
    const parts = splitResponse(body);
    expect(parts.length).toBeGreaterThan(1);
    for (const p of parts) expect(Buffer.byteLength(p, 'utf8')).toBeLessThanOrEqual(RESPONSE_CHUNK);
    expect(parts.join('')).toBe(body);
  });

  it('replaces an oversized body by an explicit error instead of cutting it', () => {
    const parts = splitResponse('x'.repeat(MAX_RESPONSE_BODY + 1));
    expect(JSON.parse(parts.join(''))).toEqual({ error: 'response-too-large', bytes: MAX_RESPONSE_BODY + 1, limit: MAX_RESPONSE_BODY });
  });

  it('keeps an empty body as one empty part', () => {
    expect(splitResponse('')).toEqual(['']);
  });
});
