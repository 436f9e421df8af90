// The probes against real loopback servers, programs and ping (loopback only: ping 127.0.0.1).
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createNet } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itRequiring, needsProgram } from '../../helpers/prerequisites';
import { httpProbe, pingProbe, scriptProbe, tcpProbe, type Probe } from '../../../src/track';

const run = (p: Probe, timeoutMs = 5000) => p(AbortSignal.timeout(timeoutMs));
let http: Server;
let httpPort = 0;

beforeAll(async () => {
  http = createHttp((req, res) => {
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 3000);
    res.statusCode = req.url === '/missing' ? 404 : 200;
    res.end(req.url === '/ok' ? 'status: ready\n' : 'nope\n');
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpPort = (http.address() as { port: number }).port;
});
afterAll(async () => {
  http.closeAllConnections();
  await new Promise<void>((r) => http.close(() => r()));
});

describe('probes', () => {
  it('tcp: up on a listening port, down with the reason on a closed one', async () => {
    const srv = createNet((s) => s.end());
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    expect((await run(tcpProbe('127.0.0.1', port))).ok).toBe(true);
    await new Promise<void>((r) => srv.close(() => r()));
    const down = await run(tcpProbe('127.0.0.1', port));
    expect(down).toEqual({ ok: false, detail: `tcp 127.0.0.1:${port}: connect ECONNREFUSED` });
  });

  it('http: status and body regex decide; a slow answer times out', async () => {
    expect((await run(httpProbe({ url: `http://127.0.0.1:${httpPort}/ok`, body: /ready/ }))).ok).toBe(true);
    const wrongBody = await run(httpProbe({ url: `http://127.0.0.1:${httpPort}/other`, body: /ready/ }));
    expect(wrongBody.ok).toBe(false);
    expect(wrongBody.detail).toMatch(/body does not match/);
    const missing = await run(httpProbe({ url: `http://127.0.0.1:${httpPort}/missing` }));
    expect(missing.detail).toMatch(/status 404, expected 200/);
    expect((await run(httpProbe({ url: `http://127.0.0.1:${httpPort}/missing`, status: [200, 404] }))).ok).toBe(true);
    const slow = await run(httpProbe({ url: `http://127.0.0.1:${httpPort}/slow` }), 300);
    expect(slow.ok).toBe(false);
  });

  it('script: exit 0 up, non-zero down with the code, killed at the timeout, no shell', async () => {
    expect((await run(scriptProbe({ argv: ['/bin/true'] }))).ok).toBe(true);
    expect(await run(scriptProbe({ argv: ['/bin/sh', '-c', 'exit 3'] }))).toEqual({ ok: false, detail: 'script /bin/sh: exit 3' });
    const slow = await run(scriptProbe({ argv: ['/bin/sleep', '10'] }), 300);
    expect(slow).toEqual({ ok: false, detail: 'script /bin/sleep: timed out, killed' });
    // An argument with shell syntax is passed as it is, never interpreted.
    const literal = await run(scriptProbe({ argv: ['/bin/test', '$(true)', '=', '$(true)'] }));
    expect(literal.ok).toBe(true);
    expect((await run(scriptProbe({ argv: ['/nonexistent/check'] }))).ok).toBe(false);
  });

  itRequiring([needsProgram('ping', 'iputils-ping')], 'ping: loopback answers', async () => {
    expect((await run(pingProbe({ host: '127.0.0.1', waitSeconds: 2 }))).ok).toBe(true);
    const bad = await run(pingProbe({ host: '127.0.0.1', binary: '/nonexistent/ping' }));
    expect(bad.ok).toBe(false);
  });
});
