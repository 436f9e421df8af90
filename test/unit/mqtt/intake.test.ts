// The request intake with fake deps: rate limit before reading, one request per loop turn,
// refusals counted by reason and audited (individually up to a rate, then summarised), nonces
// remembered across a restart.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfigText, type TwinvipConfig } from '../../../src/config';
import { publicKeyText } from '../../../src/fleet/keys';
import { signRequest } from '../../../src/fleet/signed-request';
import type { AuditRecord } from '../../../src/mqtt/commands/audit';
import { RequestIntake, type CommandOutcome } from '../../../src/mqtt/commands/intake';
import { NonceCache } from '../../../src/mqtt/commands/nonce-cache';
import { TokenBucket } from '../../../src/mqtt/commands/rate-limit';
import type { ResponseEnvelope } from '../../../src/mqtt/envelope';
import { makeTempDir } from '../../helpers/tmp';
import { waitFor } from '../../helpers/wait';

const dir = makeTempDir('tvintake-');
afterAll(() => dir.remove());
const key = generateKeyPairSync('ed25519').privateKey;

function config(commands: Record<string, unknown> = {}): TwinvipConfig {
  const r = parseConfigText(JSON.stringify({
    node: { name: 'gw', state_dir: dir.path },
    mqtt: { enabled: true, url: 'mqtts://b', commands: { enabled: true, ...commands } },
    trusted_keys: { ops: { role: 'operator', public_key: publicKeyText(key) } },
  }));
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

function intake(cfg: TwinvipConfig, clock = { now: Date.now() }) {
  const replies: { command: string; r: ResponseEnvelope }[] = [];
  const audits: AuditRecord[] = [];
  const ran: string[] = [];
  const listening: boolean[] = [];
  const alarms: { active: boolean; message: string; durationMs?: number }[] = [];
  const timers = new FakeTimers(clock);
  const i = new RequestIntake({
    now: () => clock.now,
    log: () => undefined,
    audit: (a) => audits.push(a),
    reply: (command, r) => replies.push({ command, r }),
    run: async (req): Promise<CommandOutcome> => (ran.push(req.command), { response: { status: 'ok' } }),
    listen: (on) => listening.push(on),
    floodAlarm: (active, message, durationMs) => alarms.push({ active, message, ...(durationMs !== undefined ? { durationMs } : {}) }),
    timers,
  });
  i.configure(cfg);
  const send = (command: string, payload: string) => i.receive(`twinvip/gw/request/${command}`, command, Buffer.from(payload), { retain: false }, {});
  const sign = (command: string, args: unknown = {}) => JSON.stringify(signRequest(key, `twinvip/gw/request/${command}`, args, { now: clock.now, validSeconds: 30 }));
  return { i, replies, audits, ran, send, sign, clock, listening, alarms, timers };
}

/** Timers on the test's clock: advance() moves it and fires what is due, in order. */
class FakeTimers {
  private due: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  constructor(private readonly clock: { now: number }) {}
  set = (fn: () => void, ms: number): unknown => {
    const id = this.next++;
    this.due.push({ at: this.clock.now + ms, fn, id });
    return id;
  };
  clear = (h: unknown): void => {
    this.due = this.due.filter((t) => t.id !== h);
  };
  get pending(): number {
    return this.due.length;
  }
  advance(ms: number): void {
    const end = this.clock.now + ms;
    for (;;) {
      this.due.sort((a, b) => a.at - b.at);
      const t = this.due[0];
      if (!t || t.at > end) break;
      this.due.shift();
      this.clock.now = t.at;
      t.fn();
    }
    this.clock.now = end;
  }
}

describe('token bucket', () => {
  it('allows burst back to back, then rate per second', () => {
    const b = new TokenBucket(10, 3);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).toEqual([true, true, true, false]);
    expect(b.take(50)).toBe(false);
    expect(b.take(100)).toBe(true);
    expect(b.take(100)).toBe(false);
  });
});

describe('nonce cache', () => {
  it('refuses a nonce until it expires and is bounded', () => {
    const c = new NonceCache(2);
    expect(c.admit('a', 100, 0)).toBe('fresh');
    expect(c.admit('a', 100, 50)).toBe('replay');
    expect(c.admit('b', 200, 50)).toBe('fresh');
    expect(c.admit('c', 200, 50)).toBe('full');
    expect(c.admit('c', 200, 101)).toBe('fresh'); // a expired, its slot reused
    expect(c.admit('a', 300, 150)).toBe('full');
    expect(c.entries(150).map(([n]) => n).sort()).toEqual(['b', 'c']);
  });
});

describe('request intake', () => {
  it('a flood beyond rate and burst is dropped unread and counted; the rest are answered one per turn', async () => {
    const t = intake(config({ rate: 1, burst: 5, shed_after: 0 }));
    for (let k = 0; k < 200; k++) t.send('status', '{"junk": true}');
    await waitFor(() => t.replies.length === 5, { what: '5 answers' });
    expect(t.i.refusals['rate-limited']).toBe(195);
    expect(t.i.refusals.unsigned).toBe(5);
    expect(t.replies.every((x) => x.r.status === 'error' && /^refused \(unsigned\)/.test(x.r.error!))).toBe(true);
    expect(t.ran).toEqual([]);
    // Audited: a few individually, the rest in one summary with counts by reason.
    const single = t.audits.filter((a) => a.kind === 'request-refused');
    expect(single.length).toBeGreaterThan(0);
    expect(single.length).toBeLessThanOrEqual(10);
    t.i.audit.flush();
    const summary = t.audits.find((a) => a.kind === 'refusals-summary');
    expect(summary?.counts?.['rate-limited']).toBe(195);
    expect(single.length + (summary?.counts?.unsigned ?? 0)).toBe(5);
    expect(t.i.counterSnapshot()).toMatchObject({ requests: 200, refused: 200, accepted: 0, refused_rate_limited: 195, refused_unsigned: 5 });
  });

  it('a flood past shed_after stops the box listening for shed_pause, doubled while it goes on; the alarm clears after a calm minute', async () => {
    const t = intake(config({ rate: 1, burst: 5, shed_after: 50, shed_pause: 10 }));
    for (let k = 0; k < 200; k++) t.send('status', '{"junk": true}');
    // 5 in the burst, 50 dropped by the rate limit, then not listening: 145 dropped as shed, and
    // the 5 admitted before the pause (still queued) dropped too, never run.
    expect(t.listening).toEqual([false]);
    expect(t.alarms).toEqual([{ active: true, message: expect.stringMatching(/^request flood: 50 requests over the rate limit within 1 s; not listening to requests for 10 s/) }]);
    expect(t.i.listening).toBe(false);
    expect(t.i.counterSnapshot()).toMatchObject({ requests: 200, refused_rate_limited: 50, refused_shed: 150, flood_pauses: 1 });
    await new Promise((r) => setImmediate(r));
    expect(t.replies.length).toBe(0);
    expect(t.ran).toEqual([]);

    t.timers.advance(9_999);
    expect(t.listening).toEqual([false]);
    t.timers.advance(1);
    expect(t.listening).toEqual([false, true]);
    expect(t.i.listening).toBe(true);
    // The flood is still there: paused again, for 20 s.
    t.clock.now += 200;
    for (let k = 0; k < 100; k++) t.send('status', '{}');
    expect(t.listening).toEqual([false, true, false]);
    expect(t.alarms[1]!.message).toMatch(/not listening to requests for 20 s \(pause 2: the flood went on\)/);
    t.timers.advance(20_000);
    expect(t.listening).toEqual([false, true, false, true]);
    // Calm: a legitimate request is answered; a minute later the alarm clears with the episode's length.
    t.send('status', '{"transaction": "ok-1"}');
    await waitFor(() => t.replies.length === 1, { what: 'an answer after the pause' });
    t.timers.advance(59_999);
    expect(t.alarms.filter((a) => !a.active)).toEqual([]);
    t.timers.advance(1);
    expect(t.alarms.at(-1)).toMatchObject({ active: false, durationMs: 10_000 + 200 + 20_000 + 60_000 });
    expect(t.timers.pending).toBe(0);
    // A new episode starts from shed_pause again.
    for (let k = 0; k < 100; k++) t.send('status', '{}');
    expect(t.alarms.at(-1)!.message).toMatch(/for 10 s \(mqtt/);
  });

  it('new flood settings in a reload end a pause at once and clear the alarm', () => {
    const t = intake(config({ rate: 1, burst: 1, shed_after: 10 }));
    for (let k = 0; k < 20; k++) t.send('status', '{}');
    expect(t.listening).toEqual([false]);
    t.i.configure(config({ rate: 1, burst: 1, shed_after: 1000 }));
    expect(t.listening).toEqual([false, true]);
    expect(t.alarms.map((a) => a.active)).toEqual([true, false]);
    expect(t.timers.pending).toBe(0);
    // An unchanged reload does not touch a pause.
    for (let k = 0; k < 1100; k++) t.send('status', '{}');
    t.i.configure(config({ rate: 1, burst: 1, shed_after: 1000 }));
    expect(t.listening).toEqual([false, true, false]);
  });

  it('handles one queued request per turn of the event loop, so timers run in between', async () => {
    const t = intake(config({ rate: 100, burst: 100 }));
    for (let k = 0; k < 3; k++) t.send('status', '{}');
    expect(t.replies.length).toBe(0); // receive() only queues
    const seen: number[] = [];
    for (let k = 0; k < 3; k++) {
      await new Promise((r) => setImmediate(r));
      seen.push(t.replies.length);
    }
    expect(seen).toEqual([1, 2, 3]);
  });

  it('accepts a signed request, audits who ran what, and remembers its nonce on disk before running it', async () => {
    const cfg = config();
    const t = intake(cfg);
    const payload = t.sign('failover');
    t.send('failover', payload);
    await waitFor(() => t.replies.length === 1, { what: 'answer' });
    expect(t.ran).toEqual(['failover']);
    expect(t.replies[0]!.r).toMatchObject({ status: 'ok', nonce: JSON.parse(payload).nonce });
    expect(t.audits).toEqual([expect.objectContaining({ kind: 'request-accepted', command: 'failover', key: 'ops', role: 'operator' })]);
    expect(readFileSync(`${dir.path}/mqtt-nonces.jsonl`, 'utf8')).toContain(JSON.parse(payload).nonce);

    // A new intake (a restart) loads the nonce: the captured request is a replay.
    const again = intake(cfg, t.clock);
    await again.i.loadNonces();
    again.send('failover', payload);
    await waitFor(() => again.replies.length === 1, { what: 'answer after restart' });
    expect(again.replies[0]!.r).toMatchObject({ status: 'error', error: expect.stringMatching(/^refused \(replay\)/) });
    expect(again.ran).toEqual([]);
  });

  it('config push is refused while disabled locally, with its own reason', async () => {
    const t = intake(config({ config_push: false }));
    t.send('config', t.sign('config', { config: {} }));
    await waitFor(() => t.replies.length === 1, { what: 'answer' });
    expect(t.i.refusals['push-disabled']).toBe(0); // operator key: the role check comes first
    expect(t.i.refusals.forbidden).toBe(1);
  });
});
