import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox } from '../../../src/mqtt/outbox';
import { makeTempDir, type TempDir } from '../../helpers/tmp';

let dir: TempDir | undefined;
afterEach(() => dir?.remove());

const lines = (path: string) => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number });

describe('outbox', () => {
  it('keeps events in order on disk and in memory, and survives a reopen', async () => {
    dir = makeTempDir('tvob-');
    const path = dir.file('sub/outbox.jsonl');
    const box = await Outbox.open({ path, maxCount: 10, maxBytes: 1 << 20 });
    for (let seq = 1; seq <= 4; seq++) box.append({ seq });
    await box.flush();
    expect(lines(path).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(box.peek()).toEqual({ seq: 1 });
    box.shift();
    expect(box.peek()).toEqual({ seq: 2 });
    const again = await Outbox.open({ path, maxCount: 10, maxBytes: 1 << 20 });
    expect(again.all()).toEqual([1, 2, 3, 4].map((seq) => ({ seq })));
  });

  it('drops the oldest beyond the count bound and counts them', async () => {
    dir = makeTempDir('tvob-');
    const box = await Outbox.open({ path: dir.file('o.jsonl'), maxCount: 3, maxBytes: 1 << 20 });
    for (let seq = 1; seq <= 7; seq++) box.append({ seq });
    expect(box.all()).toEqual([5, 6, 7].map((seq) => ({ seq })));
    expect(box.counters.dropped).toBe(4);
    await box.flush();
    const reopened = await Outbox.open({ path: dir.file('o.jsonl'), maxCount: 3, maxBytes: 1 << 20 });
    expect(reopened.all()).toEqual([5, 6, 7].map((seq) => ({ seq })));
  });

  it('drops the oldest beyond the byte bound', async () => {
    dir = makeTempDir('tvob-');
    const box = await Outbox.open({ path: dir.file('o.jsonl'), maxCount: 1000, maxBytes: 1024 });
    for (let seq = 1; seq <= 50; seq++) box.append({ seq, pad: 'x'.repeat(90) });
    expect(box.sizeBytes).toBeLessThanOrEqual(1024);
    expect(box.size).toBeGreaterThan(0);
    expect((box.all().at(-1) as { seq: number }).seq).toBe(50);
    expect(box.counters.dropped).toBe(50 - box.size);
  });

  it('compacts the journal so the file stays bounded during a long outage', async () => {
    dir = makeTempDir('tvob-');
    const path = dir.file('o.jsonl');
    const box = await Outbox.open({ path, maxCount: 5, maxBytes: 1 << 20 });
    for (let seq = 1; seq <= 200; seq++) box.append({ seq });
    await box.flush();
    const onDisk = lines(path);
    expect(onDisk.length).toBeLessThanOrEqual(2 * 5 + 17);
    expect(onDisk.slice(-5).map((e) => e.seq)).toEqual([196, 197, 198, 199, 200]);
  });

  it('empties the file once everything is delivered', async () => {
    dir = makeTempDir('tvob-');
    const path = dir.file('o.jsonl');
    const box = await Outbox.open({ path, maxCount: 10, maxBytes: 1 << 20 });
    box.append({ seq: 1 });
    box.append({ seq: 2 });
    box.shift();
    box.shift();
    await box.flush();
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(box.counters.delivered).toBe(2);
  });

  it('skips a torn line left by a power cut', async () => {
    dir = makeTempDir('tvob-');
    const path = dir.file('o.jsonl');
    writeFileSync(path, '{"seq":1}\n{"seq":2}\n{"se');
    const box = await Outbox.open({ path, maxCount: 10, maxBytes: 1 << 20 });
    expect(box.all()).toEqual([{ seq: 1 }, { seq: 2 }]);
    expect(box.counters.corrupt_lines).toBe(1);
    // open() queues the repair; wait for it (the temp dir is removed after the test) and check it.
    await box.flush();
    expect(readFileSync(path, 'utf8')).toBe('{"seq":1}\n{"seq":2}\n');
  });

  it('a torn last line does not swallow the next event: the journal is repaired before the next append', async () => {
    dir = makeTempDir('tvob-');
    const path = dir.file('o.jsonl');
    // A power cut in the middle of an append leaves a fragment without its newline.
    writeFileSync(path, '{"seq":1}\n{"se');
    const box = await Outbox.open({ path, maxCount: 10, maxBytes: 1 << 20 });
    box.append({ seq: 2 });
    await box.flush();
    expect(readFileSync(path, 'utf8')).toBe('{"seq":1}\n{"seq":2}\n');
    const reopened = await Outbox.open({ path, maxCount: 10, maxBytes: 1 << 20 });
    expect(reopened.all()).toEqual([{ seq: 1 }, { seq: 2 }]);
    expect(reopened.counters.corrupt_lines).toBe(0);
  });

  it('a damaged line in the middle is dropped and counted; a fragment that parses as a bare value is not an event', async () => {
    dir = makeTempDir('tvob-');
    const path = dir.file('o.jsonl');
    writeFileSync(path, '{"seq":1}\n12\n{"seq":2,"x":\n{"seq":3}\n');
    const box = await Outbox.open({ path, maxCount: 10, maxBytes: 1 << 20 });
    expect(box.all()).toEqual([{ seq: 1 }, { seq: 3 }]);
    expect(box.counters.corrupt_lines).toBe(2);
    box.append({ seq: 4 });
    await box.flush();
    expect(lines(path).map((e) => e.seq)).toEqual([1, 3, 4]);
  });

  it('rewrites through a synced temporary file renamed over the journal, never in place', async () => {
    dir = makeTempDir('tvob-');
    const path = dir.file('o.jsonl');
    const box = await Outbox.open({ path, maxCount: 2, maxBytes: 1 << 20 });
    box.append({ seq: 1 });
    await box.flush();
    const before = statSync(path).ino;
    // Past 2 x maxCount + 16 lines the journal is compacted: a rewrite.
    for (let seq = 2; seq <= 21; seq++) box.append({ seq });
    await box.flush();
    expect(statSync(path).ino).not.toBe(before);
    expect(existsSync(`${path}.tmp`)).toBe(false);
    expect(lines(path).slice(-2).map((e) => e.seq)).toEqual([20, 21]);
  });

  it('a rewrite that cannot be written leaves the old journal whole (and counts the disk error)', async () => {
    dir = makeTempDir('tvob-');
    const path = dir.file('o.jsonl');
    const box = await Outbox.open({ path, maxCount: 10, maxBytes: 1 << 20 });
    box.append({ seq: 1 });
    box.append({ seq: 2 });
    await box.flush();
    // The temporary file cannot be created: an in-place rewrite would have truncated the journal first.
    mkdirSync(`${path}.tmp`);
    box.shift();
    box.shift();
    await box.flush();
    expect(box.counters.disk_errors).toBe(1);
    expect(lines(path).map((e) => e.seq)).toEqual([1, 2]);
  });

  it('keeps working from memory when the disk refuses', async () => {
    dir = makeTempDir('tvob-');
    const errors: string[] = [];
    const box = await Outbox.open({ path: dir.path, maxCount: 10, maxBytes: 1 << 20, onError: (what) => errors.push(what) });
    box.append({ seq: 1 });
    await box.flush();
    expect(box.all()).toEqual([{ seq: 1 }]);
    expect(box.counters.disk_errors).toBeGreaterThan(0);
    expect(errors.length).toBeGreaterThan(0);
  });
});
