// twinvip and real keepalived in one VRRP group, each in its own network namespace on a veth
// pair: the election, graceful handover (priority 0) both ways, and FAULT on link loss.
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetnsLab, type LabProcess, type Netns } from '../helpers/netns';

const NODE = process.execPath;
const BUNDLE = resolve(__dirname, '../../../dist/twinvip.js');
const VIP = '10.66.0.100';

let lab: NetnsLab;
let a: Netns;
let b: Netns;
let dir: string;

async function hasVip(ns: Netns, ifname: string): Promise<boolean> {
  const addrs = await ns.ipJson<{ addr_info: { local: string }[] }[]>(['addr', 'show', 'dev', ifname]);
  return addrs.some((i) => i.addr_info.some((x) => x.local === VIP));
}

function keepalivedConf(priority: number, state: 'MASTER' | 'BACKUP'): string {
  return `global_defs {
  router_id kb
  enable_script_security
}
vrrp_instance VI_1 {
  state ${state}
  interface vb
  virtual_router_id 66
  priority ${priority}
  advert_int 1
  authentication {
    auth_type PASS
    auth_pass tw1n
  }
  virtual_ipaddress {
    ${VIP}/24
  }
}
`;
}

async function twinvipConf(priority: number): Promise<string> {
  const file = join(dir, `twinvip-${priority}.json`);
  await writeFile(
    file,
    JSON.stringify({
      node: { name: 'box-a', state_dir: dir },
      control: { socket: join(dir, `ctl-${priority}.sock`) },
      logging: { level: 'debug', format: 'text' },
      instances: {
        VI_1: { interface: 'va', vrid: 66, priority, advert_int: 1, vips: [`${VIP}/24`], authentication: { type: 'PASS', password: 'tw1n' } },
      },
    }),
  );
  return file;
}

function startKeepalived(priority: number, state: 'MASTER' | 'BACKUP', tag: string): Promise<LabProcess> {
  const conf = join(dir, `keepalived-${tag}.conf`);
  return writeFile(conf, keepalivedConf(priority, state)).then(() =>
    b.spawn('keepalived', ['-n', '-l', '-D', '-P', '-f', conf, '-p', join(dir, `k-${tag}.pid`), '-r', join(dir, `v-${tag}.pid`)]),
  );
}

const out = (p: LabProcess) => p.stdout + p.stderr;

/** VI_1's adverts sent so far, from `twinvip status --json` (counters of the vrrp group). */
async function advertsSent(priority: number): Promise<number> {
  const r = await a.tryRun(NODE, [BUNDLE, 'status', '--json', '-s', join(dir, `ctl-${priority}.sock`)]);
  if (r.code !== 0) return -1;
  const s = JSON.parse(r.stdout) as { counters: Record<string, Record<string, number>> };
  return s.counters.vrrp?.['VI_1.advertsSent'] ?? -1;
}

beforeAll(async () => {
  lab = await NetnsLab.create();
  a = await lab.namespace('a');
  b = await lab.namespace('b');
  await lab.veth(a, 'va', b, 'vb');
  await lab.addr(a, 'va', '10.66.0.1/24');
  await lab.addr(b, 'vb', '10.66.0.2/24');
  dir = await lab.tmpdir();
});

afterAll(async () => {
  await lab?.cleanup();
});

describe.skipIf(!NetnsLab.available())('twinvip with keepalived as the VRRP peer', () => {
  it('twinvip (150) wins over keepalived (100); on SIGTERM it sends priority 0 and keepalived takes over at once', async () => {
    // twinvip first, so keepalived joins a group that already has a master: it must accept our
    // adverts (auth, interval, address list) from the start and never become MASTER itself.
    const t = a.spawn(NODE, [BUNDLE, 'run', '-c', await twinvipConf(150)]);
    let k: LabProcess | undefined;
    try {
      await lab.waitFor(async () => /VI_1: BACKUP -> MASTER/.test(out(t)), { timeoutMs: 20_000, what: `twinvip MASTER\n${out(t)}` });
      await lab.waitFor(() => hasVip(a, 'va'), { timeoutMs: 5000, what: 'VIP on twinvip box' });
      k = await startKeepalived(100, 'BACKUP', 'k1');
      // keepalived heard our adverts (auth, interval, address list all accepted) and stays BACKUP.
      await lab.waitFor(async () => /Entering BACKUP STATE/.test(out(k!)), { timeoutMs: 10_000, what: `keepalived BACKUP\n${out(k!)}` });
      // Past keepalived's own Master_Down_Interval (3.6 s): it still hears us and stays BACKUP.
      const sentAtJoin = await advertsSent(150);
      await lab.waitFor(async () => (await advertsSent(150)) >= sentAtJoin + 5, { timeoutMs: 20_000, what: 'five more adverts sent' });
      expect(out(k!)).not.toMatch(/Entering MASTER STATE/);
      expect(await hasVip(b, 'vb')).toBe(false);

      await t.kill();
      expect(t.exitCode).toBe(0);
      await lab.waitFor(async () => /Entering MASTER STATE/.test(out(k!)), { timeoutMs: 10_000, what: `keepalived MASTER\n${out(k!)}` });
      // keepalived took over because of our priority-0 advert (after skew time), not because
      // its Master_Down_Interval ran out.
      expect(out(k!)).toMatch(/priority 0/i);
      expect(await hasVip(a, 'va')).toBe(false);
      await lab.waitFor(() => hasVip(b, 'vb'), { timeoutMs: 5000, what: 'VIP on keepalived box' });
    } finally {
      await t.kill();
      await k?.kill();
    }
  });

  it('keepalived (200) as MASTER keeps twinvip (150) BACKUP; keepalived stopping hands over to twinvip; link down puts twinvip in FAULT', async () => {
    const k = await startKeepalived(200, 'MASTER', 'k2');
    await lab.waitFor(() => hasVip(b, 'vb'), { timeoutMs: 10_000, what: `keepalived VIP\n${out(k!)}` });
    const t = a.spawn(NODE, [BUNDLE, 'run', '-c', await twinvipConf(150)]);
    try {
      await lab.waitFor(async () => /VI_1: INIT -> BACKUP/.test(out(t)), { timeoutMs: 20_000, what: `twinvip BACKUP\n${out(t)}` });
      // Status over the control socket names the master twinvip hears.
      await lab.waitFor(
        async () => {
          const r = await a.tryRun(NODE, [BUNDLE, 'status', '--json', '-s', join(dir, 'ctl-150.sock')]);
          if (r.code !== 0) return false;
          const s = JSON.parse(r.stdout) as { instances: { state: string; master: { address: string; priority: number } | null }[] };
          return s.instances[0]?.state === 'BACKUP' && s.instances[0]?.master?.address === '10.66.0.2' && s.instances[0]?.master?.priority === 200;
        },
        { timeoutMs: 10_000, what: 'status shows BACKUP with master 10.66.0.2 (200)' },
      );
      expect(await hasVip(a, 'va')).toBe(false);

      await k.kill();
      await lab.waitFor(async () => /VI_1: BACKUP -> MASTER \(priority 0 from master/.test(out(t)), { timeoutMs: 10_000, what: `twinvip takes over\n${out(t)}` });
      await lab.waitFor(() => hasVip(a, 'va'), { timeoutMs: 5000, what: 'VIP moved to twinvip' });

      await a.run('ip', ['link', 'set', 'dev', 'va', 'down']);
      await lab.waitFor(async () => /VI_1: MASTER -> FAULT/.test(out(t)), { timeoutMs: 10_000, what: `twinvip FAULT\n${out(t)}` });
      await a.run('ip', ['link', 'set', 'dev', 'va', 'up']);
      await lab.waitFor(async () => /VI_1: FAULT -> (BACKUP|MASTER)/.test(out(t)), { timeoutMs: 10_000, what: `twinvip leaves FAULT\n${out(t)}` });
    } finally {
      await t.kill();
      await k.kill();
    }
  });
});
