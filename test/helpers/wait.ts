import { relative } from 'node:path';
import { expect } from 'vitest';
import { patience } from './patience';

export interface WaitOptions {
  /** Give up after this long (times patience(), see patience.ts); default 10 s. */
  timeoutMs?: number;
  /** Poll period for conditions without an event; default 25 ms. */
  intervalMs?: number;
  /** Named in the timeout error so a failure says what never happened; a function is asked at the failure (e.g. a log so far). */
  what?: string | (() => string);
}

/** The description of a wait, asked for only when it failed. */
export function describeWait(what: string | (() => string) | undefined, fallback: string): string {
  return typeof what === 'function' ? what() : (what ?? fallback);
}

/**
 * Where a test's time goes: with TWINVIP_TEST_WAITS=<ms> set, every wait that took at least that
 * long prints `wait <ms> ms <file> > <test>: <what>` (the first line of `what`, asked only then),
 * so a slow file's time can be split into what it waited for (test/README.md, "Where the time
 * goes"). Costs nothing when unset.
 */
export function reportWait(startedAt: number, what: string | (() => string) | undefined): void {
  const min = Number(process.env.TWINVIP_TEST_WAITS ?? '');
  if (!min) return;
  const ms = Date.now() - startedAt;
  if (ms < min) return;
  let name = 'condition';
  try {
    name = describeWait(what, 'condition').trim().split('\n')[0]!.slice(0, 160);
  } catch {
    /* a description that throws names nothing */
  }
  const { testPath, currentTestName } = expect.getState();
  const where = `${testPath ? relative(process.cwd(), testPath) : '?'} > ${currentTestName ?? '(a hook)'}`;
  process.stdout.write(`wait ${ms} ms ${where}: ${name}\n`);
}

/**
 * Polls `condition` until it returns a value other than undefined/false, and returns that value.
 * For observable conditions that have no event (a file disappearing, a process exiting).
 */
export async function waitFor<T>(condition: () => T | undefined | false | Promise<T | undefined | false>, opts: WaitOptions = {}): Promise<T> {
  const timeoutMs = patience(opts.timeoutMs ?? 10_000);
  const intervalMs = opts.intervalMs ?? 25;
  const started = Date.now();
  const deadline = started + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await condition();
      if (v !== undefined && v !== false) {
        reportWait(started, opts.what);
        return v;
      }
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const extra = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${describeWait(opts.what, 'condition')}${extra}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Rejects with a clear message if `promise` has not settled within `timeoutMs` (times patience()). */
export function withTimeout<T>(promise: Promise<T>, writtenTimeoutMs: number, what: string): Promise<T> {
  const timeoutMs = patience(writtenTimeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
