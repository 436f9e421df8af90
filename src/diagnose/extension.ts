// `twinvip run`'s split-brain diagnosis, on the main thread (never on the HA timing path): every
// PERIOD_MS it gathers this box's evidence (gather.ts), asks the twin for its own over the serial
// link (the `diagnose` request: works with the Ethernet path cut), runs a LAN probe round when a
// direction of the Ethernet channel looks lost (to tell one-way loss from a cut), and runs the pure
// diagnosis (diagnosis.ts). New findings are logged and raised as alarms carrying their cause id;
// the latest diagnosis is the `diagnosis` section of `status` and of the MQTT state, and the
// `diagnose` control command (CLI `twinvip diagnose`, console `diagnose`) runs one at once.
//
// Besides the period, a diagnosis runs at once when something it watches changes: a transition or
// an HA alarm (a heartbeat channel lost), a firewall change (`nft monitor`), a conflicting ARP. The
// twin is answered with evidence gathered for the answer (not the last period's), so what the twin
// sees of us is as old as its question.
//
// TWINVIP_DIAGNOSE=off in the daemon's environment turns the periodic diagnosis off (no nft,
// ARP watch or serial requests of its own; bench/steady.mjs --diagnose off): `twinvip diagnose` and
// the console's `diagnose` still run one on demand, and the twin is still answered.

import { performance } from 'node:perf_hooks';
import type { DaemonContext, DaemonEvents, Extension } from '../daemon';
import type { HaRunnerPort, HeartbeatPort } from '../ha/worker/host';
import type { SubsystemLogger } from '../log';
import { advertOverdue, DEFAULT_SERIAL_WINDOW_MS, DEFAULT_WINDOW_MS, diagnose, renderDiagnosis, someDirectionLost, type Diagnosis } from './diagnosis';
import { TWIN_EVIDENCE_MAX_AGE_MS, type CauseId, type Finding, type InstanceEvidence, type PairEvidence, type SideEvidence } from './evidence';
import { EvidenceGatherer, forTwin, parseSideEvidence } from './gather';

/** The serial request name the twin answers with its evidence. */
export const DIAGNOSE_REQUEST = 'diagnose';
/**
 * The request for the advert times alone (per instance: when it sent its last adverts, when it
 * last heard the twin's): an answer of one serial chunk, so its round trip is short and bounds
 * well when the twin read them (the full evidence takes many chunks: too loose a bound).
 */
export const ADVERTS_REQUEST = 'diagnose-adverts';
const ADVERTS_TIMEOUT_MS = 1000;
/** A lost direction with no cause for it yet is looked at every OVERDUE_RECHECK_MS for this long. */
const UNDECIDED_RECHECK_FOR_MS = 5000;
/** What a lost direction is named as, or explained by. */
const DIRECTION_CAUSES: ReadonlySet<CauseId> = new Set(['one-way-loss', 'path-cut', 'vrrp-filtered', 'link-down', 'nic-errors', 'firewall-drops-vrrp', 'settings-mismatch', 'auth-mismatch', 'peer-address-mismatch']);
export const PERIOD_MS = 1000;
/**
 * While a MASTER's advert is overdue at the other box (not yet two missed: no verdict), the next
 * diagnosis comes this soon instead of a period later, so a lost direction is named about when
 * the second advert is missed.
 */
export const OVERDUE_RECHECK_MS = 250;
const TWIN_TIMEOUT_MS = 2500;
/** An evidence gathered this recently answers the twin as it is (the diagnosis relies on this bound). */
const FRESH_MS = TWIN_EVIDENCE_MAX_AGE_MS;
/**
 * Without the twin's evidence (a question lost on a noisy line, the serial link down) findings
 * that came from it are not cleared, for this long after its last answer: unknown is not healthy.
 */
const TWIN_GRACE_MS = 30_000;
/** The twin's MACs are handed to the HA path again this often even when unchanged. */
const LINK_REFRESH_MS = 30_000;
/** Causes named from this box's own evidence alone (cleared without the twin). */
const LOCAL_CAUSES: ReadonlySet<CauseId> = new Set(['link-down', 'nic-errors', 'serial-line-degrading', 'firewall-drops-vrrp', 'address-conflict', 'vrid-conflict']);

/** The periodic diagnosis runs unless the daemon's environment says TWINVIP_DIAGNOSE=off. */
export function periodicDiagnosis(env: NodeJS.ProcessEnv = process.env): boolean {
  return !/^(off|0|false|no)$/i.test(env.TWINVIP_DIAGNOSE ?? '');
}

/** What the diagnosis needs of the HA path (src/ha/worker/host.ts's HaExtension). */
export interface DiagnoseHaPort {
  readonly vrrp: HaRunnerPort | undefined;
  readonly heartbeat: HeartbeatPort;
  counters(): Record<string, Record<string, number>>;
  command(name: string, args: Record<string, unknown>): Promise<unknown>;
  refresh(): Promise<void>;
  freshState(): Promise<void>;
}

export interface DiagnosisSection {
  healthy: boolean;
  /** false: TWINVIP_DIAGNOSE=off, the diagnosis runs only on demand (`twinvip diagnose`). */
  periodic: boolean;
  /** ISO time of the diagnosis; null before the first. */
  at: string | null;
  twin: string | null;
  findings: Finding[];
  notes: string[];
}

export class DiagnoseExtension implements Extension {
  readonly name = 'diagnose';
  private ctx: DaemonContext | undefined;
  private log: SubsystemLogger | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly gatherer = new EvidenceGatherer();
  private local: SideEvidence | undefined;
  private last: { diagnosis: Diagnosis; at: number; twin: string | null } | undefined;
  private running: Promise<Diagnosis> | undefined;
  private readonly active = new Map<string, Finding>();
  private twinName: string | undefined;
  private readonly unregister: (() => void)[] = [];
  private stopped = false;
  private gathering: Promise<SideEvidence> | undefined;
  /** A change arrived while a diagnosis ran: run another right after it. */
  private again = false;
  /** The last diagnosis saw an advert overdue: the next one comes in OVERDUE_RECHECK_MS. */
  private overdue = false;
  /** Since when a direction has been lost (for the quick re-checks while undecided). */
  private lostSince: number | undefined;
  /** The twin's MACs from its last evidence, kept while its evidence is missing (a crashed daemon). */
  private twinMacs: { node: string; macs: string[] } | undefined;
  readonly counters = { runs: 0, twin_answers: 0, twin_failures: 0, probe_rounds: 0, findings_raised: 0, findings_cleared: 0, kicks: 0 };

  constructor(
    private readonly ha: DiagnoseHaPort,
    private readonly periodic = true,
  ) {}

  start(ctx: DaemonContext): void {
    this.ctx = ctx;
    this.log = ctx.logger.for('heartbeat');
    this.stopped = false;
    this.ha.heartbeat.answerWith(DIAGNOSE_REQUEST, () => this.answerTwin());
    this.ha.heartbeat.answerWith(ADVERTS_REQUEST, async () => JSON.stringify(await this.advertTimes()));
    this.unregister.push(
      ctx.control.register('diagnose', async () => this.section(await this.onDemand()), {
        summary: 'split-brain diagnosis now: causes with evidence and fix, asking the twin over serial',
      }),
    );
    this.unregister.push(ctx.counters.add('diagnose', () => ({ ...this.counters, ...prefixed('arp.', this.gatherer.arpStats()) })));
    if (!this.periodic) {
      this.log.info('diagnosis: periodic diagnosis off (TWINVIP_DIAGNOSE=off); `twinvip diagnose` runs one on demand');
      return;
    }
    this.gatherer.start(() => this.kick());
    this.unregister.push(ctx.bus.on('transition', (t) => {
      // Taking a VIP: one RFC 5227 probe for it (a box that still holds it silently answers).
      if (t.to === 'MASTER') this.gatherer.probeSoon();
      this.kick();
    }));
    this.unregister.push(ctx.bus.on('alarm', (a) => {
      if (!a.id.startsWith('diagnosis-')) this.kick();
    }));
    this.schedule(PERIOD_MS);
  }

  /** The next periodic diagnosis in `ms` (the period counts from the start of the last one). */
  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick(), Math.max(0, ms));
    this.timer.unref();
  }

  private tick(): void {
    this.timer = undefined;
    const began = performance.now();
    void this.runOnce().finally(() => {
      if (this.again) {
        this.again = false;
        this.schedule(0);
      } else this.schedule((this.overdue ? OVERDUE_RECHECK_MS : PERIOD_MS) - (performance.now() - began));
    });
  }

  /** Something the diagnosis watches changed: diagnose now rather than at the next period. */
  private kick(): void {
    if (this.stopped) return;
    this.counters.kicks++;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.gatherer.stop();
    for (const u of this.unregister.splice(0)) u();
    await this.running?.catch(() => undefined);
  }

  /**
   * The twin asks for our evidence: the last gathered, with the LAN probe counter read now (the
   * twin asks right after a probe round to see whether its questions reached us).
   */
  private async answerTwin(): Promise<string | undefined> {
    let local: SideEvidence | undefined;
    try {
      // Gathered for this answer (unless one just was): the twin judges our side as it is now.
      local = this.local && performance.now() - this.localMoment < FRESH_MS ? this.local : await this.gatherLocal();
    } catch (err) {
      this.log?.debug(`evidence for the twin failed: ${err instanceof Error ? err.message : String(err)}`);
      local = this.local;
    }
    if (!local) return undefined;
    let probe = local.probe;
    if (probe) {
      await this.ha.freshState();
      probe = { ...probe, questions_answered: this.ha.counters().heartbeat?.['probe.questions_answered'] ?? probe.questions_answered };
    }
    const text = JSON.stringify(forTwin({ ...local, probe }, DEFAULT_WINDOW_MS, DEFAULT_SERIAL_WINDOW_MS));
    // One serial response holds 16 KiB: a cut text is refused by the twin's parser, never misread.
    return text.length <= 16 * 1024 ? text : JSON.stringify({ error: 'evidence-too-large', node: local.node });
  }

  private readonly twinListeners: ((name: string) => void)[] = [];

  /** Called when the twin's node name is learned or changes (the MQTT state's pair id follows). */
  onTwinNode(listener: (name: string) => void): void {
    this.twinListeners.push(listener);
  }

  /** The twin's node name as its evidence last gave it (issue 24: the pair id). */
  twinNode(): string | undefined {
    return this.twinName;
  }

  /** The cause id of an active finding for this instance (alarms carry it). */
  causeFor(instance: string | undefined): CauseId | undefined {
    const all = [...this.active.values()];
    return (all.find((f) => instance !== undefined && f.instance === instance) ?? (all.length === 1 ? all[0] : undefined))?.cause;
  }

  /** The `diagnosis` section of status and the MQTT state. */
  section(d: Diagnosis | undefined = this.last?.diagnosis): DiagnosisSection {
    return {
      healthy: d ? d.findings.length === 0 : true,
      periodic: this.periodic,
      at: this.last ? new Date(this.last.at).toISOString() : null,
      twin: this.last?.twin ?? null,
      findings: d?.findings ?? [],
      notes: d?.notes ?? [],
    };
  }

  /** The latest diagnosis as text (console). */
  async text(): Promise<string> {
    const d = await this.onDemand();
    const twin = this.last?.twin;
    return `${renderDiagnosis(d)}\n(${twin ? `with twin ${twin}'s evidence over serial` : "without the twin's evidence"})`;
  }

  /**
   * A diagnosis asked for (`twinvip diagnose`, the console): with an active RFC 5227 probe of
   * every watched address first (the passive watch hears a host that claims one of our addresses
   * only when it sends ARP), and not one that began before the probe's answers.
   */
  private async onDemand(): Promise<Diagnosis> {
    if (!this.local) await this.gatherLocal().catch(() => undefined); // the addresses to probe
    await this.gatherer.probeNow();
    await this.running?.catch(() => undefined);
    return this.runOnce();
  }

  /** One diagnosis; concurrent callers share the one in progress. */
  runOnce(): Promise<Diagnosis> {
    this.running ??= this.cycle().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** When the ages in this.local were taken (its views and heartbeat state read). */
  private localMoment = -Infinity;
  private probeOut: { dir: 'ok' | 'lost'; at: number } | undefined;

  /** This box's evidence now; concurrent callers (a diagnosis, the twin's question) share one. */
  private gatherLocal(): Promise<SideEvidence> {
    this.gathering ??= this.gatherNow()
      .then(({ local, moment }) => {
        this.local = local;
        this.localMoment = moment;
        return local;
      })
      .finally(() => {
        this.gathering = undefined;
      });
    return this.gathering;
  }

  private async gatherNow(): Promise<{ local: SideEvidence; moment: number }> {
    const ctx = this.ctx!;
    await this.ha.refresh();
    const runner = this.ha.vrrp;
    const moment = performance.now();
    const hb = this.ha.heartbeat.status();
    const local = await this.gatherer.gather({
      node: ctx.config.node.name,
      nodeId: hb.enabled ? hb.local.node_id : '',
      uptimeMs: Date.now() - ctx.startedAt,
      runnerNow: runner?.now() ?? 0,
      views: runner?.views() ?? [],
      heartbeat: hb,
      counters: this.ha.counters(),
      now: performance.now(),
    });
    if (local.probe && this.probeOut) local.probe = { ...local.probe, out: { dir: this.probeOut.dir, ms_ago: Math.round(performance.now() - this.probeOut.at) } };
    return { local, moment };
  }

  private async cycle(): Promise<Diagnosis> {
    this.counters.runs++;
    let local = await this.gatherLocal();
    const hb = this.ha.heartbeat.status();
    const ev: PairEvidence = { local, twin: null };
    if (!hb.enabled) ev.twin_unknown_reason = 'no serial heartbeat configured';
    else if (!hb.serial.ok) ev.twin_unknown_reason = 'serial heartbeat lost: the twin cannot be asked';
    else {
      const twin = await this.askTwin(ev);
      ev.twin = twin;
      await this.alignAdvertTimes(ev);
      if (twin && local.probe && someDirectionLost(ev)) {
        // Tell one-way loss from a cut: our probe's questions reaching the twin show in its
        // answered-questions counter; its answers reaching us in the round's verdict. With the
        // twin's MAC (its evidence), the questions also go to it as frames: they leave even when
        // our neighbour entry for the twin has failed (a one-way fault).
        const before = twin.probe?.questions_answered;
        try {
          const r = (await this.ha.command('heartbeat', { probe: true, link_macs: linkMacs(local, twin) })) as { answered: boolean | null };
          this.counters.probe_rounds++;
          // Both sides again, gathered after the round, and their advert times read together.
          local = await this.gatherLocal();
          local = { ...local, probe: local.probe ? { ...local.probe, answered: r.answered } : null };
          ev.local = local;
          const after = await this.askTwin(ev);
          if (after && before !== undefined && r.answered !== null) {
            ev.twin = after;
            await this.alignAdvertTimes(ev);
            ev.twin_questions_before = before;
            // Our outgoing direction, for the twin (its own round cannot see it when ours is lost).
            const reached = r.answered || (after.probe?.questions_answered ?? 0) > before;
            this.probeOut = { dir: reached ? 'ok' : 'lost', at: performance.now() };
          } else {
            // No consistent pair of evidence after the round: no early verdict from it.
            delete ev.twin_ask_ms;
          }
        } catch (err) {
          this.log?.debug(`probe round failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    if (ev.twin) this.handOverLink(linkMacs(ev.local, ev.twin));
    if (ev.twin) this.twinMacs = { node: ev.twin.node, macs: [...new Set(ev.twin.nics.map((n) => n.mac.toLowerCase()).filter((m) => m !== '' && m !== '00:00:00:00:00:00'))] };
    if (this.twinMacs) ev.twin_macs = this.twinMacs;
    const d = diagnose(ev);
    // Look again soon while an advert is overdue, and while a lost direction is not told yet (the
    // twin's own probe round, which the verdict may need, comes with its next answer), for a while.
    const lost = someDirectionLost(ev);
    if (!lost) this.lostSince = undefined;
    else this.lostSince ??= performance.now();
    const undecided = lost && !d.findings.some((f) => DIRECTION_CAUSES.has(f.cause)) && performance.now() - this.lostSince! < UNDECIDED_RECHECK_FOR_MS;
    this.overdue = advertOverdue(ev) || undecided;
    if (ev.twin) this.twinAt = performance.now();
    this.last = { diagnosis: d, at: Date.now(), twin: ev.twin?.node ?? null };
    this.report(d, ev.twin !== null, local.node);
    return d;
  }

  private linkHandedOver: { text: string; at: number } | undefined;

  /**
   * The twin's MACs (from its evidence over serial) to the HA path, whose own probe rounds (the
   * takeover decision with the serial link cut) then send their questions to them as frames too.
   * When they change, and again every LINK_REFRESH_MS (the HA thread keeps them in memory).
   */
  private handOverLink(link: Record<string, { own: string; twin: string }>): void {
    const text = JSON.stringify(link);
    if (Object.keys(link).length === 0) return;
    if (this.linkHandedOver && this.linkHandedOver.text === text && performance.now() - this.linkHandedOver.at < LINK_REFRESH_MS) return;
    this.linkHandedOver = { text, at: performance.now() };
    this.ha.command('heartbeat', { twin_link: link }).catch((err: unknown) => {
      this.linkHandedOver = undefined;
      this.log?.debug(`twin MACs not handed to the HA path: ${err instanceof Error ? err.message : String(err)}`);
    });
  }

  /** This box's advert times now, per instance (the ADVERTS_REQUEST answer). */
  private async advertTimes(): Promise<AdvertTimes[]> {
    await this.ha.refresh();
    const runner = this.ha.vrrp;
    const hb = this.ha.heartbeat.status();
    const now = runner?.now() ?? 0;
    return (runner?.views() ?? []).map((v) => {
      const eth = hb.enabled ? hb.ethernet.find((e) => e.vrid === v.plan.params.vrid && e.family === v.plan.family) : undefined;
      const last = v.snapshot.lastTransition;
      return {
        vrid: v.plan.params.vrid,
        family: v.plan.family,
        state: v.snapshot.state,
        ...(last ? { state_ms: Math.max(0, Math.round(now - last.at)) } : {}),
        sent_ms_ago: v.sentAt.map((t) => Math.max(0, Math.round(now - t))).reverse(),
        last_twin_advert_ms_ago: eth ? eth.last_advert_ms_ago : null,
      };
    });
  }

  /**
   * Both boxes' advert times read together (ours, then the twin's over serial in one short
   * exchange) replace those of the evidence, with the exchange's duration as the bound on when
   * the twin read its own. Without an answer the evidence carries no such bound (no early verdict).
   */
  private async alignAdvertTimes(ev: PairEvidence): Promise<void> {
    delete ev.twin_ask_ms;
    const T = ev.twin;
    if (!T) return;
    const ours = await this.advertTimes();
    const asked = performance.now();
    const r = await this.ha.heartbeat.requestPeer(ADVERTS_REQUEST, ADVERTS_TIMEOUT_MS);
    if (!r.ok) return;
    const ask = performance.now() - asked;
    let theirs: AdvertTimes[];
    try {
      const v = JSON.parse(r.body) as unknown;
      if (!Array.isArray(v)) return;
      theirs = v.filter((x): x is AdvertTimes => typeof x === 'object' && x !== null && typeof (x as AdvertTimes).vrid === 'number' && Array.isArray((x as AdvertTimes).sent_ms_ago));
    } catch {
      return;
    }
    const put = (side: SideEvidence, times: AdvertTimes[]) => {
      side.instances = side.instances.map((i) => {
        const t = times.find((x) => x.vrid === i.vrid && x.family === i.family);
        if (!t) return { ...i, sent_ms_ago: [] };
        const out: InstanceEvidence = { ...i, sent_ms_ago: t.sent_ms_ago, last_twin_advert_ms_ago: t.last_twin_advert_ms_ago };
        // The state read with the send times (an older twin sends none: the evidence's stands).
        if (typeof t.state === 'string') {
          out.state = t.state;
          if (typeof t.state_ms === 'number') out.state_ms = t.state_ms;
          else delete out.state_ms;
        }
        return out;
      });
    };
    ev.local = { ...ev.local };
    ev.twin = { ...T };
    put(ev.local, ours);
    put(ev.twin, theirs);
    ev.twin_ask_ms = Math.round(ask);
  }

  private async askTwin(ev: PairEvidence): Promise<SideEvidence | null> {
    const r = await this.ha.heartbeat.requestPeer(DIAGNOSE_REQUEST, TWIN_TIMEOUT_MS);
    if (!r.ok) {
      this.counters.twin_failures++;
      ev.twin_unknown_reason = `the twin did not answer over serial (${r.error})`;
      return null;
    }
    const twin = parseSideEvidence(r.body);
    if (!twin) {
      this.counters.twin_failures++;
      // An older twin answers {"error":"unknown-request"}; a twin still starting has no evidence yet.
      ev.twin_unknown_reason = r.body.includes('unknown-request') ? 'the twin runs a version without diagnosis' : 'the twin has no evidence yet';
      return null;
    }
    this.counters.twin_answers++;
    if (twin.node !== this.twinName) {
      this.twinName = twin.node;
      for (const l of this.twinListeners) l(twin.node);
    }
    return twin;
  }

  private twinAt = -Infinity;

  private report(d: Diagnosis, twinKnown: boolean, self: string): void {
    const key = (f: Finding) => `${f.cause}|${f.instance ?? ''}|${f.where}|${f.subject}`;
    const now = new Map(d.findings.map((f) => [key(f), f]));
    // A finding that needs the twin's evidence stays while that evidence is briefly missing.
    const keep = (f: Finding) => !twinKnown && performance.now() - this.twinAt < TWIN_GRACE_MS && !(f.where === self && LOCAL_CAUSES.has(f.cause));
    for (const [k, f] of now) {
      if (this.active.has(k)) {
        this.active.set(k, f);
        continue;
      }
      this.active.set(k, f);
      this.counters.findings_raised++;
      const log = f.instance ? this.log!.forInstance(f.instance) : this.log!;
      log.warn(`diagnosis: ${f.cause} (${f.where}): ${f.evidence}; fix: ${f.fix}`);
      this.emit(f, true);
    }
    for (const [k, f] of [...this.active]) {
      if (now.has(k) || keep(f)) continue;
      this.active.delete(k);
      this.counters.findings_cleared++;
      (f.instance ? this.log!.forInstance(f.instance) : this.log!).info(`diagnosis: ${f.cause} (${f.where}) no longer seen`);
      this.emit(f, false);
    }
  }

  private emit(f: Finding, active: boolean): void {
    const alarm: DaemonEvents['alarm'] = {
      id: `diagnosis-${f.cause}`,
      active,
      severity: 'warning',
      message: active ? `${f.cause} (${f.where}): ${f.evidence}; fix: ${f.fix}` : `${f.cause} (${f.where}) no longer seen`,
      cause: f.cause,
      ...(f.instance ? { instance: f.instance } : {}),
      at: Date.now(),
    };
    this.ctx?.bus.emit('alarm', alarm);
  }
}

/**
 * Per local interface, our MAC and the twin's on the interface of its instance with the same
 * VRID (the twin's interface may have another name): where the probe's frames go.
 */
export function linkMacs(local: SideEvidence, twin: SideEvidence): Record<string, { own: string; twin: string }> {
  const out: Record<string, { own: string; twin: string }> = {};
  for (const li of local.instances) {
    const ti = twin.instances.find((x) => x.vrid === li.vrid && x.family === li.family);
    const own = local.nics.find((n) => n.name === li.interface)?.mac;
    const theirs = ti ? twin.nics.find((n) => n.name === ti.interface)?.mac : undefined;
    if (own && theirs && !(li.interface in out)) out[li.interface] = { own, twin: theirs };
  }
  return out;
}

/** One instance's advert times, as the ADVERTS_REQUEST answer carries them. */
interface AdvertTimes {
  vrid: number;
  family: 4 | 6;
  /** The state and ms in it when the times were read (absent from an older twin). */
  state?: string;
  state_ms?: number;
  sent_ms_ago: number[];
  last_twin_advert_ms_ago: number | null;
}

function prefixed(prefix: string, o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${prefix}${k}`, v]));
}
