// The console on a real serial line: a socat pty pair, the daemon's serial transport on one end
// (@serialport/stream + bindings-cpp, exactly as on the appliance) and this test as the terminal
// on the other. Waits are on received text, never on sleeps.
import { autoDetect } from '@serialport/bindings-cpp';
import { SerialPortStream } from '@serialport/stream';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestOnce } from '../../../src/control';
import type { ActionResult } from '../../../src/console';
import { buildBundle, runCli } from '../../helpers/bundle';
import { makeTempDir, type TempDir } from '../../helpers/tmp';
import { waitFor } from '../../helpers/wait';
import { startConsoleDaemon, startPtyPair, type ConsoleDaemon, type PtyPair } from './fixture';

class Terminal {
  text = '';
  constructor(readonly port: SerialPortStream) {
    port.on('data', (d: Buffer) => (this.text += d.toString('latin1')));
  }

  static async open(path: string): Promise<Terminal> {
    const port = new SerialPortStream({ binding: autoDetect(), path, baudRate: 115200, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
    port.on('error', () => {});
    return new Terminal(port);
  }

  mark(): number {
    return this.text.length;
  }

  send(data: string | Buffer): void {
    this.port.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** The text received since `from` once it matches. */
  async waitFor(pattern: RegExp | string, from: number, timeoutMs = 20_000): Promise<string> {
    return waitFor(
      () => {
        const t = this.text.slice(from);
        return (typeof pattern === 'string' ? t.includes(pattern) : pattern.test(t)) ? t : undefined;
      },
      { timeoutMs, what: `${String(pattern)} on the terminal; got:\n${JSON.stringify(this.text.slice(from).slice(-2000))}` },
    );
  }

  /**
   * Waits until everything the shell wrote before now has arrived. The banner and first prompt are
   * written when the daemon opens its end, maybe before this end was opened (its open flushes the
   * line) or maybe after: whether, and how much of, it shows up here depends on the machine's
   * speed. A unique unknown command's complaint comes after all of it, in order.
   */
  async sync(): Promise<void> {
    const token = `sync${randomBytes(4).toString('hex')}`;
    const from = this.mark();
    this.send(`${token}\r`);
    await this.waitFor(`unknown command '${token}'; type 'help'\r\n${PROMPT}`, from);
  }

  close(): Promise<void> {
    return new Promise((resolve) => (this.port.isOpen ? this.port.close(() => resolve()) : resolve()));
  }
}

const PROMPT = 'twinvip box-a [no instances]> ';

let dir: TempDir;
let pty: PtyPair;
let d: ConsoleDaemon;
let term: Terminal;
const failovers: string[] = [];

beforeAll(async () => {
  buildBundle();
  dir = makeTempDir('tvcon-');
  pty = await startPtyPair(dir);
  d = await startConsoleDaemon(dir, pty.a, {
    password: 'pw-for-tests',
    wiring: {
      actions: {
        failover: async (instance, cause): Promise<ActionResult> => {
          failovers.push(`${instance ?? '*'} ${cause}`);
          return { ok: true, message: 'handed over' };
        },
      },
    },
  });
  await waitFor(() => d.console.serialConsole?.isOpen, { timeoutMs: 20_000, what: 'the console port to open' });
  term = await Terminal.open(pty.b);
  await term.sync();
});

afterAll(async () => {
  await term?.close();
  await d?.daemon.stop('test end');
  await pty?.stop();
  dir?.remove();
});

describe('serial console through a socat pty pair', () => {
  it('answers Enter with the prompt, and help with the command list, in CRLF', async () => {
    const from = term.mark();
    term.send('\r');
    expect(await term.waitFor(PROMPT, from)).toBe(`\r\n${PROMPT}`);
    const m = term.mark();
    term.send('help\r');
    const out = await term.waitFor(/reload .*\r\n(.*\r\n)*twinvip box-a/, m);
    expect(out.startsWith('help\r\n')).toBe(true);
    expect(out).toContain('maintenance on|off');
    expect(out.replace(/\r\n/g, '')).not.toContain('\n');
  });

  it('status shows the real daemon facts; parts not wired say not running', async () => {
    const from = term.mark();
    term.send('status\r');
    const out = await term.waitFor(/mqtt\s+not running\r\n/, from);
    expect(out).toMatch(new RegExp(`node box-a   twinvip \\S+   up \\S+.*   config ${d.daemon.configHash}`));
    expect(out).toContain('vrrp: no instances configured');
    expect(out).toContain('heartbeat: not running');
    for (const line of out.split('\r\n')) expect(line.length).toBeLessThanOrEqual(80);
  });

  it('stays up under binary garbage and answers afterwards; the daemon keeps serving', async () => {
    const from = term.mark();
    for (let i = 0; i < 16; i++) term.send(randomBytes(4096));
    term.send('\x03help\r');
    const out = await term.waitFor(/this list[\s\S]*twinvip box-a \[/, from, 30_000);
    expect(out).toMatch(/ignored \d+ non-printable byte\(s\)/);
    await waitFor(() => d.console.counters.noise_bytes > 10_000, { what: 'noise counted' });
    const ping = await requestOnce(d.daemon.control.socketPath!, 'ping');
    expect(ping.ok && ping.response.status).toBe('ok');
  });

  it('refuses a very long line once, and the next command works', async () => {
    const from = term.mark();
    term.send(`${'x'.repeat(3000)}\r`);
    const out = await term.waitFor(`line too long (over 256 characters): ignored up to the next Enter\r\n${PROMPT}`, from);
    expect(out.match(/line too long/g)).toHaveLength(1);
    const m = term.mark();
    term.send('vrrp\r');
    await term.waitFor(`vrrp: no instances configured\r\n${PROMPT}`, m);
  });

  it('a guarded action asks for the password (not echoed), then y/N, then runs', async () => {
    const from = term.mark();
    term.send('failover\r');
    await term.waitFor('password: ', from);
    term.send('pw-for-tests\r');
    await term.waitFor('failover: hand MASTER of every instance to the twin? (y/N) ', from);
    term.send('y\r');
    const out = await term.waitFor(`failover: done. handed over\r\n${PROMPT}`, from);
    expect(out).not.toContain('pw-for-tests');
    expect(failovers).toEqual(['* console (serial)']);
  });

  it('twinvip console (the local client) talks to the same shell over the control socket', async () => {
    const r = await runCli(['console', '-s', d.daemon.control.socketPath!], { input: 'status\nreload\ny\nnope\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('node box-a');
    expect(r.stdout).toContain(`reload: done. config unchanged (${d.daemon.configHash})`);
    expect(r.stdout).toContain("unknown command 'nope'; type 'help'");
    // No prompts in piped mode: only the answers.
    expect(r.stdout).not.toContain('twinvip box-a [');
  });

  it('reopens the port with back-off when it vanishes and comes back', async () => {
    const opens = d.console.serialCounters.port_opens;
    await term.close();
    await pty.stop();
    await waitFor(() => d.console.serialCounters.port_losses >= 1, { timeoutMs: 20_000, what: 'the port loss to be noticed' });
    pty = await startPtyPair(dir);
    await waitFor(() => d.console.serialCounters.port_opens > opens, { timeoutMs: 30_000, what: 'the port to reopen' });
    term = await Terminal.open(pty.b);
    const from = term.mark();
    term.send('\r');
    await term.waitFor(PROMPT, from);
    expect(d.console.serialCounters.port_losses).toBe(1);
    expect(d.console.serialCounters.port_opens).toBe(opens + 1);
  });
});

describe('serial console idle timeout', () => {
  let dir2: TempDir;
  let pty2: PtyPair;
  let d2: ConsoleDaemon;
  let term2: Terminal;

  beforeAll(async () => {
    dir2 = makeTempDir('tvidle-');
    pty2 = await startPtyPair(dir2);
    d2 = await startConsoleDaemon(dir2, pty2.a, { idleTimeoutS: 1 });
    await waitFor(() => d2.console.serialConsole?.isOpen, { timeoutMs: 20_000, what: 'the console port to open' });
    term2 = await Terminal.open(pty2.b);
  });

  afterAll(async () => {
    await term2?.close();
    await d2?.daemon.stop('test end');
    await pty2?.stop();
    dir2?.remove();
  });

  it('ends a silent session and says so; the next key starts again', async () => {
    const from = term2.mark();
    term2.send('\r');
    await term2.waitFor(PROMPT, from);
    await term2.waitFor('session ended (idle for 1 s)\r\n', from);
    expect(d2.console.serialCounters.idle_timeouts).toBe(1);
    const m = term2.mark();
    term2.send('vrrp\r');
    await term2.waitFor(`vrrp: no instances configured\r\n${PROMPT}`, m);
  });
});
