import { parseAddress } from '../ip';
import type { NoteList } from './notes';
import type { KNode } from './tree';
import { eachChild, extraArgs, needBlock, numberArg, type Handlers } from './walk';

/**
 * virtual_server / real_server (IPVS) -> an Nginx stream server on the virtual address and an
 * upstream group with an active health check. Nginx proxies (a full NAT, like LVS NAT): DR/TUN,
 * persistence and most schedulers have only approximate equivalents, each reported.
 */
export interface MappedVirtualServer {
  name: string;
  at: KNode;
  upstream: Record<string, unknown>;
  server: Record<string, unknown>;
}

interface HealthCheck {
  type: 'tcp' | 'http';
  /** connect_port; unset = each server's own port. */
  port?: number;
  path?: string;
  status?: number[];
  interval?: number;
  timeout: number;
  rise: number;
  fall: number;
}

const SCHEDULERS: Record<string, { balance: string; note?: string }> = {
  rr: { balance: 'round_robin', note: 'LVS rr ignores weights; Nginx round robin honours them' },
  wrr: { balance: 'round_robin' },
  lc: { balance: 'least_conn', note: 'Nginx least_conn honours weights (like wlc)' },
  wlc: { balance: 'least_conn' },
  sh: { balance: 'hash', note: 'source hashing becomes hash $remote_addr consistent' },
};

function addressPort(ip: string | undefined, port: string | undefined): string | undefined {
  const p = parseAddress(ip ?? '');
  const n = Number(port);
  if (!p || p.prefix !== undefined || !Number.isInteger(n) || n < 1 || n > 65535) return undefined;
  return p.family === 'ipv6' ? `[${p.address}]:${n}` : `${p.address}:${n}`;
}

function mapCheck(node: KNode, kind: 'tcp' | 'http', notes: NoteList): HealthCheck | undefined {
  if (!needBlock(node, notes)) return undefined;
  // keepalived defaults: connect_timeout 5 s, retry 1, delay_before_retry 1 s.
  const hc: HealthCheck = { type: kind, timeout: 5, rise: 1, fall: 2 };
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
      if (v !== undefined) hc.port = v;
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
  if (kind === 'http') {
    handlers.url = (n) => {
      if (!needBlock(n, notes)) return;
      urls++;
      if (urls > 1) {
        notes.unconverted(n, 'url', 'only the first url block is checked');
        return;
      }
      eachChild(n, 'url', {
        path: (c) => {
          if (c.args[0]?.startsWith('/')) hc.path = c.args[0];
          else notes.unconverted(c, c.key, `'${c.args[0] ?? ''}' is not an absolute path`);
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
            for (let s = lo; s <= hi && s <= 599; s++) if (s >= 100) codes.push(s);
          }
          if (codes.length > 0) hc.status = codes;
        },
        digest: (c) => notes.unconverted(c, c.key, 'the body digest is not checked: only the status code'),
        virtualhost: (c) => notes.unconverted(c, c.key, 'the Host header of checks is not configurable yet'),
      }, notes);
    };
  }
  eachChild(node, node.key, handlers, notes);
  if (kind === 'http') {
    hc.path ??= '/';
    // keepalived HTTP_GET without status_code and digest accepts any 2xx.
    hc.status ??= [200, 201, 202, 203, 204, 205, 206];
  }
  return hc;
}

export function mapVirtualServer(node: KNode, notes: NoteList): MappedVirtualServer | undefined {
  const label = `virtual_server ${node.args.join(' ')}`;
  if (node.args[0] === 'fwmark' || node.args[0] === 'group') {
    notes.unconverted(node, label, `virtual_server ${node.args[0]} is IPVS-specific: Nginx needs an address and port`);
    return undefined;
  }
  const listen = addressPort(node.args[0], node.args[1]);
  if (!listen) {
    notes.unconverted(node, label, 'expected "virtual_server ADDRESS PORT"');
    return undefined;
  }
  extraArgs({ ...node }, 2, notes);
  if (!needBlock(node, notes)) return undefined;
  const name = `vs_${node.args[0]}_${node.args[1]}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const servers: Record<string, unknown>[] = [];
  let interval = 60; // keepalived delay_loop default
  // keepalived 2.2.7 without lb_algo: "no scheduler set, setting default 'wlc'".
  let balance: { balance: string; note?: string } = { balance: 'least_conn' };
  let protocol: string | undefined;
  let check: HealthCheck | undefined;
  let checkAt: KNode | undefined;
  let sorry: string | undefined;
  let sorryAt: KNode | undefined;

  const realServer = (n: KNode) => {
    const addr = addressPort(n.args[0], n.args[1]);
    if (!addr) return notes.unconverted(n, `real_server ${n.args.join(' ')}`, 'expected "real_server ADDRESS PORT"');
    const entry: Record<string, unknown> = { address: addr };
    if (!needBlock(n, notes)) {
      servers.push(entry);
      return;
    }
    let checks = 0;
    const takeCheck = (kind: 'tcp' | 'http') => (c: KNode) => {
      checks++;
      const hc = mapCheck(c, kind, notes);
      if (!hc) return;
      if (checks > 1) {
        notes.unconverted(c, c.key, 'only one check per server is carried over (the first)');
        return;
      }
      if (!check) {
        check = hc;
        checkAt = c;
      } else if (JSON.stringify(check) !== JSON.stringify(hc)) {
        notes.warn(c, c.key, `an Nginx upstream group has one health check: the one at ${checkAt?.file}:${checkAt?.line} is used for every server of ${label}`);
      }
    };
    eachChild(n, 'real_server', {
      weight: (c) => {
        const w = numberArg(c, 0, { min: 0, max: 65535, integer: true }, notes);
        if (w === undefined) return;
        if (w === 0) {
          entry.down = true;
          notes.warn(c, c.key, 'weight 0 (no new connections in LVS) becomes down in Nginx');
        } else if (w > 1) entry.weight = Math.min(w, 1000);
      },
      TCP_CHECK: takeCheck('tcp'),
      HTTP_GET: takeCheck('http'),
    }, notes);
    servers.push(entry);
  };

  eachChild(node, 'virtual_server', {
    delay_loop: (n) => {
      const v = numberArg(n, 0, { min: 0.1, max: 3600 }, notes);
      if (v !== undefined) interval = v;
    },
    lb_algo: (n) => {
      const s = SCHEDULERS[n.args[0] ?? ''];
      if (s) {
        balance = s;
        if (s.note) notes.warn(n, n.key, s.note);
      } else notes.unconverted(n, n.key, `scheduler '${n.args[0] ?? ''}' has no Nginx equivalent: round robin used`);
    },
    lb_kind: (n) => {
      if (n.args[0] === 'NAT') return notes.warn(n, n.key, 'NAT: Nginx proxies, so servers see Nginx as the client (no need for the director as default route)');
      notes.unconverted(n, n.key, `${n.args[0] ?? ''}: Nginx proxies (like NAT); direct routing and tunnelling have no equivalent`);
    },
    protocol: (n) => {
      const p = (n.args[0] ?? '').toUpperCase();
      if (p === 'TCP' || p === 'UDP') protocol = p.toLowerCase();
      else notes.unconverted(n, n.key, `${n.args[0] ?? ''}: only TCP and UDP are proxied`);
    },
    persistence_timeout: (n) => {
      if (balance.balance !== 'hash') balance = { balance: 'hash' };
      notes.warn(n, n.key, 'client persistence becomes hash $remote_addr consistent (no timeout)');
    },
    sorry_server: (n) => {
      const addr = addressPort(n.args[0], n.args[1]);
      if (!addr) return notes.unconverted(n, n.key, 'expected "sorry_server ADDRESS PORT"');
      sorry = addr;
      sorryAt = n;
    },
    real_server: realServer,
  }, notes);

  if (protocol === undefined) {
    notes.warn(node, label, "no protocol: keepalived 2.2.7 logs 'no protocol set - defaulting to UDP'; converted as TCP, the usual intent — add 'protocol TCP' or 'protocol UDP'");
    protocol = 'tcp';
  }
  if (servers.length === 0) {
    notes.unconverted(node, label, 'no real_server: nothing to proxy to');
    return undefined;
  }
  if (sorry !== undefined && sorryAt) {
    // Nginx refuses `backup` with hash balancing (nginx -t: "balancing method does not support parameter backup").
    if (balance.balance === 'hash') notes.unconverted(sorryAt, 'sorry_server', 'Nginx refuses a backup server with hash balancing');
    else {
      servers.push({ address: sorry, backup: true });
      notes.warn(sorryAt, 'sorry_server', 'becomes a backup server of the upstream group');
    }
  }
  const upstream: Record<string, unknown> = { balance: balance.balance, servers };
  if (balance.balance === 'hash') upstream.hash = { key: '$remote_addr', consistent: true };
  if (check) {
    const hc = check as HealthCheck;
    hc.interval = interval;
    if (hc.timeout > interval) hc.timeout = interval;
    upstream.health_check = hc;
  } else {
    notes.warn(node, label, 'no TCP_CHECK or HTTP_GET: the upstream group has no active health check');
  }
  const server = { type: 'stream', listen, protocol, upstream: name };
  return { name, at: node, upstream, server };
}
