// Shared by the diagnosis's netns tests (issue 23): ask a box for its diagnosis over the control
// socket, wait for a `diagnosis: CAUSE (WHERE): ...` log line written after a mark, check that
// neither box names a cause outside the expected ones, and load an nft script into a namespace.
import { writeFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { requestOnce } from '../../../src/control';
import type { Netns } from '../helpers/netns';
import type { Box, PairLab } from '../heartbeat-pair/pair-lab';

export interface Finding { cause: string; where: string; instance?: string; evidence: string; fix: string }
export interface Section { healthy: boolean; twin: string | null; findings: Finding[]; notes: string[] }

export async function diagnosis(box: Box): Promise<Section> {
  const r = await requestOnce(box.socket, 'diagnose', undefined, { timeoutMs: 20_000 });
  if (!r.ok || r.response.status !== 'ok') throw new Error(`diagnose on ${box.id} failed: ${JSON.stringify(r)}`);
  return r.response.data as Section;
}

/**
 * Waits for `diagnosis: CAUSE (WHERE)` in `box`'s log written after `from` (a log offset). `ms`
 * is from `since` to the line's own timestamp (the daemon's log time, the same clock), so a line
 * looked for after another one is not timed by when the test got to it.
 */
export async function named(p: PairLab, box: Box, from: number, cause: string, where: string, since: number): Promise<{ line: string; ms: number }> {
  const re = new RegExp(`^(\\S+)[^\\n]*diagnosis: ${cause} \\(${where}\\): ([^\\n]*)`, 'm');
  const m = await p.waitFor(() => re.exec(box.log().slice(from)), () => `${cause} (${where}) on ${box.id}${p.logs()}`, 30_000);
  const at = Date.parse(m[1]!);
  return { line: m[0], ms: Number.isFinite(at) ? at - since : Date.now() - since };
}

/** Neither box names anything but `allowed` (cause ids); returns both boxes' findings. */
export async function onlyNamed(p: PairLab, allowed: string[]): Promise<Finding[][]> {
  const all: Finding[][] = [];
  for (const box of [p.a, p.b]) {
    const d = await diagnosis(box);
    const wrong = d.findings.filter((f) => !allowed.includes(f.cause));
    expect(wrong, `${box.id} named ${JSON.stringify(wrong)}`).toEqual([]);
    all.push(d.findings);
  }
  return all;
}

/**
 * Both boxes' diagnosis healthy and the pair back in its roles (one MASTER, one BACKUP): a case
 * can leave a box in FAULT after its own cause is gone (the nft output rule broke a's VRRP socket,
 * reopened 5 s later), and a fault injected then is named only once that box sends again.
 */
export async function healthyAgain(p: PairLab): Promise<void> {
  await p.waitFor(
    async () => (await diagnosis(p.a)).healthy && (await diagnosis(p.b)).healthy && [await p.state(p.a), await p.state(p.b)].sort().join() === 'BACKUP,MASTER',
    () => `both healthy again, one MASTER and one BACKUP${p.logs()}`,
    60_000,
  );
}

export async function nft(p: PairLab, ns: Netns, script: string): Promise<void> {
  const file = `${p.dir}/rules-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.nft`;
  await writeFile(file, script);
  await ns.run('nft', ['-f', file]);
}

/**
 * A LAN host takes an address the way hosts do (RFC 5227 2.3: configure it, then announce it
 * with a gratuitous ARP): what the passive conflict watch (issue 22) hears. A host that takes an
 * address silently is found by `twinvip diagnose`'s probe or when it first sends ARP with it.
 */
export async function claimAddress(ns: Netns, dev: string, ip: string): Promise<void> {
  await ns.run('ip', ['addr', 'add', `${ip}/24`, 'dev', dev]);
  await ns.run('arping', ['-U', '-c', '1', '-I', dev, ip]);
}
