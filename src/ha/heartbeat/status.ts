// The `heartbeat` control command's answer (and the serial `status` request's heartbeat part):
// both channels with how long ago each last heard the twin, the twin's node and its own view as
// its last heartbeat reported it. Pure: everything comes in, ages are computed against `now`.

import type { ArbiterView, Family, Health, HeartbeatFrame } from '../../heartbeat';
import type { PairingLinkStatus } from './pairing-link';

/**
 * The serial heartbeat is not running: not configured, or (`unpaired`) configured with a key file
 * that does not exist yet: the box runs plain VRRP and waits for `twinvip pair` over the cable.
 */
export interface HeartbeatOff {
  enabled: false;
  unpaired?: PairingLinkStatus;
}

export interface HeartbeatStatusInputs {
  now: number;
  device: string;
  nodeId: string;
  open: boolean;
  periodMs: number;
  deadMs: number;
  view: ArbiterView;
  names: (vrid: number, family: Family) => string;
  peerFrame: HeartbeatFrame | undefined;
  peerFrameAt: number | undefined;
  ownConfigHash: string;
  health: Health;
  releasing: string[];
  alarms: { id: string; instance?: string; message: string; since_ms: number }[];
}

export interface HeartbeatStatus {
  enabled: true;
  local: { node_id: string; health: Health; releasing: string[] };
  serial: {
    device: string;
    port_open: boolean;
    ok: boolean;
    period_ms: number;
    dead_ms: number;
    /** null: nothing accepted since start. */
    last_heard_ms_ago: number | null;
  };
  ethernet: { instance: string; vrid: number; family: Family; ok: boolean; last_advert_ms_ago: number | null; split_brain: boolean; decision: string }[];
  peer: {
    node_id: string;
    boot_id: string;
    heard_ms_ago: number | null;
    uptime_ms: number;
    config_hash: string;
    config_matches: boolean;
    health: Health;
    instances: { vrid: number; family: Family; state: string; priority: number; advert_interval_cs: number; address: string; releasing: boolean; hears_our_adverts: boolean | null }[];
  } | null;
  alarms: { id: string; instance?: string; message: string; since_ms: number }[];
  /**
   * Pair mode: the twin's addresses (null before its first heartbeat) and, per instance, whether
   * adverts from anyone else are dropped (false for a mixed group or while the twin is unknown)
   * and the other routers heard on its VRID in the current vrid-conflict episode.
   */
  pair: {
    twin_addresses: string[] | null;
    instances: {
      instance: string;
      mixed_group: boolean;
      twin_only: boolean;
      conflicts: { source: string; priority: number; addresses: string[]; first_seen_ms_ago: number | null; last_seen_ms_ago: number | null; count: number }[];
    }[];
  };
}

const age = (now: number, at: number | null | undefined): number | null => (at === null || at === undefined ? null : Math.max(0, Math.round(now - at)));

export function heartbeatStatus(i: HeartbeatStatusInputs): HeartbeatStatus {
  const f = i.peerFrame;
  return {
    enabled: true,
    local: { node_id: i.nodeId, health: i.health, releasing: i.releasing },
    serial: {
      device: i.device,
      port_open: i.open,
      ok: i.view.serialOk,
      period_ms: i.periodMs,
      dead_ms: i.deadMs,
      last_heard_ms_ago: age(i.now, i.view.lastFrameAt),
    },
    ethernet: i.view.instances.map((x) => ({
      instance: i.names(x.vrid, x.family),
      vrid: x.vrid,
      family: x.family,
      ok: x.ethernetOk,
      last_advert_ms_ago: age(i.now, x.lastAdvertAt),
      split_brain: x.splitBrain,
      decision: x.decision,
    })),
    peer: f
      ? {
          node_id: f.nodeId,
          boot_id: f.bootId,
          heard_ms_ago: age(i.now, i.peerFrameAt),
          uptime_ms: f.uptimeMs,
          config_hash: f.configHash,
          config_matches: f.configHash === i.ownConfigHash,
          health: f.health,
          instances: f.instances.map((r) => ({
            vrid: r.vrid,
            family: r.family,
            state: r.state,
            priority: r.effectivePriority,
            advert_interval_cs: r.advertIntervalCs,
            address: r.address,
            releasing: r.releasing === true,
            hears_our_adverts: r.hearsPeerAdverts ?? null,
          })),
        }
      : null,
    alarms: i.alarms,
    pair: {
      twin_addresses: i.view.twinAddresses ?? null,
      instances: i.view.instances.map((x) => ({
        instance: i.names(x.vrid, x.family),
        mixed_group: x.mixedGroup === true,
        twin_only: x.mixedGroup !== true && (i.view.twinAddresses ?? null) !== null,
        conflicts: (x.conflicts ?? []).map((c) => ({
          source: c.source,
          priority: c.priority,
          addresses: c.addresses,
          first_seen_ms_ago: age(i.now, c.firstSeen),
          last_seen_ms_ago: age(i.now, c.lastSeen),
          count: c.count,
        })),
      })),
    },
  };
}
