import { spawn, type ChildProcess } from 'node:child_process';
import type { PreparedProgram } from './script-policy';

export interface RunOptions {
  /** Milliseconds before the program's process group is signalled; none when the caller aborts through `signal`. */
  timeoutMs?: number;
  /**
   * After the timeout: 0 = SIGKILL to the group at once (checks, fence); else SIGTERM first and
   * SIGKILL this many ms later (notify scripts get the chance to clean up).
   */
  killGraceMs: number;
  /**
   * Also SIGKILL what is left of the group once the program itself has exited: a check or a
   * fence is one run, and anything it left behind would pile up run after run.
   */
  killGroupOnExit: boolean;
  /** Aborting ends the run at once, like a timeout (the CheckRunner's own timeout). */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Keep the last bytes of stdout and stderr (default 4096 each); stdout is not read otherwise. */
  captureStdout?: boolean;
  captureBytes?: number;
}

export interface RunResult {
  /** exited: on its own (see code/signal); timeout/aborted: killed by us; spawn-failed: never ran. */
  outcome: 'exited' | 'timeout' | 'aborted' | 'spawn-failed';
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  stdout: string;
  stderr: string;
  error?: string;
}

export interface RunningProgram {
  pid: number | undefined;
  done: Promise<RunResult>;
  /** Signals the whole process group. */
  kill(signal: NodeJS.Signals): void;
}

/**
 * Starts a prepared program without a shell, in a session and process group of its own (spawn
 * `detached` is setsid(), keepalived setpgid()s its scripts too), as the prepared user. A
 * timeout or an abort signals the whole group, so a child that forked a grandchild does not
 * leave it behind, reparented to PID 1. A grandchild that makes its own session (setsid, a
 * daemon) escapes any process-group kill; only a cgroup would hold it.
 */
export function runProgram(program: PreparedProgram, opts: RunOptions): RunningProgram {
  const started = performance.now();
  const limit = opts.captureBytes ?? 4096;
  let child: ChildProcess;
  try {
    child = spawn(program.file, program.args, {
      argv0: program.argv0,
      detached: true,
      shell: false,
      stdio: ['ignore', opts.captureStdout ? 'pipe' : 'ignore', 'pipe'],
      env: opts.env ?? process.env,
      ...(program.uid !== undefined ? { uid: program.uid, gid: program.gid ?? program.uid } : {}),
    });
  } catch (err) {
    const error = (err as Error).message;
    return { pid: undefined, kill: () => {}, done: Promise.resolve({ outcome: 'spawn-failed', code: null, signal: null, ms: 0, stdout: '', stderr: '', error }) };
  }
  const pid = child.pid;
  const killGroup = (signal: NodeJS.Signals) => {
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone
    }
  };
  let stdout = '';
  let stderr = '';
  const keep = (acc: string, d: string) => (acc + d).slice(-limit);
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => (stdout = keep(stdout, d)));
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => (stderr = keep(stderr, d)));

  const done = new Promise<RunResult>((resolve) => {
    let settled = false;
    let ended: 'timeout' | 'aborted' | undefined;
    let killer: NodeJS.Timeout | undefined;
    const finish = (r: Omit<RunResult, 'ms' | 'stdout' | 'stderr'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ ...r, ms: Math.round(performance.now() - started), stdout, stderr });
    };
    const end = (why: 'timeout' | 'aborted') => {
      if (ended || settled) return;
      ended = why;
      if (opts.killGraceMs > 0) {
        killGroup('SIGTERM');
        // The SIGKILL goes out even after the leader is gone: children that ignored SIGTERM live on.
        killer = setTimeout(() => killGroup('SIGKILL'), opts.killGraceMs);
        killer.unref();
      } else {
        killGroup('SIGKILL');
      }
      // An aborted check must not wait for its program: it is dead or dying, and its result is decided.
      if (why === 'aborted') finish({ outcome: 'aborted', code: null, signal: null });
    };
    const onAbort = () => end('aborted');
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => end('timeout'), opts.timeoutMs);
    timer?.unref();
    if (opts.signal?.aborted) queueMicrotask(onAbort);
    else opts.signal?.addEventListener('abort', onAbort, { once: true });

    // 'exit', not 'close': a grandchild left behind may hold the pipes open.
    child.on('exit', (code, signal) => {
      if (opts.killGroupOnExit) killGroup('SIGKILL');
      // Let the pipes deliver what the program wrote just before it exited, then let go of them.
      setImmediate(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish(ended ? { outcome: ended, code, signal } : { outcome: 'exited', code, signal });
      });
    });
    child.on('error', (err) => {
      child.stdout?.destroy();
      child.stderr?.destroy();
      finish({ outcome: 'spawn-failed', code: null, signal: null, error: err.message });
    });
  });
  return { pid, done, kill: killGroup };
}

/** The last non-empty line of a program's output, cut to a log line's length. */
export function lastLine(s: string): string {
  return s.trim().split('\n').pop()?.trim().slice(0, 200) ?? '';
}
