// Dead twin in a few periods (issue 21), on a fake clock: once the serial link has been silent
// for the probe delay, the arbiter asks for a probe of the twin's daemon; silence takes over at
// once (before the Ethernet channel expires), an answer never does — also when the twin's
// adverts stop reaching us (a firewall), where it probes again every second. Plus the codec.
import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { decodeProbe, describeVerdict, encodeProbe } from '../../../src/heartbeat/probe';
import { Harness } from './arbiter-harness';
import { MAC as KEY, OTHER_MAC as OTHER_KEY } from './fixtures';

const newProbeNonce = () => randomBytes(8).toString('hex');

const probing = () => new Harness({ probe: { afterMs: 150, reprobeMs: 1000 } });

describe('probe datagram', () => {
  it('round trip; a wrong key, a cut or padded datagram and foreign bytes are refused without a throw', () => {
    const m = { kind: 'question' as const, nodeId: '2', nonce: newProbeNonce() };
    const d = encodeProbe(m, KEY);
    expect(decodeProbe(d, KEY)).toEqual({ ok: true, message: m });
    expect(decodeProbe(d, OTHER_KEY)).toEqual({ ok: false, reason: 'bad-mac' });
    expect(decodeProbe(d.subarray(0, d.length - 1), KEY)).toEqual({ ok: false, reason: 'malformed' });
    expect(decodeProbe(Buffer.concat([d, Buffer.from([0])]), KEY)).toEqual({ ok: false, reason: 'malformed' });
    expect(decodeProbe(Buffer.from('GET / HTTP/1.0\r\n\r\n'), KEY).ok).toBe(false);
    expect(decodeProbe(new Uint8Array(0), KEY).ok).toBe(false);
  });

  it("an answer carries what the twin's instances are doing; a question carries nothing", () => {
    const a = { kind: 'answer' as const, nodeId: '1', nonce: newProbeNonce(), instances: [{ vrid: 51, family: 4 as const, state: 'MASTER' as const, priority: 150 }, { vrid: 52, family: 6 as const, state: 'BACKUP' as const, priority: 100 }] };
    expect(decodeProbe(encodeProbe(a, KEY), KEY)).toEqual({ ok: true, message: a });
    const q = encodeProbe({ kind: 'question', nodeId: '2', nonce: newProbeNonce(), instances: a.instances }, KEY);
    const d = decodeProbe(q, KEY);
    expect(d.ok && d.message.instances).toBeUndefined();
  });

  it('the verdict line names the signal that decided', () => {
    expect(describeVerdict({ daemon: false, instances: [], arp: true, sent: 3, windowMs: 75 }, '10.0.0.2')).toBe("no answer from the twin's daemon at 10.0.0.2 to 3 probe(s) in 75 ms; ARP answered: the box is up, its daemon is gone");
    expect(describeVerdict({ daemon: false, instances: [], arp: false, sent: 3, windowMs: 75 }, '10.0.0.2')).toMatch(/no ARP answer: the box is down or cut off$/);
    expect(describeVerdict({ daemon: true, instances: [], arp: null, sent: 1, windowMs: 3 }, '10.0.0.2')).toBe("the twin's daemon answered a probe at 10.0.0.2 (ARP not checked)");
    expect(describeVerdict({ daemon: false, instances: [], arp: null, refused: true, sent: 1, windowMs: 1.4 }, '10.0.0.2')).toBe(
      "the twin's kernel at 10.0.0.2 refused the probe within 1 ms (ICMP port unreachable): the box is up and nothing listens, its daemon is gone",
    );
  });
});

describe('arbiter: probe of a silent twin', () => {
  it('serial silent 150 ms -> probe-twin at the twin address; no answer -> peer-dead at once, long before the Ethernet channel expires', () => {
    const h = probing();
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    h.advanceTo(1150);
    expect(h.of('probe-twin').map((p) => [p.at, p.out.address, p.out.reason])).toEqual([[1150, '192.168.10.2', 'serial link silent for 150 ms']]);
    expect(h.vrrp('peer-dead')).toEqual([]);
    h.now = 1230;
    h.feed({ type: 'probe-result', alive: false, detail: "no answer from the twin's daemon" });
    const dead = h.vrrp('peer-dead');
    expect(dead.map((d) => d.at)).toEqual([1230]);
    expect(dead[0]!.out).toMatchObject({ event: { type: 'peer-dead', detail: "serial silent 230 ms, no answer from the twin's daemon" } });
  });

  it('Ethernet path already lost when the serial link falls silent: the unanswered probe proves nothing; the serial dead time decides (a short stall is not a death)', () => {
    const h = probing();
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    // The LAN between the boxes is cut: adverts stop, the serial link carries the twin on.
    h.run(1100, 3000, { e: false, s: true });
    expect(h.alarms('ethernet-heartbeat-lost').map((a) => a.at)).toEqual([2200]);
    h.advanceTo(3150);
    expect(h.of('probe-twin').map((p) => p.at)).toEqual([3150]);
    h.now = 3230;
    h.feed({ type: 'probe-result', alive: false, detail: "no answer from the twin's daemon" });
    expect(h.vrrp('peer-dead')).toEqual([]);
    // A twin that stalled 400 ms speaks again: nothing happened.
    h.run(3400, 3400, { e: false, s: true });
    expect(h.vrrp('peer-dead')).toEqual([]);
    // Silent again: a new round, unanswered again; dead once the serial dead time (5 x 100 ms) is out.
    h.advanceTo(3550);
    expect(h.of('probe-twin').map((p) => p.at)).toEqual([3150, 3550]);
    h.now = 3600;
    h.feed({ type: 'probe-result', alive: false, detail: "no answer from the twin's daemon" });
    expect(h.vrrp('peer-dead')).toEqual([]);
    h.advanceTo(4000);
    expect(h.vrrp('peer-dead').map((d) => d.at)).toEqual([3900]);
  });

  it("the twin's daemon answers: stays BACKUP, serial alarm now; no new probe while its adverts arrive; once they stop, a probe every second, and silence then takes over", () => {
    const h = probing();
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    h.advanceTo(1150);
    h.now = 1160;
    h.feed({ type: 'probe-result', alive: true, detail: "the twin's daemon answered a probe at 192.168.10.2" });
    expect(h.alarms('serial-heartbeat-lost')).toEqual([{ at: 1160, name: 'serial-heartbeat-lost', detail: "no heartbeat for 160 ms, but the twin's daemon answered a probe at 192.168.10.2: staying BACKUP" }]);
    // Adverts keep coming (serial cable cut): no takeover, no probe.
    h.run(1200, 5000, { e: true, s: false });
    expect(h.of('probe-twin')).toHaveLength(1);
    expect(h.vrrp('peer-dead')).toEqual([]);
    // Adverts stop (a firewall drops them) while the daemon still answers: probe again, stay.
    h.advanceTo(6200);
    expect(h.of('probe-twin').map((p) => p.at)).toEqual([1150, 6200]);
    h.now = 6210;
    h.feed({ type: 'probe-result', alive: true, detail: 'answered' });
    h.advanceTo(7210);
    expect(h.of('probe-twin').map((p) => p.at)).toEqual([1150, 6200, 7210]);
    expect(h.vrrp('peer-dead')).toEqual([]);
    h.now = 7300;
    h.feed({ type: 'probe-result', alive: false, detail: 'no answer' });
    expect(h.vrrp('peer-dead').map((d) => d.at)).toEqual([7300]);
  });

  it("an answer saying the twin is MASTER counts as its claim (VRRP's Master_Down never expires while it answers)", () => {
    const h = probing();
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    h.advanceTo(1150);
    const before = h.vrrp('peer-claim').length;
    h.now = 1160;
    h.feed({ type: 'probe-result', alive: true, detail: 'answered', twin: [{ vrid: 51, family: 4, state: 'MASTER', priority: 150 }, { vrid: 99, family: 4, state: 'MASTER', priority: 150 }] });
    const claims = h.vrrp('peer-claim').slice(before);
    expect(claims.map((c) => c.out)).toEqual([{ type: 'vrrp', vrid: 51, family: 4, event: { type: 'peer-claim', priority: 150, address: '192.168.10.2', advertIntervalCs: 100 } }]);
  });

  it('an advert of the twin during the round, or a serial frame, outweighs an unanswered round', () => {
    const h = probing();
    h.local('BACKUP');
    h.run(0, 900, { e: true, s: true });
    h.advanceTo(1050);
    expect(h.of('probe-twin')).toHaveLength(1);
    h.now = 1060;
    h.advert();
    h.now = 1100;
    h.feed({ type: 'probe-result', alive: false, detail: 'no answer' });
    expect(h.vrrp('peer-dead')).toEqual([]);
    // A frame resets the episode; a result arriving after it is ignored.
    const g = probing();
    g.local('BACKUP');
    g.run(0, 1000, { e: true, s: true });
    g.advanceTo(1150);
    g.now = 1160;
    g.heartbeat();
    g.now = 1170;
    g.feed({ type: 'probe-result', alive: false, detail: 'no answer' });
    expect(g.vrrp('peer-dead')).toEqual([]);
  });

  it('no probe as MASTER, nor before the twin is known (then both channels must be lost, as before)', () => {
    const m = probing();
    m.local('MASTER');
    m.run(0, 1000, { e: false, s: true, report: { state: 'BACKUP' } });
    m.advanceTo(3000);
    expect(m.of('probe-twin')).toEqual([]);
    const u = probing();
    u.local('BACKUP');
    u.advanceTo(3000);
    expect(u.of('probe-twin')).toEqual([]);
    // Serial dead at 500, Ethernet (never heard) at 1200: both lost, the old rule.
    expect(u.vrrp('peer-dead').map((d) => d.at)).toEqual([1200]);
  });

  it('with a fence: the unanswered probe runs the fence first, its success takes over', () => {
    const h = new Harness({ probe: { afterMs: 150 }, fence: true });
    h.local('BACKUP');
    h.run(0, 1000, { e: true, s: true });
    h.advanceTo(1150);
    h.now = 1230;
    h.feed({ type: 'probe-result', alive: false, detail: 'no answer' });
    expect(h.of('run-fence').map((f) => f.at)).toEqual([1230]);
    expect(h.vrrp('peer-dead')).toEqual([]);
    h.now = 1400;
    h.feed({ type: 'fence-result', ok: true });
    expect(h.vrrp('peer-dead').map((d) => d.at)).toEqual([1400]);
  });
});
