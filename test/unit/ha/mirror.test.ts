// The HA path's state mirror in shared memory (src/ha/worker/mirror.ts): what the HA thread writes
// the main thread reads, once per write; a fresh copy is asked for without a message; a write
// under way is never read half-done; a state too large for the buffer is refused, not cut.
import { describe, expect, it } from 'vitest';
import { MirrorReader, MirrorWriter, mirrorBuffer } from '../../../src/ha/worker/mirror';

describe('HA state mirror in shared memory', () => {
  it('hands each written copy to the reader once, with its write time', () => {
    const sab = mirrorBuffer(4096);
    const w = new MirrorWriter(sab);
    const r = new MirrorReader<{ n: number; name: string }>(sab);
    expect(r.take()).toBeUndefined(); // nothing written yet
    const before = MirrorReader.now();
    expect(w.write({ n: 1, name: 'VI_1 ü' })).toBe(true);
    expect(r.take()).toEqual({ n: 1, name: 'VI_1 ü' });
    expect(r.writtenAtMs).toBeGreaterThanOrEqual(before);
    expect(r.take()).toBeUndefined(); // taken already
    w.write({ n: 2, name: 'x' });
    w.write({ n: 3, name: 'y' });
    expect(r.take()).toEqual({ n: 3, name: 'y' }); // the newest, not a queue
    r.reread();
    expect(r.take()).toEqual({ n: 3, name: 'y' });
  });

  it('a request for a fresh copy is seen by the writer until it writes', () => {
    const sab = mirrorBuffer(4096);
    const w = new MirrorWriter(sab);
    const r = new MirrorReader(sab);
    expect(w.wanted()).toBe(false);
    r.want();
    r.want();
    expect(w.wanted()).toBe(true);
    w.write({});
    expect(w.wanted()).toBe(false);
  });

  it('never reads a write under way (odd sequence) and refuses a state that does not fit', () => {
    const sab = mirrorBuffer(64);
    const w = new MirrorWriter(sab);
    const r = new MirrorReader(sab);
    expect(w.write({ pad: 'x'.repeat(100) })).toBe(false);
    expect(r.take()).toBeUndefined();
    expect(w.write({ ok: 1 })).toBe(true);
    const seq = new Int32Array(sab, 0, 1);
    Atomics.add(seq, 0, 1); // a writer stopped between its two increments
    expect(r.take()).toBeUndefined();
    Atomics.add(seq, 0, 1);
    expect(r.take()).toEqual({ ok: 1 });
  });
});
