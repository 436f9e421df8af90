import { existsSync } from 'node:fs';
import { formatIssues, loadConfigFile } from '../config';
import { DEFAULT_CONFIG_PATH, DEFAULT_CONTROL_SOCKET } from './defaults';

export type SocketChoice = { ok: true; socket: string } | { ok: false; message: string };

/**
 * Which control socket a client command talks to: `-s SOCKET` wins, then the socket named by
 * `-c FILE`, then the default config's socket if that file exists, then the built-in default.
 */
export async function chooseSocket(socket: string | undefined, configPath: string | undefined): Promise<SocketChoice> {
  if (socket !== undefined) return { ok: true, socket };
  const path = configPath ?? (existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : undefined);
  if (path === undefined) return { ok: true, socket: DEFAULT_CONTROL_SOCKET };
  const loaded = await loadConfigFile(path);
  if (loaded.ok) return { ok: true, socket: loaded.config.control.socket };
  if (configPath === undefined) return { ok: true, socket: DEFAULT_CONTROL_SOCKET };
  return { ok: false, message: `cannot read the control socket path from ${path}:\n${formatIssues(loaded.errors, path)}` };
}
