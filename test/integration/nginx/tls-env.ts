// TLS parts of the Nginx integration tests: certificates made by the real `openssl` command,
// real clients (curl, node:tls, the WebSocket client built into Node), a WebSocket echo backend
// and TLS backends for SNI passthrough. Loopback only.
import { execFile } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { freePort } from './env';

export function run(cmd: string, args: string[], timeoutMs = 20_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export interface Cert {
  certificate: string;
  key: string;
  pem: string;
  fingerprint: string;
}

/**
 * A self-signed certificate for `names` (DNS SANs, plus IP 127.0.0.1) made by openssl, the key
 * root-only (0600) as twinvip requires. `days` may be small to test the expiry alarm.
 */
export async function makeCert(dir: string, base: string, names: string[], days = 90, keyType: 'rsa' | 'ec' = 'ec'): Promise<Cert> {
  const certificate = `${dir}/${base}.crt`;
  const key = `${dir}/${base}.key`;
  const san = [...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1'].join(',');
  const keyArgs = keyType === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  const r = await run('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', certificate, '-days', String(days), '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${san}`]);
  if (r.code !== 0) throw new Error(`openssl req: ${r.stderr}`);
  chmodSync(key, 0o600);
  const pem = readFileSync(certificate, 'utf8');
  return { certificate, key, pem, fingerprint: new X509Certificate(pem).fingerprint256 };
}

/** Replaces a pair the way certbot or an operator does: new files renamed over the old ones. */
export function installPair(from: Cert, to: { certificate: string; key: string }): void {
  writeFileSync(`${to.key}.new`, readFileSync(from.key), { mode: 0o600 });
  writeFileSync(`${to.certificate}.new`, readFileSync(from.certificate));
  renameSync(`${to.key}.new`, to.key);
  renameSync(`${to.certificate}.new`, to.certificate);
}

export interface TlsAnswer {
  fingerprint: string;
  alpn: string | false;
  data: string;
  resumed: boolean;
}

/**
 * One fresh TLS connection (full handshake, no session reuse): sends `send` (if any), reads until
 * the server closes, and reports the certificate the client saw.
 */
export function tlsExchange(port: number, servername: string, send?: string, opts: { ca?: string; alpn?: string[]; timeoutMs?: number } = {}): Promise<TlsAnswer> {
  return new Promise((resolve, reject) => {
    const s: TLSSocket = tlsConnect({
      host: '127.0.0.1',
      port,
      servername,
      ...(opts.ca ? { ca: opts.ca } : { rejectUnauthorized: false }),
      ...(opts.alpn ? { ALPNProtocols: opts.alpn } : {}),
    });
    let data = '';
    let fingerprint = '';
    s.setEncoding('utf8');
    s.once('secureConnect', () => {
      fingerprint = s.getPeerCertificate().fingerprint256;
      if (send !== undefined) s.write(send);
    });
    s.on('data', (d: string) => (data += d));
    s.on('end', () => {
      resolve({ fingerprint, alpn: s.alpnProtocol ?? false, data, resumed: s.isSessionReused() });
      s.destroy();
    });
    s.on('error', reject);
    s.setTimeout(opts.timeoutMs ?? 10_000, () => s.destroy(new Error('tls exchange timed out')));
  });
}

/** An HTTPS GET on a fresh TLS connection with `Connection: close`. */
export async function httpsGet(port: number, host: string, path: string, ca?: string): Promise<{ status: number; body: string; headers: string; fingerprint: string }> {
  const a = await tlsExchange(port, host, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, ca ? { ca } : {});
  const [head = '', ...rest] = a.data.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, body: rest.join('\r\n\r\n'), headers: head, fingerprint: a.fingerprint };
}

/** A TLS backend for SNI passthrough: its own certificate, answers every connection with `name`. */
export async function tlsBackend(cert: Cert, name: string): Promise<{ port: number; hits: number; close(): Promise<void> }> {
  const out = { port: await freePort(), hits: 0, close: async () => {} };
  const srv = createTlsServer({ cert: readFileSync(cert.certificate), key: readFileSync(cert.key) }, (sock) => {
    out.hits++;
    sock.end(`${name}\n`);
  });
  srv.on('tlsClientError', () => {});
  await new Promise<void>((r) => srv.listen(out.port, '127.0.0.1', r));
  out.close = () => new Promise<void>((r) => srv.close(() => r()));
  return out;
}

/**
 * A WebSocket echo backend (RFC 6455 handshake and unmasking of small text frames): enough to
 * prove the proxy passes the Upgrade through and then relays frames both ways.
 */
export async function wsEchoBackend(): Promise<{ port: number; upgrades: number; close(): Promise<void> }> {
  const out = { port: await freePort(), upgrades: 0, close: async () => {} };
  const sockets = new Set<Duplex>();
  const srv = createHttpServer((_req, res) => {
    res.statusCode = 426;
    res.end('upgrade required\n');
  });
  srv.on('upgrade', (req: IncomingMessage, sock: Duplex) => {
    out.upgrades++;
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    const accept = createHash('sha1').update(`${String(req.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 6) {
        const opcode = buf[0]! & 0x0f;
        const len = buf[1]! & 0x7f;
        if (len > 125) return sock.destroy(); // small frames only
        if (buf.length < 6 + len) return;
        const mask = buf.subarray(2, 6);
        const payload = Buffer.from(buf.subarray(6, 6 + len).map((b, i) => b ^ mask[i % 4]!));
        buf = buf.subarray(6 + len);
        if (opcode === 0x8) return sock.end(Buffer.from([0x88, 0]));
        if (opcode === 0x1) sock.write(Buffer.concat([Buffer.from([0x81, payload.length]), payload]));
      }
    });
  });
  await new Promise<void>((r) => srv.listen(out.port, '127.0.0.1', r));
  out.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      srv.close(() => r());
    });
  return out;
}
