// `twinvip pair`: first-boot pairing of the twins over the serial cable (the daemon's `pair`
// control command; protocol in src/heartbeat/pairing.ts). On box A `twinvip pair` shows a code
// and waits; on box B `twinvip pair --confirm CODE` checks it against its own and, on a match,
// both boxes write the same heartbeat key.
import { parseArgs } from 'node:util';
import { chooseSocket, requestOnce } from '../control';
import { EXIT } from '../daemon';

const USAGE = `usage: twinvip pair [--no-wait] [-s SOCKET | -c FILE]          on box A: start, show the code
       twinvip pair --confirm CODE [-s SOCKET | -c FILE]      on box B: the code box A shows
       twinvip pair --status [--json] | --cancel | --unpair

Pairs the twins over the serial heartbeat cable: an X25519 exchange authenticated by the
technician, who types the 6-digit code box A shows on box B. Both boxes then write the same
heartbeat key (heartbeat.serial.key_file, mode 0600) and start the authenticated heartbeat.
Until then each box runs plain VRRP. A code mismatch means the cable may be tampered with:
no key is written; check the cable and pair again.
  --confirm CODE   on box B: the code box A shows (spaces allowed)
  --no-wait        on box A: print the code and return (default: wait until B confirms)
  --status         paired or not, the pairing in progress (--json: as JSON)
  --cancel         stop the pairing in progress (the twin is told)
  --unpair         remove this box's key: plain VRRP until paired again (no restart)
Exit codes: 0 done, 1 pairing failed or refused, 2 usage, 3 no daemon answers.
`;

export async function pairCommand(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        confirm: { type: 'string' },
        status: { type: 'boolean' },
        cancel: { type: 'boolean' },
        unpair: { type: 'boolean' },
        'no-wait': { type: 'boolean' },
        json: { type: 'boolean' },
        socket: { type: 'string', short: 's' },
        config: { type: 'string', short: 'c' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`twinvip pair: ${(err as Error).message}\n${USAGE}`);
    return EXIT.USAGE;
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return EXIT.OK;
  }
  const modes = ['confirm', 'status', 'cancel', 'unpair'].filter((m) => values[m] !== undefined);
  if (modes.length > 1) {
    process.stderr.write(`twinvip pair: give one of --${modes.join(', --')}\n${USAGE}`);
    return EXIT.USAGE;
  }
  const choice = await chooseSocket(values.socket as string | undefined, values.config as string | undefined);
  if (!choice.ok) {
    process.stderr.write(`twinvip pair: ${choice.message}\n`);
    return EXIT.CONFIG;
  }
  const socket = choice.socket;
  const ask = async (a: Record<string, unknown>, timeoutMs = 5000): Promise<{ ok: true; data: Record<string, unknown> } | { ok: false; exit: number }> => {
    const r = await requestOnce(socket, 'pair', a, { timeoutMs });
    if (!r.ok) {
      process.stderr.write(`twinvip pair: ${r.message}\n`);
      return { ok: false, exit: r.reason === 'unreachable' || r.reason === 'timeout' ? EXIT.NO_DAEMON : EXIT.DAEMON_ERROR };
    }
    if (r.response.status === 'error') {
      process.stderr.write(`twinvip pair: ${r.response.error}\n`);
      return { ok: false, exit: EXIT.CONFIG };
    }
    return { ok: true, data: r.response.data as Record<string, unknown> };
  };

  if (values.status) {
    const r = await ask({ action: 'status' });
    if (!r.ok) return r.exit;
    process.stdout.write(values.json ? `${JSON.stringify(r.data, null, 2)}\n` : `${describePairing(r.data)}\n`);
    return EXIT.OK;
  }
  if (values.cancel || values.unpair) {
    const r = await ask({ action: values.cancel ? 'cancel' : 'unpair' });
    if (!r.ok) return r.exit;
    process.stdout.write(`${typeof r.data.message === 'string' ? r.data.message : describePairing(r.data)}\n`);
    return EXIT.OK;
  }
  if (typeof values.confirm === 'string') {
    const r = await ask({ action: 'confirm', code: values.confirm }, 15_000);
    if (!r.ok) return r.exit;
    process.stdout.write(`${String(r.data.message)}\n`);
    return EXIT.OK;
  }
  const r = await ask({ action: 'start', timeout_ms: 10_000 }, 20_000);
  if (!r.ok) return r.exit;
  process.stdout.write(`${String(r.data.message)}\n`);
  if (values['no-wait']) return EXIT.OK;
  process.stdout.write('waiting for the twin to confirm (Ctrl-C leaves the pairing running; twinvip pair --status)\n');
  for (;;) {
    await new Promise((res) => setTimeout(res, 500));
    const s = await ask({ action: 'status' });
    if (!s.ok) return s.exit;
    if (s.data.paired === true || s.data.phase === 'paired') {
      process.stdout.write(`paired: heartbeat key written${typeof s.data.key_file === 'string' ? ` to ${s.data.key_file}` : ''}\n`);
      return EXIT.OK;
    }
    if (s.data.phase === 'failed') {
      process.stderr.write(`twinvip pair: failed: ${String(s.data.error)}\n`);
      return EXIT.CONFIG;
    }
  }
}

/** `twinvip pair --status` and the console's `pair` as text. */
export function describePairing(d: Record<string, unknown>): string {
  if (typeof d.message === 'string' && d.phase !== undefined && d.phase !== 'idle') return `${d.message}\n${describePairing({ ...d, message: undefined })}`;
  if (d.paired === true) return `paired${typeof d.key_file === 'string' ? ` (key ${d.key_file})` : d.inline_key ? ' (inline key in the config)' : ''}, serial heartbeat ${d.serial_ok ? 'ok' : 'not hearing the twin'}`;
  const lines = [`not paired: plain VRRP until paired (key file ${String(d.key_file)})`, `pairing: ${String(d.phase)}${d.role ? ` as ${String(d.role)}` : ''}${d.peer ? ` with ${String(d.peer)}` : ''}`];
  if (typeof d.code === 'string') lines.push(`code: ${d.code.slice(0, 3)} ${d.code.slice(3)}`);
  if (typeof d.error === 'string') lines.push(`last error: ${d.error}`);
  lines.push(`serial ${String(d.device)}: ${d.port_open ? 'open' : 'closed'}`);
  return lines.join('\n');
}
