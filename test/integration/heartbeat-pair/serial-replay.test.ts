// Issue #19, serial heartbeat replay, against two real daemons: a recorder on the serial cable
// (recording-line.ts) keeps every frame of a running pair — heartbeats claiming MASTER, the
// release frames of a graceful stop, and a whole life of box a that b never heard (withheld) —
// and plays them back later, with the LAN cut so the serial line is the only thing telling b
// that a lives: in order, reversed, shuffled, each frame twice, releases first, each box's own
// frames reflected back to it; again after b restarted and after a restarted.
//
// Before the fix one frame of the unseen life retired a's live boot id (b then refused every
// genuine frame: serial lost, b takes over) and a recorded release made b take over. Now: no
// transition, no reboot reported, the serial channel never lost, and every injected frame is
// rejected (the rejected counters grow by at least the number injected).
import { expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { type Box, PairLab, pairLabHooks } from './pair-lab';
import { RecordingLine } from './recording-line';
import { describeRequiring } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';

let p: PairLab;
let line: RecordingLine;

const logs = (): string => p.logs();
/**
 * A status answer of a box. A control request that fails (a box busy for 3 s on a loaded machine
 * answers too late) is asked again: it tells nothing about the state, the serial channel or the
 * counters, and a null here must not read as a lost channel.
 */
const ask = <T>(what: string, q: () => Promise<T | null>): Promise<NonNullable<T>> => p.waitFor(q, () => `${what}${logs()}`);
const counters = (box: Box) => ask(`counters of ${box.id}`, () => p.counters(box));
const sum = (c: Record<string, number>, keys: string[]) => keys.reduce((n, k) => n + (c[k] ?? 0), 0);
const REFUSED = ['rejected.replayed', 'rejected.stale', 'rejected.unsynced', 'rejected.own-frame'];

// The clean-up closes the line too.
pairLabHooks(() => PairLab.startPair({ line: async (lab, dir) => (line = await RecordingLine.start(lab, dir)) }), (lab) => (p = lab));

function orders(frames: Buffer[]): [string, Buffer[]][] {
  let x = 4242;
  const rnd = () => (x = (x * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const rev = [...frames].reverse();
  return [
    ['in order', frames],
    ['reversed', rev],
    ['shuffled', [...frames].map((f) => [rnd(), f] as const).sort((q, r) => q[0] - r[0]).map(([, f]) => f)],
    ['each twice', frames.flatMap((f) => [f, f])],
    // The releases of a's graceful stops are the last frames of each of its lives.
    ['newest first', rev],
  ];
}

describeRequiring(NetnsLab.prerequisites, 'serial heartbeat replay against a running pair', () => {
  it('recorded frames played back in every order, after a restart of either box: no transition, no reboot, serial never lost, all refused', async () => {
    const other = (box: Box) => (box === p.a ? p.b : p.a);
    const lastTransition = (text: string) => [...text.matchAll(/VI_1: \w+ -> (\w+)/g)].at(-1)?.[1];
    /**
     * a MASTER, b BACKUP, and the serial channel up in both directions for real. `serial.ok`
     * alone is not that: a box that just started reads ok until its first dead time passes
     * without a frame (silence counts from its start), and the twin reads ok for up to that time
     * on the frames of the life that just ended. So after a (re)start of `box` (logs marked
     * before it), also wait until the twin has logged that it accepted the new life ("peer N
     * rebooted"), the new life has logged hearing the twin ("peer N heard") and each box's last
     * logged transition is the state it reports: every line the restart causes is in before
     * play() marks the logs, so none of them can count as a transition during the replay.
     */
    const serialUp = async (restarted?: { box: Box; mark: { a: number; b: number } }) => {
      await p.masterIs(p.a, p.b);
      await p.waitFor(async () => {
        const [ha, hb] = await Promise.all([p.heartbeat(p.a), p.heartbeat(p.b)]);
        return ha?.serial.ok && hb?.serial.ok && ha.serial.last_heard_ms_ago !== null && hb.serial.last_heard_ms_ago !== null;
      }, () => `serial up on both${logs()}`);
      if (!restarted) return;
      const { box, mark } = restarted;
      const since = (b: Box) => b.log().slice(mark[b.id]);
      await p.waitFor(
        () =>
          /peer \d+ rebooted/.test(since(other(box))) &&
          /peer \d+ heard/.test(since(box)) &&
          (lastTransition(since(p.a)) ?? 'MASTER') === 'MASTER' &&
          (lastTransition(since(p.b)) ?? 'BACKUP') === 'BACKUP',
        () => `${box.id} restarted: the twin accepted its new life, it heard the twin, transitions settled${logs()}`,
      );
    };
    const marks = () => ({ a: p.a.log().length, b: p.b.log().length });
    await serialUp();
    const restart = async (box: Box) => {
      const mark = marks();
      await box.proc!.kill();
      p.start(box);
      await serialUp({ box, mark });
    };

    // Recording. a's first life ends with a graceful stop (its release frames are on the tape).
    await restart(p.a);
    // A life of a that b never hears: the recorder withholds a -> b (LAN up: VRRP decides).
    line.aToB.withhold = true;
    await p.a.proc!.kill();
    const withheldFrom = line.aToB.tape.length;
    p.start(p.a);
    await p.waitFor(() => line.aToB.tape.length >= withheldFrom + 30, () => `a's unseen life recorded${logs()}`);
    const mark = marks();
    await p.a.proc!.kill();
    line.aToB.withhold = false;
    p.start(p.a);
    await serialUp({ box: p.a, mark });
    expect(line.aToB.tape.length).toBeGreaterThan(withheldFrom + 30);

    const play = async (when: string) => {
      await p.cutLan(p.a);
      const mark = { a: p.a.log().length, b: p.b.log().length };
      const since = (box: Box) => box.log().slice(mark[box.id]);
      await p.waitFor(() => /alarm ethernet-heartbeat-lost/.test(since(p.b)), () => `${when}: b notices the LAN cut${logs()}`);
      let injected = { a: 0, b: 0 };
      const before = { a: await counters(p.a), b: await counters(p.b) };
      const samples: string[] = [];
      try {
        const fromA = [...line.aToB.tape];
        const fromB = [...line.bToA.tape];
        for (const [name, order] of orders(fromA)) {
          // a's recorded frames into b, and b's own recent frames reflected back into it.
          const own = fromB.slice(-20);
          line.aToB.inject([...order, ...own]);
          line.bToA.inject(orders(fromB)[0]![1].slice(-40));
          injected = { a: injected.a + 40, b: injected.b + order.length + own.length };
          const hb = (await counters(p.b))['accepted.heartbeat']!;
          // b goes on hearing a over serial (the only channel) after each round.
          await p.waitFor(async () => ((await p.counters(p.b))?.['accepted.heartbeat'] ?? 0) >= hb + 5, () => `${when}, ${name}: b still hears a${logs()}`);
          const [sa, sb, ha, hb2] = await Promise.all([
            ask('state of a', () => p.state(p.a)),
            ask('state of b', () => p.state(p.b)),
            ask('heartbeat of a', () => p.heartbeat(p.a)),
            ask('heartbeat of b', () => p.heartbeat(p.b)),
          ]);
          samples.push(`${sa}/${sb}/${ha.serial.ok}/${hb2.serial.ok}`);
        }
      } finally {
        await p.healLan(p.a);
      }
      expect(samples.filter((s) => s !== 'MASTER/BACKUP/true/true'), `${when}: states/serial at each round`).toEqual([]);
      expect(since(p.a) + since(p.b), `${when}: a transition, a reboot or a lost serial channel`).not.toMatch(/ -> |rebooted|serial-heartbeat-lost|peer-release|peer-dead|release frame/);
      const after = await p.waitFor(async () => {
        const [ca, cb] = await Promise.all([p.counters(p.a), p.counters(p.b)]);
        if (!ca || !cb) return null;
        const c = { a: ca, b: cb };
        return sum(c.b, REFUSED) - sum(before.b, REFUSED) >= injected.b && sum(c.a, REFUSED) - sum(before.a, REFUSED) >= injected.a ? c : null;
      }, () => `${when}: every injected frame refused (${JSON.stringify(injected)})${logs()}`);
      expect(after.b.peer_reboots).toBe(before.b.peer_reboots);
      expect(after.a.peer_reboots).toBe(before.a.peer_reboots);
      expect(after.b['accepted.release']).toBe(before.b['accepted.release']);
      console.log(`${when}: injected ${injected.b} frames into b, ${injected.a} into a; b refused ${sum(after.b, REFUSED) - sum(before.b, REFUSED)}, a ${sum(after.a, REFUSED) - sum(before.a, REFUSED)}; no transition`);
    };

    await play('both running');
    await restart(p.b);
    await play('after b restarted');
    await restart(p.a);
    await play('after a restarted');
  }, patience(240_000));
});
