// The broker connection options every fleet-side command takes (twinvip request, twinvip fleet).
import { readFile } from 'node:fs/promises';
import type { BrokerOptions } from '../fleet/client';

export const BROKER_ARG_SPEC = {
  broker: { type: 'string' },
  mqtt: { type: 'string' },
  username: { type: 'string' },
  'password-file': { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  'client-key': { type: 'string' },
} as const;

export const BROKER_USAGE = `  --broker URL          mqtts://host:8883 (mqtt://, ws://, wss:// too); env TWINVIP_BROKER
  --mqtt 5|4            protocol version (default 5)
  --username USER       broker user; --password-file FILE its password (first line)
  --ca FILE             CA certificate of the broker (PEM)
  --cert FILE --client-key FILE   client certificate and key for the broker (PEM)`;

type BrokerArgs = { [K in keyof typeof BROKER_ARG_SPEC]?: string | undefined };

/** The options, or the reason they are unusable (`usage`: exit 2; else a file could not be read: exit 3). */
export async function brokerOptions(v: BrokerArgs): Promise<{ ok: true; opts: BrokerOptions } | { ok: false; usage: boolean; error: string }> {
  const url = v.broker ?? process.env.TWINVIP_BROKER;
  if (!url) return { ok: false, usage: true, error: '--broker URL is required (or TWINVIP_BROKER)' };
  if (v.mqtt !== undefined && v.mqtt !== '5' && v.mqtt !== '4') return { ok: false, usage: true, error: '--mqtt takes 5 or 4' };
  const opts: BrokerOptions = { url, protocolVersion: v.mqtt === '4' ? 4 : 5 };
  try {
    if (v.username) opts.username = v.username;
    if (v['password-file']) opts.password = (await readFile(v['password-file'], 'utf8')).split('\n')[0]!.replace(/\r$/, '');
    if (v.ca) opts.ca = await readFile(v.ca);
    if (v.cert) opts.cert = await readFile(v.cert);
    if (v['client-key']) opts.key = await readFile(v['client-key']);
  } catch (err) {
    return { ok: false, usage: false, error: `cannot read a broker credential file: ${(err as Error).message}` };
  }
  return { ok: true, opts };
}
