// The receive counters of each VRRP interface, in one place so that they add up:
//
//   <if>.read      datagrams read from the interface's VRRP sockets (both families)
//   <if>.accepted  adverts that reached an instance's state machine
//   <if>.dropped   the rest, each under exactly one reason: <if>.drop.<reason> for what no
//                  instance took (own address, unreadable IP header, decode errors, unknown
//                  VRID) plus <instance>.drop.<reason> of the interface's instances
//   read = accepted + dropped, always (a unit test and the flood test hold us to it)
//   <if>.kernel_drops  datagrams the kernel dropped before we could read them (receive queue
//                  full, SO_RXQ_OVFL): read + kernel_drops is what reached the socket
//   <if>.receive_buffer_bytes  the sockets' receive buffers, as the kernel accounts them
// Accepted adverts that carried a warning are <instance>.warning.<name>: part of `accepted`.

import type { DropReason } from '../../vrrp/drop-reasons';
import type { NetIo } from './net-io';
import type { VrrpRunner } from './runner';

export function receiveLedger(runner: VrrpRunner | undefined, io: NetIo | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!runner) return out;
  const sockets = io?.receiveCounters() ?? new Map();
  const rx = runner.interfaceReceive();
  const views = runner.views();
  const ifaces = new Set([...sockets.keys(), ...Object.keys(rx), ...views.map((v) => v.plan.interface)]);
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  for (const iface of ifaces) {
    const s = sockets.get(iface);
    const r = rx[iface];
    const drops: Partial<Record<DropReason, number>> = { ...(r?.drops ?? {}) };
    if (s) {
      drops['own-address'] = (drops['own-address'] ?? 0) + s.droppedOwn;
      drops['ip-header'] = (drops['ip-header'] ?? 0) + s.droppedIpHeader;
    }
    const mine = views.filter((v) => v.plan.interface === iface);
    const accepted = (r?.retiredAccepted ?? 0) + mine.reduce((n, v) => n + v.accepted, 0);
    const dropped = sum(drops as Record<string, number>) + mine.reduce((n, v) => n + sum(v.drops), 0);
    out[`${iface}.read`] = s?.read ?? r?.received ?? 0;
    out[`${iface}.accepted`] = accepted;
    out[`${iface}.dropped`] = dropped;
    out[`${iface}.kernel_drops`] = s?.kernelDrops ?? 0;
    if (s) out[`${iface}.receive_buffer_bytes`] = s.rcvbuf;
    if (s?.receiveErrors) out[`${iface}.receive_errors`] = s.receiveErrors;
    for (const [k, n] of Object.entries(drops)) if (n) out[`${iface}.drop.${k}`] = n;
  }
  return out;
}
