// Shared set-up of the console integration tests: a socat pty pair (the "serial cable") and an
// in-process daemon running the console feature on one end. Only processes started here are
// ever signalled, by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseConfigText, type TwinvipConfig } from '../../../src/config';
import { ConsoleExtension, type ConsoleWiring } from '../../../src/console';
import { Daemon } from '../../../src/daemon';
import { Logger, memorySink } from '../../../src/log';
import type { TempDir } from '../../helpers/tmp';
import { waitFor } from '../../helpers/wait';

export interface PtyPair {
  a: string;
  b: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** socat pty,raw,echo=0 <-> pty,raw,echo=0, links DIR/<prefix>a and DIR/<prefix>b. */
export async function startPtyPair(dir: TempDir, prefix = ''): Promise<PtyPair> {
  const a = dir.file(`${prefix}a`);
  const b = dir.file(`${prefix}b`);
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  await waitFor(() => stderr.includes('starting data transfer loop') && existsSync(a) && existsSync(b), { timeoutMs: 20_000, what: `socat pty pair (${stderr})` });
  return {
    a,
    b,
    proc,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        await exited;
      }
    },
  };
}

export interface ConsoleDaemon {
  daemon: Daemon;
  console: ConsoleExtension;
  sink: ReturnType<typeof memorySink>;
  config: TwinvipConfig;
}

/** A real Daemon (control socket in the temp dir) with the console on `device` (none: no serial console). */
export async function startConsoleDaemon(dir: TempDir, device: string | undefined, opts: { password?: string; wiring?: ConsoleWiring; idleTimeoutS?: number } = {}): Promise<ConsoleDaemon> {
  const r = parseConfigText(
    JSON.stringify({
      node: { name: 'box-a', state_dir: dir.path },
      control: { socket: dir.file('ctl.sock') },
      logging: { level: 'info', format: 'text' },
      instances: {},
      // The schema wants a /dev path; the pty link in the temp dir is set below.
      console: { enabled: true, device: '/dev/ttyS0', baud: 115200, idle_timeout: opts.idleTimeoutS ?? 600, ...(opts.password ? { password: opts.password } : {}) },
    }),
  );
  if (!r.ok) throw new Error(`test config refused: ${JSON.stringify(r.errors)}`);
  const config = r.config;
  if (device === undefined) config.console.enabled = false;
  else config.console.device = device;
  const sink = memorySink();
  const logger = new Logger({ sink, level: 'info' });
  const ext = new ConsoleExtension(opts.wiring ?? {});
  const daemon = new Daemon({
    configPath: dir.file('twinvip.json'),
    config,
    configHash: r.hash,
    logger,
    extensions: [ext],
    // Reloads re-apply the same config: the device path is not a /dev path the loader accepts.
    loadConfig: async () => ({ ok: true, config, hash: r.hash, warnings: [] }),
  });
  const started = await daemon.start();
  if (!started.ok) throw new Error(`daemon did not start: ${started.error}`);
  return { daemon, console: ext, sink, config };
}
