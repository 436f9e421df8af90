// `twinvip cleanup`: removes the configured VIPs from this box, for the service manager to run
// after ANY exit of the daemon (rootfs twinvip.service, ExecStopPost=). A daemon that crashed or
// was killed leaves its VIPs configured, as keepalived does; its twin takes them over within a
// few hundred ms, and without this clean-up the crashed box would keep answering ARP for them
// until its restart. A clean exit has removed them already: then this changes nothing.
import { parseArgs } from 'node:util';
import { loadConfigFile, formatIssues } from '../config/index';
import { requestOnce } from '../control';
import { EXIT } from '../daemon';
import { removeStaleVips } from '../net';
import { planInstance } from '../ha/vrrp/instance-plan';
import { toNetVip } from '../ha/vrrp/net-io';
import { DEFAULT_CONFIG_PATH } from './check';

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
  const loaded = await loadConfigFile(path);
  if (!loaded.ok) {
    process.stderr.write(`twinvip cleanup: configuration not usable, no VIP removed:\n${formatIssues(loaded.errors, path)}\n`);
    return EXIT.CONFIG;
  }
  const config = loaded.config;
  if (!values.force) {
    const r = await requestOnce(config.control.socket, 'ping', undefined, { timeoutMs: 1000 });
    if (r.ok) {
      process.stderr.write(`twinvip cleanup: a daemon answers on ${config.control.socket} (it owns the VIPs): nothing removed (--force to remove them anyway)\n`);
      return EXIT.STARTUP;
    }
  }
  const plans = Object.keys(config.instances).map((n) => planInstance(config, n, config.instances[n]!, '0.0.0.0', []));
  const owned = new Set(plans.filter((p) => p.params.addressOwner).flatMap((p) => p.vips.map((v) => v.address)));
  const { removed, errors } = await removeStaleVips(plans.flatMap((p) => p.vips.map(toNetVip)), (v) => owned.has(v.address));
  for (const v of removed) process.stdout.write(`twinvip cleanup: removed VIP ${v.address}/${v.prefixLength} from ${v.ifname}\n`);
  for (const e of errors) process.stderr.write(`twinvip cleanup: ${e}\n`);
  if (removed.length === 0 && errors.length === 0) process.stdout.write('twinvip cleanup: no configured VIP present on this box\n');
  return errors.length > 0 ? EXIT.CONFIG : EXIT.OK;
}
