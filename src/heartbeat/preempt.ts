// Preempt in one exchange over the serial link (issue 21). A BACKUP that outranks the twin's
// MASTER and has preempt on (after any preempt_delay) would, by RFC 3768/5798, wait for its
// Master_Down timer (3 x interval + skew) and then take over while the old master still holds
// the VIP until it hears the new one. With the serial link the pair agrees instead:
//   1. the returning box (BACKUP, VrrpInstance snapshot 'preemptReadySince') has been ready for
//      the hold-down and sets wantsMaster in its heartbeat for the instance;
//   2. the twin, MASTER with a lower priority, takes that as a claim (arbiter: 'peer-claim'),
//      steps down, removes its VIPs and sends a release frame;
//   3. the release makes the returning box MASTER at once (no skew: the twin is the only other
//      router of the VRID).
// The hold-down (instances.<name>.preempt_hold_down, default 0.5 s) is how long the returning
// box must have been ready without a break — any transition (a flapping link putting it back in
// FAULT) starts it over — so a flapping link never moves the VIP faster than that; the RFC path
// (Master_Down) is untouched. nopreempt never sets the flag. Pure.

export const DEFAULT_PREEMPT_HOLD_DOWN_MS = 500;

/** When the preempt request goes out (absolute ms), or null when this BACKUP is not preempting. */
export function preemptDueAt(readySince: number | null, holdDownMs: number): number | null {
  return readySince === null ? null : readySince + Math.max(0, holdDownMs);
}

/** Whether the heartbeat asks the twin to hand the instance over now. */
export function wantsMaster(readySince: number | null, holdDownMs: number, now: number): boolean {
  const due = preemptDueAt(readySince, holdDownMs);
  return due !== null && now >= due;
}
