import { requestOnce } from '../control';
import { EXIT, type DaemonStatus } from '../daemon';
import { parseSocketArgs } from './socket-args';

const USAGE = `usage: twinvip status [--json] [-s SOCKET | -c FILE]

Asks the running daemon over its control socket.
  --json              print the daemon's answer as JSON
  -s, --socket PATH   control socket (default: from the config, else /run/twinvip/control.sock)
  -c, --config FILE   read the control socket path from this configuration
Exit codes: 0 answered, 1 config unreadable, 2 usage, 3 no daemon answers (absent or silent
for 5 s), 5 the daemon answered with an error or broke the protocol.
`;

export async function statusCommand(args: string[]): Promise<number> {
  const parsed = await parseSocketArgs('status', USAGE, args, ['json']);
  if (!parsed.ok) return parsed.exit;
  const r = await requestOnce(parsed.socket, 'status', undefined, { timeoutMs: 5000 });
  if (!r.ok) {
    process.stderr.write(`twinvip status: ${r.message}\n`);
    // Accepting but never answering (hung) counts as no daemon answering too.
    return r.reason === 'unreachable' || r.reason === 'timeout' ? EXIT.NO_DAEMON : EXIT.DAEMON_ERROR;
  }
  if (r.response.status === 'error') {
    process.stderr.write(`twinvip status: daemon error: ${r.response.error}\n`);
    return EXIT.DAEMON_ERROR;
  }
  const data = r.response.data as DaemonStatus;
  process.stdout.write(parsed.flags.has('json') ? `${JSON.stringify(data, null, 2)}\n` : renderStatus(data));
  return EXIT.OK;
}

export function renderStatus(s: DaemonStatus): string {
  const rows: [string, string][] = [
    ['node', s.node],
    ['version', s.version],
    ['pid', String(s.pid)],
    ['uptime', formatDuration(s.uptime_s)],
    ['config', `${s.config.path} (hash ${s.config.hash}, ${s.config.reloads} reload(s), ${s.config.refused_reloads} refused)`],
    ['control', `${s.control.socket} (${s.control.clients} client(s))`],
    // A daemon from before the health field answers without it.
    ['health', s.health === undefined ? 'unknown' : s.health.state === 'ok' ? 'ok' : `DEGRADED: ${s.health.reasons.join('; ')}`],
  ];
  const features = Object.entries(s.features ?? {});
  for (const a of s.alarms ?? []) rows.push(['alarm', `${a.id} [${a.severity}]${a.instance ? ` ${a.instance}` : ''}: ${a.message}`]);
  if (features.length > 0) rows.push(['features', features.map(([name, f]) => `${name} ${f.state}${f.detail ? ` (${f.detail})` : ''}`).join(', ')]);
  const out = [table(rows.map(([k, v]) => [k, v]))];
  out.push('');
  if (s.instances.length === 0) out.push('instances: none running');
  else out.push(table([['INSTANCE', 'STATE', 'PRIORITY'], ...s.instances.map((i) => [i.name, i.state, i.priority === undefined ? '-' : String(i.priority)])]));
  const counters: string[][] = [];
  for (const [group, values] of Object.entries(s.counters)) {
    for (const [name, v] of Object.entries(values)) if (v !== 0) counters.push([`${group}.${name}`, String(v)]);
  }
  out.push('');
  out.push(counters.length === 0 ? 'counters: all zero' : `counters (non-zero):\n${indent(table(counters))}`);
  return `${out.join('\n')}\n`;
}

function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ')).join('\n');
}

function indent(s: string): string {
  return s.split('\n').map((l) => `  ${l}`).join('\n');
}

function formatDuration(totalS: number): string {
  const d = Math.floor(totalS / 86400);
  const h = Math.floor((totalS % 86400) / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const sec = totalS % 60;
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m ${sec}s` : m > 0 ? `${m}m ${sec}s` : `${sec}s`;
}
