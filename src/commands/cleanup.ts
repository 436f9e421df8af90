// `twinvip cleanup`: removes the configured VIPs from this box, for the service manager to run
// after ANY exit of the daemon (rootfs twinvip.service, ExecStopPost=). A daemon that crashed or
// was killed leaves its VIPs configured, as keepalived does; its twin takes them over within a
// few hundred ms, and without this clean-up the crashed box would keep answering ARP for them
// until its restart. A clean exit has removed them already: then this changes nothing.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
// Narrow imports on purpose (not the folders' index modules): this command runs after a crash
// while the box still answers for VIPs its twin has taken over, so it loads neither the config
// validator nor the daemon (bench/cleanup.mjs).
import { fsBoardCatalog } from '../config/board';
import { cleanupView } from '../config/cleanup-view';
import { requestOnce } from '../control/client';
import { DEFAULT_CONFIG_PATH, DEFAULT_CONTROL_SOCKET } from '../control/defaults';
import { EXIT } from '../daemon/exit-codes';
import { formatIssues } from '../lib/config-issues';
import { removeStaleVips, type Vip } from '../net/vip';

const USAGE = `usage: twinvip cleanup [-c FILE] [--force]

Removes every VIP the configuration gives its instances (vips and excluded_vips; not those of an
address owner, which are the box's own) from the interfaces, wherever they are configured. For
systemd's ExecStopPost= (rootfs twinvip.service): after a crash or SIGKILL the box stops
answering for addresses its twin has taken over.
Refuses while a daemon answers on the configured control socket (it owns the VIPs), unless --force.

  -c, --config FILE  the daemon's configuration (default ${DEFAULT_CONFIG_PATH})
  --force            remove them even though a daemon answers
Exit codes: 0 done (also when none was configured), 1 configuration unreadable or a VIP could not
be removed, 2 usage, 4 a daemon answers (nothing removed).
`;

export async function cleanupCommand(args: string[]): Promise<number> {
  let values: { config?: string; force?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      options: { config: { type: 'string', short: 'c' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`twinvip cleanup: ${(err as Error).message}\n${USAGE}`);
    return EXIT.USAGE;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return EXIT.OK;
  }
  const path = values.config ?? DEFAULT_CONFIG_PATH;
  const refuse = (text: string) => {
    process.stderr.write(`twinvip cleanup: configuration not usable, no VIP removed:\n${text}\n`);
    return EXIT.CONFIG;
  };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return refuse(`${path}: cannot read the configuration: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // The line and column, from the positional parser only on this (rare) path.
    const { parseJsonWithPositions } = await import('../config/json-parse');
    const p = parseJsonWithPositions(text);
    return refuse(formatIssues([p.ok ? { path: '', message: 'invalid JSON' } : { path: p.path, message: `invalid JSON: ${p.message}`, line: p.line, column: p.column }], path));
  }
  const view = cleanupView(data, fsBoardCatalog());
  if (!view.ok) return refuse(formatIssues(view.errors, path));
  if (!values.force) {
    const socket = view.socket ?? DEFAULT_CONTROL_SOCKET;
    const r = await requestOnce(socket, 'ping', undefined, { timeoutMs: 1000 });
    if (r.ok) {
      process.stderr.write(`twinvip cleanup: a daemon answers on ${socket} (it owns the VIPs): nothing removed (--force to remove them anyway)\n`);
      return EXIT.STARTUP;
    }
  }
  // An address owner's VIPs are the box's own addresses: never removed, whichever instance lists them.
  const owned = new Set(view.vips.filter((v) => v.owned).map((v) => v.address));
  const vips: Vip[] = view.vips.map((v) => ({ address: v.address, prefixLength: v.prefix, family: v.family === 'ipv6' ? 6 : 4, ifname: v.dev }));
  const { removed, errors } = await removeStaleVips(vips, (v) => owned.has(v.address));
  for (const v of removed) process.stdout.write(`twinvip cleanup: removed VIP ${v.address}/${v.prefixLength} from ${v.ifname}\n`);
  for (const e of errors) process.stderr.write(`twinvip cleanup: ${e}\n`);
  if (removed.length === 0 && errors.length === 0) process.stdout.write('twinvip cleanup: no configured VIP present on this box\n');
  return errors.length > 0 ? EXIT.CONFIG : EXIT.OK;
}
