// The console's screens. Each returns plain text with '\n'; the transport turns it into CRLF.
import type { ChannelView, HeartbeatView, InstanceView, MqttView, NginxView } from './ports';
import { isUnavailable, type ConsoleSnapshot, type Part } from './snapshot';
import { ago, duration, flow, pairs, table } from './text-format';

export function renderStatus(s: ConsoleSnapshot): string {
  const out: string[] = [];
  out.push(`node ${s.node}   twinvip ${s.version}   up ${duration(s.uptimeS * 1000)}   config ${s.configHash}`);
  if (s.maintenance) out.push('MAINTENANCE: this node is demoted on purpose (maintenance off to end it)');
  for (const r of s.degraded ?? []) out.push(`DEGRADED: ${r}`);
  out.push('');
  out.push(renderInstances(s.instances));
  out.push('');
  out.push(renderHeartbeat(s.heartbeat));
  out.push('');
  out.push(`nginx  ${nginxLine(s.nginx)}`);
  out.push(`mqtt   ${mqttLine(s.mqtt)}`);
  return out.join('\n');
}

export function renderInstances(p: Part<InstanceView[]>): string {
  if (isUnavailable(p)) return `vrrp: ${p.unavailable}`;
  if (p.length === 0) return 'vrrp: no instances configured';
  const rows = [['INSTANCE', 'STATE', 'PRIO', 'VRID', 'SINCE', 'CAUSE']];
  for (const i of p) {
    const prio = i.priority === undefined ? '-' : i.basePriority !== undefined && i.basePriority !== i.priority ? `${i.priority}/${i.basePriority}` : String(i.priority);
    rows.push([i.name, i.state, prio, i.vrid === undefined ? '-' : String(i.vrid), i.sinceMs === undefined ? '-' : duration(i.sinceMs), i.cause ?? '']);
  }
  const held = p.filter((i) => i.demotions && i.demotions.length > 0).map((i) => `${i.name} demoted: ${i.demotions!.join(', ')}`);
  return [table(rows), ...held].join('\n');
}

export function renderInstanceDetail(i: InstanceView): string {
  const rows: [string, string][] = [
    ['instance', i.name],
    ['state', i.sinceMs === undefined ? i.state : `${i.state} for ${duration(i.sinceMs)}`],
    ['cause', i.cause ?? '-'],
    ['priority', i.priority === undefined ? '-' : i.basePriority === undefined ? String(i.priority) : `${i.priority} (base ${i.basePriority})`],
    ['vrid', i.vrid === undefined ? '-' : String(i.vrid)],
    ['interface', i.interface ?? '-'],
    ['master', i.master ?? '-'],
    ['demoted', i.demotions && i.demotions.length > 0 ? i.demotions.join(', ') : 'no'],
    ['vips', i.vips && i.vips.length > 0 ? i.vips.join(' ') : '-'],
    ...(i.extra ?? []),
  ];
  return pairs(rows);
}

export function renderHeartbeat(p: Part<HeartbeatView>, detailed = false): string {
  if (isUnavailable(p)) return `heartbeat: ${p.unavailable}`;
  const rows = [['CHANNEL', 'STATE', 'LAST HEARD', 'DETAIL'], channelRow('ethernet', p.ethernet), channelRow('serial', p.serial)];
  const lines = [table(rows)];
  const facts: string[] = [];
  if (p.peer) facts.push(`peer ${p.peer}`);
  if (p.decision) facts.push(`decision: ${p.decision}`);
  facts.push(`alarms: ${p.alarms && p.alarms.length > 0 ? p.alarms.join(', ') : 'none'}`);
  // The decision alone can take most of a line (the twin's view of row 3 is 67 characters).
  lines.push(flow(facts));
  if (detailed && p.extra && p.extra.length > 0) lines.push(pairs(p.extra));
  return lines.join('\n');
}

function channelRow(name: string, c: ChannelView | undefined): string[] {
  if (!c) return [name, 'unknown', '-', ''];
  return [name, c.state, c.state === 'disabled' ? '-' : ago(c.lastHeardMs), c.detail ?? ''];
}

export function nginxLine(p: Part<NginxView>): string {
  if (isUnavailable(p)) return p.unavailable;
  const parts = [p.pid === undefined ? p.state : `${p.state} (pid ${p.pid})`];
  if (p.configHash) parts.push(`config ${p.configHash}`);
  if (p.lastReload) parts.push(`last reload ${p.lastReload.ok ? 'ok' : 'FAILED'} ${ago(p.lastReload.agoMs)}`);
  if (p.upstreams && p.upstreams.length > 0) parts.push(`upstreams ${p.upstreams.filter((u) => u.up).length}/${p.upstreams.length} up`);
  return parts.join(', ');
}

export function renderNginx(p: Part<NginxView>): string {
  if (isUnavailable(p)) return `nginx: ${p.unavailable}`;
  const rows: [string, string][] = [
    ['state', p.state],
    ['pid', p.pid === undefined ? '-' : String(p.pid)],
    ['config', p.configHash ?? '-'],
    ['last reload', p.lastReload ? `${p.lastReload.ok ? 'ok' : `FAILED: ${p.lastReload.error ?? 'unknown error'}`} ${ago(p.lastReload.agoMs)}` : '-'],
    ...(p.extra ?? []),
  ];
  const out = [pairs(rows)];
  if (p.upstreams && p.upstreams.length > 0) {
    out.push('');
    out.push(table([['GROUP', 'SERVER', 'HEALTH', 'DETAIL'], ...p.upstreams.map((u) => [u.group, u.server, u.up ? 'up' : 'DOWN', u.detail ?? ''])]));
  }
  return out.join('\n');
}

export function mqttLine(p: Part<MqttView>): string {
  if (isUnavailable(p)) return p.unavailable;
  const parts = [p.connected ? `connected${p.broker ? ` to ${p.broker}` : ''}` : `DISCONNECTED${p.broker ? ` from ${p.broker}` : ''}`];
  if (p.outbox !== undefined) parts.push(`outbox ${p.outbox}`);
  if (p.lastPublishMs !== undefined) parts.push(`last publish ${ago(p.lastPublishMs)}`);
  if (!p.connected && p.lastError) parts.push(p.lastError);
  return parts.join(', ');
}

export function renderMqtt(p: Part<MqttView>): string {
  if (isUnavailable(p)) return `mqtt: ${p.unavailable}`;
  return pairs([
    ['connection', p.connected ? 'connected' : 'DISCONNECTED'],
    ['broker', p.broker ?? '-'],
    ['outbox', p.outbox === undefined ? '-' : `${p.outbox} event(s) waiting`],
    ['last publish', ago(p.lastPublishMs)],
    ['last error', p.lastError ?? '-'],
    ...(p.extra ?? []),
  ]);
}

/** Every counter, by group, two columns when they fit, zero values included (a zero is news too). */
export function renderCounters(groups: Record<string, Record<string, number>>): string {
  const rows: string[][] = [];
  for (const [group, values] of Object.entries(groups)) {
    for (const [name, v] of Object.entries(values)) rows.push([`${group}.${name}`, String(v)]);
  }
  if (rows.length === 0) return 'no counters';
  const cell = (part: string[][]) => {
    const nw = Math.max(...part.map((r) => r[0]!.length));
    const vw = Math.max(...part.map((r) => r[1]!.length));
    return part.map((r) => `${r[0]!.padEnd(nw)}  ${r[1]!.padStart(vw)}`);
  };
  if (Math.max(...cell(rows).map((l) => l.length)) <= 38) {
    // Two columns keep a long list on one screen.
    const half = Math.ceil(rows.length / 2);
    const left = cell(rows.slice(0, half));
    const right = cell(rows.slice(half));
    const lw = Math.max(...left.map((l) => l.length));
    return left.map((l, i) => (right[i] === undefined ? l : `${l.padEnd(lw)}    ${right[i]}`)).join('\n');
  }
  return table(rows);
}
