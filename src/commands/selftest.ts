// `twinvip selftest` (also run by `twinvip check --host`): tries on this machine, for real, each
// system call `run` will need for the configuration, and prints each with OK or FAIL and the
// errno: the netlink socket for link events, per interface and family the raw VRRP socket with
// all its options and each multicast group join (and the IPsec AH socket), the AF_PACKET socket
// for gratuitous ARP / NA, the serial heartbeat and console devices, the Nginx binary. A board
// bring-up finds the missing kernel option or capability here, before the box ships; `run`
// would stop on the first of them with exit 6.
//
// Nothing is sent: sockets are opened, joined and closed. The serial device is opened and
// closed (while the daemon runs it holds the port: FAIL EBUSY then says so).

import { spawn } from 'node:child_process';
import { formatIssues, loadConfigFile, withVrrpPasswords, type TwinvipConfig } from '../config';
import { errnoOf } from '../lib/feature-failure';
import { ReopeningSerialPort } from '../lib/serial-port';
import { loadAddon, type NativeHandle } from '../net/native';
import { VRRP_PROTOCOL } from '../vrrp/types';
import { planInstance, type InstancePlan } from '../ha/vrrp/instance-plan';
import { toNetVip } from '../ha/vrrp/net-io';
import { DEFAULT_CONFIG_PATH } from '../control';

const AH_PROTOCOL = 51;

export interface Probe {
  /** What was tried, e.g. "lan0: raw VRRP socket (IPv4, protocol 112)". */
  what: string;
  ok: boolean;
  /** On FAIL: the call and errno as the kernel said ("setsockopt IP_MULTICAST_IF ENOPROTOOPT (...)"); on OK a note. */
  detail?: string;
  errno?: string;
  /** OK, but something wanted and not needed was refused (an emulator's missing socket option). */
  warning?: string;
}

/** Every probe for the configuration, in the order `run` meets them. */
export async function selftest(config: TwinvipConfig): Promise<Probe[]> {
  const out: Probe[] = [];
  const cfg = withVrrpPasswords(config);
  const plans = Object.entries(cfg.instances).map(([name, inst]) => planInstance(cfg, name, inst, '0.0.0.0', []));
  if (plans.length > 0) {
    out.push(tryOpen('netlink: rtnetlink socket for link events', (a) => a.openLinkEvents()));
    out.push(...vrrpProbes(plans));
    for (const dev of [...new Set(plans.flatMap((p) => p.vips.map((v) => toNetVip(v).ifname)))]) {
      out.push(tryOpen(`${dev}: AF_PACKET socket for gratuitous ARP / NA`, (a) => a.openPacket(dev)));
    }
  }
  const serial = cfg.heartbeat.serial;
  if (serial?.enabled && serial.device) out.push(await serialProbe(`serial heartbeat ${serial.device}`, serial.device, serial.baud));
  if (cfg.console.enabled && cfg.console.device) out.push(await serialProbe(`serial console ${cfg.console.device} (optional)`, cfg.console.device, cfg.console.baud));
  if (cfg.nginx.enabled) out.push(await nginxProbe(cfg.nginx.binary));
  return out;
}

/** One VRRP socket per (interface, family) as NetIo opens it, each group joined on it, and the AH socket. */
function vrrpProbes(plans: InstancePlan[]): Probe[] {
  const out: Probe[] = [];
  const keys = [...new Set(plans.map((p) => `${p.interface}/${p.family}`))];
  for (const key of keys) {
    const users = plans.filter((p) => `${p.interface}/${p.family}` === key);
    const { interface: ifname, family } = users[0]!;
    const groups = [...new Set(users.filter((p) => !p.unicast).map((p) => p.multicastGroup))];
    let handle: NativeHandle | undefined;
    const addon = loadAddon();
    const what = `${ifname}: raw VRRP socket (IPv${family}, protocol ${VRRP_PROTOCOL}) with its options`;
    try {
      handle = addon.openVrrp(family, ifname, VRRP_PROTOCOL, 0);
      const degraded = addon.stats(handle).degraded;
      out.push({ what, ok: true, ...(degraded ? { warning: `works without ${degraded}` } : {}) });
    } catch (err) {
      out.push(failed(what, err));
    }
    for (const g of groups) {
      const jw = `${ifname}: multicast join ${g}`;
      if (!handle) {
        out.push({ what: jw, ok: false, detail: 'not tried: no socket' });
        continue;
      }
      try {
        addon.setMembership(handle, g, true);
        out.push({ what: jw, ok: true });
        addon.setMembership(handle, g, false);
      } catch (err) {
        out.push(failed(jw, err));
      }
    }
    if (handle) addon.close(handle);
    if (family === 4 && users.some((p) => p.ahKey)) {
      out.push(tryOpen(`${ifname}: IPsec AH socket (protocol ${AH_PROTOCOL}, IP_HDRINCL)`, (a) => a.openVrrp(4, ifname, AH_PROTOCOL, 0, true)));
    }
  }
  return out;
}

function tryOpen(what: string, open: (a: ReturnType<typeof loadAddon>) => NativeHandle): Probe {
  try {
    const addon = loadAddon();
    addon.close(open(addon));
    return { what, ok: true };
  } catch (err) {
    return failed(what, err);
  }
}

function failed(what: string, err: unknown): Probe {
  const { errno } = errnoOf(err);
  return { what, ok: false, detail: err instanceof Error ? err.message : String(err), ...(errno ? { errno } : {}) };
}

/** Opens the device as the daemon does (serialport, the configured baud rate), then closes it. */
async function serialProbe(what: string, device: string, baud: number): Promise<Probe> {
  const port = new ReopeningSerialPort({
    path: device,
    baudRate: baud,
    reopen: { initialMs: 60_000, maxMs: 60_000 },
    unrefReopenTimer: true,
    onOpen: () => {},
    onData: () => {},
    onOpenFailure: () => {},
    onLost: () => {},
    onRetry: () => {},
  });
  port.start();
  const first = await port.firstOpen;
  await port.stop();
  if (first.ok) return { what: `${what}: open at ${baud} baud`, ok: true };
  const busy = first.error.errno === 'EBUSY' ? ' (is the daemon running? it holds the port)' : '';
  return { what, ok: false, detail: `${first.error.message}${busy}`, ...(first.error.errno ? { errno: first.error.errno } : {}) };
}

/** `nginx -v`: the binary exists, is executable, and runs. */
function nginxProbe(binary: string): Promise<Probe> {
  const what = `nginx: ${binary} -v`;
  return new Promise((resolve) => {
    let text = '';
    let child;
    try {
      child = spawn(binary, ['-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      resolve(failed(what, err));
      return;
    }
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('error', (err) => resolve({ what, ok: false, detail: `spawn ${binary} ${errnoOf(err).errno ?? ''} (${err.message})`.replace('  ', ' '), ...(errnoOf(err).errno ? { errno: errnoOf(err).errno! } : {}) }));
    child.on('close', (code, signal) => {
      const said = text.trim().split('\n')[0] ?? '';
      resolve(code === 0 ? { what, ok: true, detail: said } : { what, ok: false, detail: `exited with ${signal ?? `code ${code}`}${said ? `: ${said}` : ''}` });
    });
  });
}

/** The lines `selftest` and `check --host` print. */
export function renderProbes(probes: Probe[]): string {
  return probes
    .map((p) => {
      const head = `${p.ok ? (p.warning ? 'OK*' : 'OK') : 'FAIL'}`.padEnd(5);
      const tail = p.ok ? [p.detail, p.warning].filter(Boolean).join('; ') : p.detail ?? '';
      return `  ${head} ${p.what}${tail ? `: ${tail}` : ''}`;
    })
    .join('\n');
}

const USAGE = `usage: twinvip selftest [-c FILE] [--json]

Tries on this machine what \`twinvip run\` needs for the configuration, for real, and prints each
with OK or FAIL and the errno: the netlink socket (link events); per interface and family the
raw VRRP socket with its options and each multicast group join (and the IPsec AH socket); the
AF_PACKET socket for gratuitous ARP / NA; the serial heartbeat and console devices; the Nginx
binary. Nothing is sent. Run it as the daemon runs (root, the unit's capabilities), before the
daemon starts or with it stopped (it holds the serial port). OK* = works without a wanted option.
Exit 0 when everything is OK, 1 when something failed, 2 usage.

  -c, --config FILE  configuration (default ${DEFAULT_CONFIG_PATH})
  --json             the probes as JSON
`;

export async function selftestCommand(args: string[]): Promise<number> {
  let file = DEFAULT_CONFIG_PATH;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-c' || a === '--config') {
      const v = args[++i];
      if (!v) {
        process.stderr.write(`twinvip selftest: option ${a} needs a file name\n${USAGE}`);
        return 2;
      }
      file = v;
    } else if (a === '--json') json = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      return 0;
    } else {
      process.stderr.write(`twinvip selftest: unknown argument '${a}'\n${USAGE}`);
      return 2;
    }
  }
  const loaded = await loadConfigFile(file);
  if (!loaded.ok) {
    process.stderr.write(`${formatIssues(loaded.errors, file)}\n${file}: configuration refused; fix it first (twinvip check)\n`);
    return 1;
  }
  const probes = await selftest(loaded.config);
  const failures = probes.filter((p) => !p.ok).length;
  if (json) process.stdout.write(`${JSON.stringify({ ok: failures === 0, file, probes }, null, 2)}\n`);
  else {
    process.stdout.write(`selftest of ${file} on this machine:\n${renderProbes(probes)}\n`);
    process.stdout.write(failures === 0 ? `all ${probes.length} OK\n` : `${failures} of ${probes.length} FAILED: \`twinvip run\` would stop with exit 6\n`);
  }
  return failures === 0 ? 0 : 1;
}
