// The HA thread's channel to the main thread (src/ha/worker/socket-port.ts): messages over a Unix
// socket pair from the addon, in order, whole whatever their size (a config of several MB arrives
// in many reads), structured-clone values as the MessagePort carried them.
import { afterEach, describe, expect, it } from 'vitest';
import { loadAddon } from '../../../src/net/native';
import { SocketPort } from '../../../src/ha/worker/socket-port';

const open: SocketPort[] = [];
afterEach(() => {
  for (const p of open.splice(0)) p.close();
});

function pair(): [SocketPort, SocketPort] {
  const [a, b] = loadAddon().socketPair();
  const ports: [SocketPort, SocketPort] = [new SocketPort(a), new SocketPort(b)];
  open.push(...ports);
  return ports;
}

function collect(port: SocketPort, n: number): Promise<unknown[]> {
  const got: unknown[] = [];
  return new Promise((resolve) => {
    port.on('message', (m: never) => {
      got.push(m);
      if (got.length === n) resolve(got);
    });
  });
}

describe('SocketPort', () => {
  it('carries messages both ways, in order, with what structured clone keeps', async () => {
    const [main, ha] = pair();
    const atHa = collect(ha, 3);
    const atMain = collect(main, 1);
    main.postMessage({ type: 'call', id: 1, op: 'state' });
    main.postMessage({ type: 'answered', id: 2, body: undefined, at: new Date(0), n: Infinity });
    main.postMessage({ type: 'nginx-health', up: false });
    ha.postMessage({ type: 'log', record: { msg: 'héllo', fields: { list: [1, 2] } } });
    const got = await atHa;
    expect(got[0]).toEqual({ type: 'call', id: 1, op: 'state' });
    expect(got[1]).toEqual({ type: 'answered', id: 2, body: undefined, at: new Date(0), n: Infinity });
    expect(got[2]).toEqual({ type: 'nginx-health', up: false });
    expect(await atMain).toEqual([{ type: 'log', record: { msg: 'héllo', fields: { list: [1, 2] } } }]);
  });

  it('a message of several MB arrives whole, and the ones after it too', async () => {
    const [main, ha] = pair();
    const big = { type: 'reload', config: { pad: 'x'.repeat(6 * 1024 * 1024), list: Array.from({ length: 20_000 }, (_, i) => ({ i })) } };
    const atHa = collect(ha, 3);
    main.postMessage({ type: 'before' });
    main.postMessage(big);
    main.postMessage({ type: 'after' });
    const got = await atHa;
    expect(got[0]).toEqual({ type: 'before' });
    expect(got[1]).toEqual(big);
    expect(got[2]).toEqual({ type: 'after' });
  });
});
