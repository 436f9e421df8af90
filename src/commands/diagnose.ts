import { requestOnce } from '../control';
import { EXIT } from '../daemon';
import { renderDiagnosis } from '../diagnose/diagnosis';
import type { DiagnosisSection } from '../diagnose/extension';
import { parseSocketArgs } from './socket-args';

/** Exit status of `twinvip diagnose` when it names at least one cause. */
export const EXIT_CAUSES_FOUND = 8;

const USAGE = `usage: twinvip diagnose [--json] [-s SOCKET | -c FILE]

Asks the running daemon for a split-brain diagnosis now: it gathers this box's evidence (VRRP
counters, NIC carrier and errors, nft rules, ARP conflicts, serial error rate) and the twin's,
asked over the serial link (so it works with the Ethernet path between the boxes cut), and names
each cause found with one line of evidence and one line of fix.
  --json              print the daemon's answer as JSON
  -s, --socket PATH   control socket (default: from the config, else /run/twinvip/control.sock)
  -c, --config FILE   read the control socket path from this configuration
Exit codes: 0 healthy (no cause found), ${EXIT_CAUSES_FOUND} one or more causes found, 1 config
unreadable, 2 usage, 3 no daemon answers, 5 the daemon answered with an error.
`;

export async function diagnoseCommand(args: string[]): Promise<number> {
  const parsed = await parseSocketArgs('diagnose', USAGE, args, ['json']);
  if (!parsed.ok) return parsed.exit;
  const r = await requestOnce(parsed.socket, 'diagnose', undefined, { timeoutMs: 15_000 });
  if (!r.ok) {
    process.stderr.write(`twinvip diagnose: ${r.message}\n`);
    return r.reason === 'unreachable' || r.reason === 'timeout' ? EXIT.NO_DAEMON : EXIT.DAEMON_ERROR;
  }
  if (r.response.status === 'error') {
    process.stderr.write(`twinvip diagnose: daemon error: ${r.response.error}\n`);
    return EXIT.DAEMON_ERROR;
  }
  const d = r.response.data as DiagnosisSection;
  if (parsed.flags.has('json')) process.stdout.write(`${JSON.stringify(d, null, 2)}\n`);
  else process.stdout.write(`${renderDiagnosis(d)}\n${d.twin ? `(twin ${d.twin} answered over serial)` : "(the twin's evidence is missing)"}\n`);
  return d.findings.length === 0 ? EXIT.OK : EXIT_CAUSES_FOUND;
}
