// Runs iproute2 `ip` without a shell, optionally in a named network namespace (`ip -n NS`).
// Never on a timer-critical path: callers await it, the event loop does not.
import { execFile } from 'node:child_process';

export interface IpContext {
  /** Named network namespace (as `ip netns add` makes it); unset = the process's own. */
  netns?: string;
  /** Path of the ip binary; default "ip" from PATH. */
  ipBinary?: string;
}

export type IpResult = { ok: true; stdout: string } | { ok: false; error: string; exitCode: number | null };

const TIMEOUT_MS = 5000;

export function runIp(args: readonly string[], ctx: IpContext = {}): Promise<IpResult> {
  const argv = ctx.netns ? ['-n', ctx.netns, ...args] : [...args];
  return new Promise((resolve) => {
    execFile(ctx.ipBinary ?? 'ip', argv, { timeout: TIMEOUT_MS, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve({ ok: true, stdout });
      const code = typeof err.code === 'number' ? err.code : null;
      const why = (stderr || err.message).trim();
      resolve({ ok: false, error: `ip ${argv.join(' ')}: ${why}`, exitCode: code });
    });
  });
}
