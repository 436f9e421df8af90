// VRRP timer arithmetic, exactly as the RFCs give it. All results are in milliseconds and are
// not rounded (v2 skew for priority 100 is 609.375 ms); the shell may round when arming a timer.

import type { VrrpVersion } from './types';

/**
 * Skew_Time.
 * - v2 (RFC 3768 §6.1): (256 − Priority) / 256 seconds, independent of the advert interval.
 * - v3 (RFC 5798 §6.1): ((256 − Priority) × Master_Adver_Interval) / 256 centiseconds.
 */
export function skewTimeMs(version: VrrpVersion, priority: number, masterAdverIntervalCs: number): number {
  if (version === 2) return ((256 - priority) * 1000) / 256;
  return ((256 - priority) * masterAdverIntervalCs * 10) / 256;
}

/**
 * Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time (RFC 3768 §6.1 with the v2
 * Advertisement_Interval; RFC 5798 §6.1 with the learned Master_Adver_Interval).
 */
export function masterDownIntervalMs(
  version: VrrpVersion,
  priority: number,
  masterAdverIntervalCs: number,
): number {
  return 3 * masterAdverIntervalCs * 10 + skewTimeMs(version, priority, masterAdverIntervalCs);
}
