// The addon's lifetime rules, outside any namespace (rtnetlink sockets only listen: no traffic).
// A worker thread ending with a socket still receiving must not leave a libuv handle behind
// (Node aborts: "uv_loop_close() while having open handles") nor run a close callback in an
// unloaded addon (a crash); the async clean-up hook in the addon handles both.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { addonCandidates } from '../../../src/net/native';
import { patience } from '../../helpers/patience';

const srcNet = join(dirname(fileURLToPath(import.meta.url)), '../../../src/net');
const addon = addonCandidates(srcNet).find((p) => existsSync(p));

describe('addon lifecycle', () => {
  it('is built for this architecture', () => {
    expect(addon).toBeDefined();
  });

  it('worker threads may end with sockets open, receiving or closed', () => {
    const script = `
      const { Worker } = require('node:worker_threads');
      const code = \`
        const m = require(${JSON.stringify(addon)});
        const a = m.openLinkEvents(); m.recvStart(a, () => {});
        const b = m.openLinkEvents(); m.recvStart(b, () => {}); m.close(b);
        const c = m.openLinkEvents();
        require('node:worker_threads').parentPort.postMessage('ready');
      \`;
      (async () => {
        for (let i = 0; i < 3; i++) {
          const w = new Worker(code, { eval: true });
          await new Promise((r) => w.once('message', r));
          await w.terminate();
        }
        console.log('ok');
      })();
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: patience(30_000) });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('ok');
  });

  it('the process may exit with a socket still receiving', () => {
    const script = `const m = require(${JSON.stringify(addon)}); const h = m.openLinkEvents(); m.recvStart(h, () => {}); setTimeout(() => process.exit(7), 20);`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: patience(30_000) });
    expect(r.status).toBe(7);
    expect(r.stderr).toBe('');
  });

  it('bad arguments are TypeErrors, system failures carry the errno name', () => {
    const script = `
      const m = require(${JSON.stringify(addon)});
      const out = [];
      try { m.openVrrp(5, 'lo', 112); } catch (e) { out.push(e.constructor.name + ':' + e.code); }
      try { m.send({}, new Uint8Array(1), '1.2.3.4'); } catch (e) { out.push(e.constructor.name + ':' + e.code); }
      try { m.openVrrp(4, 'nosuch0', 112); } catch (e) { out.push(e.code + ':' + e.errno + ':' + e.syscall); }
      const h = m.openLinkEvents(); m.close(h); m.close(h);
      try { m.recvStart(h, () => {}); } catch (e) { out.push(e.code); }
      console.log(JSON.stringify(out));
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: patience(30_000) });
    expect(JSON.parse(r.stdout)).toEqual(['TypeError:EINVAL', 'TypeError:EINVAL', 'ENODEV:-19:if_nametoindex', 'EBADF']);
  });
});
