// The status LED follows a real daemon (issue #25): one box in its namespace, no twin, its LED a
// FAKE sysfs directory (plain files standing in for /sys/class/leds/status — the one mock the
// project allows: no LED hardware here). BACKUP at start-up: slow blink (kernel timer trigger,
// 1000/1000 ms); MASTER once no advert came: on (trigger none, brightness = max_brightness);
// its LAN link down: FAULT, fast blink (100/100 ms); stopped: off.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NetnsLab } from '../helpers/netns';
import { PairLab } from './pair-lab';
import { describeRequiring } from '../../helpers/prerequisites';
import { patience } from '../../helpers/patience';

let p: PairLab;
let led: string;

const read = (f: string): string => {
  try {
    return readFileSync(join(led, f), 'utf8');
  } catch {
    return '';
  }
};
const shows = () => `trigger=${read('trigger')} brightness=${read('brightness')} delay_on=${read('delay_on')} delay_off=${read('delay_off')}`;

beforeAll(async () => {
  if (!NetnsLab.available()) return;
  p = await PairLab.create();
  await p.startSerial();
  led = join(p.dir, 'sys/class/leds/status');
  mkdirSync(led, { recursive: true });
  writeFileSync(join(led, 'brightness'), '0\n');
  writeFileSync(join(led, 'max_brightness'), '255\n');
  writeFileSync(join(led, 'trigger'), '[none] timer heartbeat\n');
}, patience(60_000));

afterAll(async () => {
  await p?.cleanup();
}, patience(60_000));

describeRequiring(NetnsLab.prerequisites, 'status LED through sysfs (fake sysfs directory)', () => {
  it('BACKUP slow blink, MASTER on, FAULT fast blink, stopped off', async () => {
    await p.writeConfig(p.a, { node: { name: 'box-a', state_dir: p.dir, status_led: led } });
    p.start(p.a);
    // BACKUP first (Master_Down_Interval of about 3 s with no twin), then MASTER.
    await p.waitFor(() => read('trigger') === 'timer' && read('delay_on') === '1000' && read('delay_off') === '1000', () => `slow blink as BACKUP: ${shows()}\n${p.a.log()}`);
    await p.waitFor(async () => (await p.state(p.a)) === 'MASTER', () => `a MASTER${p.logs()}`);
    await p.waitFor(() => read('trigger') === 'none' && read('brightness') === '255', () => `on as MASTER: ${shows()}\n${p.a.log()}`);
    await p.a.ns.run('ip', ['link', 'set', 'dev', p.a.ifname, 'down']);
    await p.waitFor(async () => (await p.state(p.a)) === 'FAULT', () => `a FAULT${p.logs()}`);
    await p.waitFor(() => read('trigger') === 'timer' && read('delay_on') === '100' && read('delay_off') === '100', () => `fast blink in FAULT: ${shows()}\n${p.a.log()}`);
    await p.a.proc!.kill();
    expect(shows()).toMatch(/^trigger=none brightness=0 /);
    expect(p.a.log()).toContain(`status LED ${led}: MASTER on, BACKUP slow blink, FAULT fast blink`);
  }, patience(120_000));
});
