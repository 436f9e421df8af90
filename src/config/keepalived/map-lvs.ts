import { addressFamily, parseAddress } from '../../lib/ip';
import type { NoteList } from './notes';
import type { KNode } from './tree';
import { commandOf, eachChild, extraArgs, needBlock, numberArg, scriptArg, warnShellSyntax, type Handlers } from './walk';

/**
 * virtual_server / real_server (IPVS) -> an Nginx stream server on the virtual address and an
 * upstream group with an active health check, in the shape of src/nginx/schema.ts. Nginx proxies
 * (a full NAT, like LVS NAT): DR/TUN, persistence and most schedulers have only approximate
 * equivalents, each reported.
 */
export interface MappedVirtualServer {
  name: string;
  at: KNode;
  /** nginx.upstreams.NAME */
  upstream: Record<string, unknown>;
  /** one entry of nginx.stream */
  server: Record<string, unknown>;
}

/** nginx.upstreams.NAME.check, plus what the comparison between real servers needs. */
interface HealthCheck {
  type: 'tcp' | 'http' | 'https' | 'script';
  script?: string | string[];
  user?: string;
  path?: string;
  host?: string;
  status?: number[];
  interval?: number;
  /** Undefined: the check interval (MISC_CHECK without misc_timeout). */
  timeout?: number;
  rise: number;
  fall: number;
}

interface ReadCheck {
  check: HealthCheck;
  /** connect_port: the Nginx check always probes the server's own port. */
  connectPort?: { port: number; at: KNode };
  /** checker-level delay_loop (keepalived 2.x) overrides the virtual server's. */
  interval?: number;
  at: KNode;
}

interface Scheduler {
  balance: 'round_robin' | 'least_conn' | 'hash' | 'random';
  /** LVS honours real_server weights with this scheduler (rr and lc ignore them). */
  weighted: boolean;
  /** Why the Nginx method only approximates the scheduler (reported as a warning). */
  note?: string;
}

// `ip_hash` does not exist in the Nginx stream module (semantic.ts refuses it for a group used by a
// stream server), so source hashing becomes `hash $remote_addr`, which behaves the same for L4.
const SOURCE_HASH = 'source hashing becomes balance hash on $remote_addr (consistent: a failed server moves only its own clients)';
const SCHEDULERS: Record<string, Scheduler> = {
  rr: { balance: 'round_robin', weighted: false },
  wrr: { balance: 'round_robin', weighted: true },
  lc: { balance: 'least_conn', weighted: false },
  wlc: { balance: 'least_conn', weighted: true },
  sh: { balance: 'hash', weighted: true, note: SOURCE_HASH },
  mh: { balance: 'hash', weighted: true, note: `maglev hashing: ${SOURCE_HASH}` },
  dh: { balance: 'round_robin', weighted: true, note: 'destination hashing: behind a proxy every connection has the virtual address as destination; weighted round robin used' },
  lblc: { balance: 'least_conn', weighted: true, note: 'locality-based (per destination) least-connection: plain weighted least_conn used' },
  lblcr: { balance: 'least_conn', weighted: true, note: 'locality-based least-connection with replication: plain weighted least_conn used' },
  sed: { balance: 'least_conn', weighted: true, note: 'shortest expected delay: weighted least_conn is the nearest Nginx method' },
  nq: { balance: 'least_conn', weighted: true, note: 'never queue: weighted least_conn is the nearest Nginx method' },
  fo: { balance: 'round_robin', weighted: true, note: 'weighted failover (all to the highest weight): weighted round robin used; mark the others backup by hand for failover' },
  ovf: { balance: 'round_robin', weighted: true, note: 'overflow-connection: weighted round robin used (no per-server connection limit)' },
  twos: { balance: 'random', weighted: true, note: 'weighted random twos: balance random (weighted) used' },
};
// keepalived 2.2.7 without lb_algo: "no scheduler set, setting default 'wlc'".
const DEFAULT_SCHEDULER = 'wlc';
// keepalived global_data.h: the largest persistence_timeout (31 days).
const LVS_MAX_TIMEOUT = 86400 * 31;
// Nginx refuses `backup` with these (nginx -t: "balancing method does not support parameter backup").
const NO_BACKUP = new Set(['hash', 'ip_hash', 'random']);
// IPVS connection timeouts (`ipvsadm -L --timeout`: tcp 900 s, udp 300 s) carried over as the
// stream proxy_timeout, so idle sessions last as long as they did behind LVS (Nginx default 600).
const IDLE_TIMEOUT = { tcp: 900, udp: 300 } as const;
const HOST = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function endpoint(ip: string | undefined, port: string | undefined): { address: string; port: number } | undefined {
  const p = parseAddress(ip ?? '');
  const n = Number(port);
  if (!p || p.prefix !== undefined || !Number.isInteger(n) || n < 1 || n > 65535) return undefined;
  return { address: p.address, port: n };
}

const show = (e: { address: string; port: number }) => (e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`);

function readHost(n: KNode, notes: NoteList): string | undefined {
  const h = n.args[0] ?? '';
  if (addressFamily(h) !== undefined || HOST.test(h)) return h;
  notes.unconverted(n, n.key, `'${h}' is not a host name or address`);
  return undefined;
}

function mapCheck(node: KNode, kind: 'tcp' | 'http' | 'https', notes: NoteList): ReadCheck | undefined {
  if (!needBlock(node, notes)) return undefined;
  // keepalived defaults: connect_timeout 5 s, retry 1 (so the second failure in a row takes the
  // server out), and one success puts it back.
  const hc: HealthCheck = { type: kind, timeout: 5, rise: 1, fall: 2 };
  const read: ReadCheck = { check: hc, at: node };
  let urls = 0;
  const retry = (n: KNode) => {
    const v = numberArg(n, 0, { min: 0, max: 99, integer: true }, notes);
    if (v !== undefined) hc.fall = v + 1;
    // Measured with keepalived 2.2.7 -t: HTTP_GET logs "nb_get_retry is deprecated", TCP_CHECK "Unknown keyword".
    if (n.key === 'nb_get_retry') {
      notes.warn(n, n.key, kind === 'http' ? 'old keyword (deprecated in keepalived 2.x): read as retry' : "old keyword (keepalived 2.2.7 refuses it in TCP_CHECK: 'Unknown keyword'): read as retry");
    }
  };
  const handlers: Handlers = {
    connect_timeout: (n) => {
      const v = numberArg(n, 0, { min: 0.1, max: 3600 }, notes);
      if (v !== undefined) hc.timeout = v;
    },
    connect_port: (n) => {
      const v = numberArg(n, 0, { min: 1, max: 65535, integer: true }, notes);
      if (v !== undefined) read.connectPort = { port: v, at: n };
    },
    delay_loop: (n) => {
      const v = numberArg(n, 0, { min: 0.1, max: 3600 }, notes);
      if (v !== undefined) read.interval = v;
    },
    retry,
    nb_get_retry: retry,
    delay_before_retry: (n) => {
      notes.warn(n, n.key, 'retries are spaced by the check interval (delay_loop), not by delay_before_retry');
    },
    connect_ip: (n) => notes.unconverted(n, n.key, 'the check always targets the server\'s own address'),
    bindto: (n) => notes.unconverted(n, n.key, 'the check\'s source address is chosen by the kernel'),
    bind_port: (n) => notes.unconverted(n, n.key, 'the check\'s source port is chosen by the kernel'),
    warmup: (n) => notes.unconverted(n, n.key, 'checks start at once'),
  };
  if (kind !== 'tcp') {
    if (kind === 'https') {
      notes.warn(node, node.key, 'becomes an https check (GET over TLS) that does not verify the server certificate, as SSL_GET without an SSL { ca } block; with a CA, keepalived would also verify it');
      handlers.enable_sni = (n) => notes.unconverted(n, n.key, 'the https check sends no SNI name (it connects by address; check.host sets the Host header only)');
    }
    handlers.virtualhost = (n) => {
      const h = readHost(n, notes);
      if (h !== undefined) hc.host = h;
    };
    handlers.url = (n) => {
      if (!needBlock(n, notes)) return;
      urls++;
      if (urls > 1) {
        notes.unconverted(n, 'url', 'only the first url block is checked (an Nginx group has one check path)');
        return;
      }
      eachChild(n, 'url', {
        path: (c) => {
          // The schema's check path: absolute, printable ASCII, no spaces.
          if (/^\/[\x21-\x7e]{0,1023}$/.test(c.args[0] ?? '')) hc.path = c.args[0];
          else notes.unconverted(c, c.key, `'${c.args[0] ?? ''}' is not an absolute path without spaces`);
        },
        status_code: (c) => {
          const codes: number[] = [];
          for (const word of c.args) {
            const range = /^(\d{3})(?:-(\d{3}))?$/.exec(word);
            if (!range) {
              notes.unconverted(c, c.key, `'${word}' is not a status code or range`);
              continue;
            }
            const lo = Number(range[1]);
            const hi = Number(range[2] ?? range[1]);
            for (let s = lo; s <= hi && s <= 599; s++) if (s >= 100 && !codes.includes(s)) codes.push(s);
          }
          if (codes.length > 0) hc.status = codes;
        },
        digest: (c) => notes.warn(c, c.key, 'approximated: the status code is checked, not the MD5 digest of the body (an MD5 cannot be turned into a body match); add check.body, a regular expression the page must match, for a content check'),
        virtualhost: (c) => {
          const h = readHost(c, notes);
          if (h !== undefined) hc.host = h;
        },
      }, notes);
    };
  }
  eachChild(node, node.key, handlers, notes);
  if (kind !== 'tcp') {
    hc.path ??= '/';
    // keepalived HTTP_GET without status_code and digest accepts any 2xx.
    hc.status ??= [200, 201, 202, 203, 204, 205, 206];
  }
  return read;
}

/**
 * MISC_CHECK -> a script check (keepalived 2.2.7 check_misc.c): misc_path is re-read with quotes
 * and escapes and only its first word is the command (like vrrp_script); misc_timeout defaults
 * to the delay_loop; retry defaults to 0 (one failure takes the server out); user USER [GROUP].
 */
function mapMisc(node: KNode, notes: NoteList): ReadCheck | undefined {
  if (!needBlock(node, notes)) return undefined;
  const hc: HealthCheck = { type: 'script', rise: 1, fall: 1 };
  const read: ReadCheck = { check: hc, at: node };
  let argv: string[] | undefined;
  const retry = (n: KNode) => {
    const v = numberArg(n, 0, { min: 0, max: 99, integer: true }, notes);
    if (v !== undefined) hc.fall = v + 1;
  };
  eachChild(node, node.key, {
    misc_path: (n) => {
      const s = scriptArg(n, notes);
      if (!s) return;
      argv = s.argv;
      warnShellSyntax(n, s.argv, notes);
      if (s.rest.length > 0) notes.unconverted(n, n.key, `extra words '${s.rest.join(' ')}': keepalived 2.2.7 runs only the first (quoted) word as the command with its arguments (quote the whole command: misc_path "${[...s.argv, ...s.rest].join(' ')}"); not added`);
    },
    misc_timeout: (n) => {
      const v = numberArg(n, 0, { min: 0, max: 3600 }, notes);
      if (v !== undefined && v > 0) hc.timeout = v;
    },
    misc_dynamic: (n) => notes.unconverted(n, n.key, 'exit codes 2..255 setting the server weight (exit - 2) have no equivalent: exit 0 is up, anything else down'),
    user: (n) => {
      if (n.args[0] === undefined) return notes.unconverted(n, n.key, 'user missing');
      hc.user = n.args[0];
      if (n.args[1] !== undefined) notes.unconverted(n, n.key, `group '${n.args[1]}' not carried over: the check runs with the user's primary group`);
    },
    retry,
    delay_before_retry: (n) => notes.warn(n, n.key, 'retries are spaced by the check interval (delay_loop), not by delay_before_retry'),
    delay_loop: (n) => {
      const v = numberArg(n, 0, { min: 0.1, max: 3600 }, notes);
      if (v !== undefined) read.interval = v;
    },
    warmup: (n) => notes.unconverted(n, n.key, 'checks start at once'),
  }, notes);
  if (!argv) {
    notes.unconverted(node, node.key, 'no misc_path: keepalived drops the checker too');
    return undefined;
  }
  hc.script = commandOf(argv);
  return read;
}

/**
 * The per-server commands of MISC_CHECKs as one group check: a server's own address or port in an
 * argument becomes {address} / {port} (the group check substitutes each server's), so
 * `check.sh 10.0.1.1` and `check.sh 10.0.1.2` on their servers are one `check.sh {address}`.
 */
function genericScript(script: string | string[] | undefined, server: { address: string; port: number }): string | string[] | undefined {
  if (script === undefined) return undefined;
  const argv = typeof script === 'string' ? script.split(/\s+/) : script;
  const out = argv.map((w, i) => (i === 0 ? w : w.split(server.address).join('{address}').replace(new RegExp(`(^|[^0-9])${server.port}(?![0-9])`, 'g'), `$1{port}`)));
  return commandOf(out);
}

interface ServerEntry {
  address: string;
  port: number;
  weight: number;
  weightAt?: KNode;
  at: KNode;
}

export function mapVirtualServer(node: KNode, notes: NoteList): MappedVirtualServer | undefined {
  const label = `virtual_server ${node.args.join(' ')}`;
  if (node.args[0] === 'fwmark' || node.args[0] === 'group') {
    notes.unconverted(node, label, `virtual_server ${node.args[0]} is IPVS-specific: Nginx needs an address and port`);
    return undefined;
  }
  const listen = endpoint(node.args[0], node.args[1]);
  if (!listen) {
    notes.unconverted(node, label, 'expected "virtual_server ADDRESS PORT"');
    return undefined;
  }
  extraArgs({ ...node }, 2, notes);
  if (!needBlock(node, notes)) return undefined;
  const servers: ServerEntry[] = [];
  let interval = 60; // keepalived delay_loop default
  let scheduler: Scheduler = SCHEDULERS[DEFAULT_SCHEDULER] as Scheduler;
  let schedulerName = DEFAULT_SCHEDULER;
  let schedulerAt: KNode | undefined;
  let persistenceAt: KNode | undefined;
  let protocol: 'tcp' | 'udp' | undefined;
  let unsupportedProtocol = false;
  let check: ReadCheck | undefined;
  let scriptsDiffer = false;
  let vsHost: string | undefined;
  let sorry: { address: string; port: number; at: KNode } | undefined;

  const realServer = (n: KNode) => {
    const ep = endpoint(n.args[0], n.args[1]);
    if (!ep) return notes.unconverted(n, `real_server ${n.args.join(' ')}`, 'expected "real_server ADDRESS PORT"');
    const entry: ServerEntry = { ...ep, weight: 1, at: n };
    if (!needBlock(n, notes)) {
      servers.push(entry);
      return;
    }
    let checks = 0;
    const takeCheck = (kind: 'tcp' | 'http' | 'https' | 'misc') => (c: KNode) => {
      checks++;
      const hc = kind === 'misc' ? mapMisc(c, notes) : mapCheck(c, kind, notes);
      if (!hc) return;
      if (hc.check.type === 'script') hc.check.script = genericScript(hc.check.script, ep);
      if (checks > 1) {
        notes.unconverted(c, c.key, 'only one check per server is carried over (the first)');
        return;
      }
      if (!check) check = hc;
      else if (check.check.type === 'script' && JSON.stringify(check.check) !== JSON.stringify(hc.check)) {
        // Another server's script would judge this server: no check rather than a wrong one.
        scriptsDiffer = true;
        notes.unconverted(c, c.key, `an Nginx upstream group has one health check, and this server's MISC_CHECK differs from the one at ${check.at.file}:${check.at.line} beyond its own address and port: ${label} gets no active check — write one script taking {address} and {port}`);
      } else if (JSON.stringify([check.check, check.interval, check.connectPort?.port]) !== JSON.stringify([hc.check, hc.interval, hc.connectPort?.port])) {
        notes.warn(c, c.key, `an Nginx upstream group has one health check: the one at ${check.at.file}:${check.at.line} is used for every server of ${label}`);
      }
    };
    eachChild(n, 'real_server', {
      weight: (c) => {
        const w = numberArg(c, 0, { min: 0, max: 65535, integer: true }, notes);
        if (w === undefined) return;
        entry.weight = w;
        entry.weightAt = c;
      },
      inhibit_on_failure: (c) => notes.warn(c, c.key, 'twinvip marks a failed server down in the group instead of removing it, as inhibit_on_failure does with weight 0'),
      TCP_CHECK: takeCheck('tcp'),
      HTTP_GET: takeCheck('http'),
      SSL_GET: takeCheck('https'),
      MISC_CHECK: takeCheck('misc'),
    }, notes);
    servers.push(entry);
  };

  eachChild(node, 'virtual_server', {
    delay_loop: (n) => {
      const v = numberArg(n, 0, { min: 0.1, max: 3600 }, notes);
      if (v !== undefined) interval = v;
    },
    lb_algo: (n) => {
      const name = n.args[0] ?? '';
      const s = SCHEDULERS[name];
      if (s) {
        scheduler = s;
        schedulerName = name;
        schedulerAt = n;
        if (s.note) notes.warn(n, n.key, s.note);
      } else notes.unconverted(n, n.key, `'${name}' is not an IPVS scheduler: least_conn (keepalived's default wlc) used`);
    },
    lb_kind: (n) => {
      if (n.args[0] === 'NAT') return notes.warn(n, n.key, 'NAT: Nginx proxies, so servers see Nginx as the client (no need for the director as default route)');
      notes.unconverted(n, n.key, `${n.args[0] ?? ''}: Nginx proxies (like NAT); direct routing and tunnelling have no equivalent`);
    },
    protocol: (n) => {
      const p = (n.args[0] ?? '').toUpperCase();
      if (p === 'TCP' || p === 'UDP') protocol = p === 'TCP' ? 'tcp' : 'udp';
      else {
        unsupportedProtocol = true;
        notes.unconverted(n, n.key, `${n.args[0] ?? ''}: the Nginx stream module proxies only TCP and UDP; ${label} is not converted`);
      }
    },
    persistence_timeout: (n) => {
      // keepalived 2.2.7 pto_handler: no value = 360 s; 1..31 days turns persistence on; 0 or
      // anything else is "persistence_timeout invalid" and the service has no persistence.
      const word = n.args[0];
      if (word === undefined) {
        persistenceAt = n;
        return;
      }
      const v = Number(word);
      if (/^\d+$/.test(word) && v >= 1 && v <= LVS_MAX_TIMEOUT) {
        persistenceAt = n;
        extraArgs(n, 1, notes);
        return;
      }
      // An invalid value leaves what came before (nothing, or persistence_granularity's 360 s).
      notes.warn(n, n.key, `${word}: ${persistenceAt ? 'ignored' : 'no persistence'}, as in keepalived (it logs "persistence_timeout invalid" for anything but 1..${LVS_MAX_TIMEOUT} and leaves the value unset)${persistenceAt ? '' : ': the lb_algo scheduler is kept'}`);
    },
    persistence_granularity: (n) => {
      // keepalived: a granularity alone turns persistence on (360 s); the client netmask is lost.
      persistenceAt ??= n;
      notes.unconverted(n, n.key, `${n.args[0] ?? ''}: clients are kept by their own address, not by a netmask (hash on $remote_addr)`);
    },
    virtualhost: (n) => {
      const h = readHost(n, notes);
      if (h !== undefined) vsHost = h;
    },
    sorry_server: (n) => {
      const ep = endpoint(n.args[0], n.args[1]);
      if (!ep) return notes.unconverted(n, n.key, 'expected "sorry_server ADDRESS PORT"');
      sorry = { ...ep, at: n };
    },
    real_server: realServer,
  }, notes);
  if (unsupportedProtocol) return undefined;

  if (protocol === undefined) {
    notes.warn(node, label, "no protocol: keepalived 2.2.7 logs 'no protocol set - defaulting to UDP'; converted as TCP, the usual intent — add 'protocol TCP' or 'protocol UDP'");
    protocol = 'tcp';
  }
  // Names: vs_ADDRESS_PORT, with _udp for UDP so TCP and UDP on one port stay two groups.
  const name = `vs_${listen.address}_${listen.port}${protocol === 'udp' ? '_udp' : ''}`.replace(/[^A-Za-z0-9_-]/g, '_');

  let balance = scheduler.balance;
  let weighted = scheduler.weighted;
  if (persistenceAt) {
    balance = 'hash';
    weighted = true;
    notes.warn(persistenceAt, persistenceAt.key, `client persistence becomes balance hash on $remote_addr, consistent (no timeout)${schedulerAt ? `; replaces lb_algo ${schedulerName}` : ''}`);
  }

  // Weights: Nginx takes 1..1000 and has no configured "quiesced" server.
  const out: Record<string, unknown>[] = [];
  const seen = new Map<string, ServerEntry>();
  let ignoredWeight: KNode | undefined;
  for (const s of servers) {
    const key = show(s);
    const prev = seen.get(key);
    if (prev) {
      notes.unconverted(s.at, `real_server ${s.at.args.join(' ')}`, `${key} is listed twice (also at ${prev.at.file}:${prev.at.line}): the first is kept`);
      continue;
    }
    seen.set(key, s);
    if (s.weight === 0) {
      // LVS weight 0 keeps existing connections but sends no new ones; an Nginx group cannot hold a
      // server that takes nothing (twinvip marks servers down only at run time, from checks).
      notes.unconverted(s.weightAt ?? s.at, 'weight 0', `${key} takes no new connections in LVS; an Nginx group has no configured "down": left out of ${name} — add it when it should serve`);
      continue;
    }
    const entry: Record<string, unknown> = { address: s.address, port: s.port };
    if (weighted) {
      let w = s.weight;
      if (w > 1000) {
        notes.warn(s.weightAt ?? s.at, 'weight', `${w} is above Nginx's maximum: 1000 used (shares between servers change)`);
        w = 1000;
      }
      if (w > 1) entry.weight = w;
    } else if (s.weight > 1) ignoredWeight ??= s.weightAt;
    out.push(entry);
  }
  if (ignoredWeight) notes.warn(ignoredWeight, 'weight', `LVS ${schedulerName} ignores weights, so they are not carried over (Nginx ${balance} would honour them): use ${schedulerName === 'rr' ? 'wrr' : 'wlc'} for weighted balancing`);
  if (out.length === 0) {
    notes.unconverted(node, label, 'no real_server Nginx can use: nothing to proxy to');
    return undefined;
  }

  const s = sorry as { address: string; port: number; at: KNode } | undefined;
  if (s) {
    if (NO_BACKUP.has(balance)) notes.unconverted(s.at, 'sorry_server', `Nginx refuses a backup server with balance ${balance}`);
    else if (seen.has(show(s))) notes.unconverted(s.at, 'sorry_server', `${show(s)} is also a real_server`);
    else {
      out.push({ address: s.address, port: s.port, backup: true });
      notes.warn(s.at, 'sorry_server', 'becomes a backup server of the upstream group (used while every real server is down)');
    }
  }

  const upstream: Record<string, unknown> = { balance, servers: out };
  if (balance === 'hash') Object.assign(upstream, { hash_key: '$remote_addr', hash_consistent: true });
  const c = scriptsDiffer ? undefined : (check as ReadCheck | undefined);
  if (c) {
    const hc = c.check;
    hc.interval = c.interval ?? interval;
    hc.timeout ??= hc.interval;
    if (hc.timeout > hc.interval) {
      notes.warn(c.at, 'connect_timeout', `${hc.timeout} s exceeds the check interval (${hc.interval} s): ${hc.interval} s used so runs do not overlap`);
      hc.timeout = hc.interval;
    }
    const web = hc.type === 'http' || hc.type === 'https';
    if (web && hc.host === undefined && vsHost !== undefined) hc.host = vsHost;
    else if (!web && vsHost !== undefined) notes.unconverted(node, 'virtualhost', `the group is checked by ${hc.type === 'tcp' ? 'TCP_CHECK' : 'MISC_CHECK'}: no Host header to send`);
    if (c.connectPort && out.some((o) => o.port !== c.connectPort?.port)) {
      notes.unconverted(c.connectPort.at, 'connect_port', `the Nginx check probes each server on its own port, not ${c.connectPort.port}`);
    }
    // Written in the schema's field order, for the reader of the converted file.
    const { type, script, user, path, host, status, timeout, rise, fall } = hc;
    const ordered: Record<string, unknown> = { type, script, user, path, host, status, interval: hc.interval, timeout, rise, fall };
    upstream.check = Object.fromEntries(Object.entries(ordered).filter(([, v]) => v !== undefined));
  } else if (!scriptsDiffer) {
    notes.warn(node, label, 'no TCP_CHECK, HTTP_GET, SSL_GET or MISC_CHECK: the upstream group has no active health check (only Nginx\'s passive max_fails)');
    if (vsHost !== undefined) notes.unconverted(node, 'virtualhost', 'no HTTP_GET check: no Host header to send');
  }
  const server = { listen: { address: listen.address, port: listen.port, protocol }, upstream: name, timeout: IDLE_TIMEOUT[protocol] };
  return { name, at: node, upstream, server };
}
