// The optional fence hook, run before a takeover when both heartbeat channels lost the peer:
// through the shared script policy (src/exec), in its own process group, bounded by the
// configured timeout; exit 0 = the peer is fenced.

import { lastLine, runProgram, type ScriptPolicy } from '../../exec';

export interface FenceResult {
  ok: boolean;
  detail: string;
  durationMs: number;
}

export interface FenceRun {
  argv: readonly string[];
  /** heartbeat.fence.user; default the policy's script_user. */
  user?: string;
  timeoutMs: number;
  env?: Record<string, string>;
  policy: ScriptPolicy;
  /** Told when an unsafe fence command runs because enable_script_security is off. */
  onInsecure?: (why: string) => void;
}

export async function runFence(run: FenceRun): Promise<FenceResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const prepared = await run.policy.prepare(run.argv, run.user);
  if (!prepared.ok) return { ok: false, detail: `not run: ${prepared.reason}`, durationMs: elapsed() };
  if (prepared.program.insecure) run.onInsecure?.(`fence runs although unsafe (enable_script_security is off): ${prepared.program.insecure}`);
  const r = await runProgram(prepared.program, {
    timeoutMs: run.timeoutMs,
    killGraceMs: 0,
    // The takeover waits for this answer; nothing the fence started may outlive it.
    killGroupOnExit: true,
    captureStdout: true,
    env: { ...process.env, ...run.env },
  }).done;
  const said = (s: string) => (lastLine(s) ? `: ${lastLine(s)}` : '');
  if (r.outcome === 'exited' && r.code === 0) return { ok: true, detail: `exit 0${said(r.stdout)}`, durationMs: elapsed() };
  const why =
    r.outcome === 'timeout' || r.outcome === 'aborted' ? `timed out after ${run.timeoutMs} ms (process group killed)` :
    r.outcome === 'spawn-failed' ? (r.error ?? 'cannot start') :
    r.code !== null ? `exit ${r.code}` : `signal ${String(r.signal)}`;
  return { ok: false, detail: `${why}${said(r.stderr) || said(r.stdout)}`, durationMs: elapsed() };
}
