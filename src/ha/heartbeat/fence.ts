// The optional fence hook, run before a takeover when both heartbeat channels lost the peer:
// execFile without a shell, bounded by the configured timeout; exit 0 = the peer is fenced.

import { execFile } from 'node:child_process';

export interface FenceResult {
  ok: boolean;
  detail: string;
  durationMs: number;
}

export function runFence(argv: readonly string[], timeoutMs: number, env: Record<string, string> = {}): Promise<FenceResult> {
  const started = performance.now();
  const [cmd, ...args] = argv;
  if (!cmd) return Promise.resolve({ ok: false, detail: 'empty fence command', durationMs: 0 });
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        const durationMs = Math.round(performance.now() - started);
        if (!err) {
          resolve({ ok: true, detail: `exit 0${lastLine(stdout)}`, durationMs });
          return;
        }
        const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string; signal?: string };
        const why = e.killed ? `timed out after ${timeoutMs} ms` : typeof e.code === 'number' ? `exit ${e.code}` : e.code ? `${e.code}` : e.signal ? `signal ${e.signal}` : e.message;
        resolve({ ok: false, detail: `${why}${lastLine(stderr) || lastLine(stdout)}`, durationMs });
      },
    );
  });
}

function lastLine(s: string | Buffer): string {
  const line = String(s).trim().split('\n').pop()?.trim() ?? '';
  return line ? `: ${line.slice(0, 200)}` : '';
}
