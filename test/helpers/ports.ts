// A free TCP port on loopback for a server the test starts itself. The kernel hands back the port
// it just released, so two calls in a row can return the same one (a CI run got one port for an
// HTTPS listener and its redirect server): never hand out a port twice in one test file.
import { createServer } from 'node:net';

const handedOut = new Set<number>();

function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function freePort(): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = await ephemeralPort();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('freePort: no fresh port in 100 tries');
}
