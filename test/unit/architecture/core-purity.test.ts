import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// DESIGN.md "functional core": src/vrrp and src/heartbeat do no I/O, read no clock, arm no timer
// and draw no randomness; time comes in as `now`, the frame MAC, the AH HMAC-MD5 and the boot id
// from the shell (src/ha/heartbeat/frame-crypto.ts, src/ha/vrrp/ah-crypto.ts). No exceptions.
const SRC = join(import.meta.dirname, '../../../src');

/** Imports of Node's built-ins (with or without `node:`) and of anything outside src/. */
const NODE_IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"](node:[^'"]+|assert|buffer|child_process|crypto|dgram|dns|events|fs|fs\/promises|http|https|net|os|path|perf_hooks|process|readline|stream|timers|tls|tty|url|util|worker_threads|zlib)['"]/;
const CLOCK_OR_TIMER = /\b(Date\.now|new Date\(\)|performance\.now|process\.hrtime|setTimeout|setInterval|setImmediate|queueMicrotask)\b/;
const RANDOMNESS = /\b(Math\.random|randomBytes|randomUUID|getRandomValues|randomInt)\b/;

describe.each(['vrrp', 'heartbeat'])('the %s core is sans-I/O', (folder) => {
  const dir = join(SRC, folder);
  const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

  it('has source files to check', () => {
    expect(files.length).toBeGreaterThan(5);
  });

  it.each(files)('%s imports no Node module, reads no clock, arms no timer, draws no randomness', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    expect(text).not.toMatch(NODE_IMPORT);
    expect(text).not.toMatch(CLOCK_OR_TIMER);
    expect(text).not.toMatch(RANDOMNESS);
  });

  it('the checks catch what they are for', () => {
    expect("import { createHmac } from 'node:crypto';").toMatch(NODE_IMPORT);
    expect("import { readFile } from 'fs/promises';").toMatch(NODE_IMPORT);
    expect('const t = performance.now();').toMatch(CLOCK_OR_TIMER);
    expect('randomBytes(8)').toMatch(RANDOMNESS);
    expect("import { parseIpv4 } from '../lib/ip';").not.toMatch(NODE_IMPORT);
  });
});
