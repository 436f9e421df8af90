// The arguments of each command from a command line: `maintenance on`, `config FILE`,
// `diagnostics 50`. Shared by `twinvip request` and fleet tools built on the client.
import { readFile } from 'node:fs/promises';

export type ArgsResult = { ok: true; args: Record<string, unknown> } | { ok: false; error: string };

export const COMMAND_USAGE: Record<string, string> = {
  status: 'status',
  diagnostics: 'diagnostics [LOG_LINES]',
  maintenance: 'maintenance on|off',
  failover: 'failover',
  reload: 'reload',
  config: 'config FILE   (a JSON configuration; "-" reads stdin)',
};

export async function commandArgs(command: string, words: string[], readStdin: () => Promise<string>): Promise<ArgsResult> {
  const none = (): ArgsResult => (words.length === 0 ? { ok: true, args: {} } : { ok: false, error: `'${command}' takes no arguments` });
  switch (command) {
    case 'status':
    case 'failover':
    case 'reload':
      return none();
    case 'maintenance': {
      const w = words[0];
      if (words.length !== 1 || (w !== 'on' && w !== 'off')) return { ok: false, error: 'usage: maintenance on|off' };
      return { ok: true, args: { on: w === 'on' } };
    }
    case 'diagnostics': {
      if (words.length === 0) return { ok: true, args: {} };
      const n = Number(words[0]);
      if (words.length !== 1 || !Number.isInteger(n) || n < 1 || n > 1000) return { ok: false, error: 'usage: diagnostics [LOG_LINES 1..1000]' };
      return { ok: true, args: { log_lines: n } };
    }
    case 'config': {
      if (words.length !== 1) return { ok: false, error: 'usage: config FILE (or - for stdin)' };
      let text: string;
      try {
        text = words[0] === '-' ? await readStdin() : await readFile(words[0]!, 'utf8');
      } catch (err) {
        return { ok: false, error: `cannot read ${words[0]}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
      }
      try {
        const config = JSON.parse(text) as unknown;
        if (config === null || typeof config !== 'object' || Array.isArray(config)) return { ok: false, error: `${words[0]} must hold a JSON object` };
        return { ok: true, args: { config } };
      } catch (err) {
        return { ok: false, error: `${words[0]} is not JSON: ${(err as Error).message}` };
      }
    }
    default:
      return none();
  }
}
