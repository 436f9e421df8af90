import { writeFile } from 'node:fs/promises';
import { formatNotes, importKeepalived } from '../config/keepalived/index';

const USAGE = `usage: twinvip import-keepalived FILE [-o OUT] [--config-id ID]

  Converts a keepalived.conf (and the files it includes) into a twinvip configuration.
  The configuration goes to stdout (or OUT); the report of every keyword not carried over,
  with its file and line, goes to stderr.

  -o, --output OUT   write the configuration to OUT instead of stdout
  --config-id ID     keepalived's -i: keep lines starting @ID, drop those starting @^ID

  exit status: 0 converted (the report may list warnings), 1 cannot read, parse or convert,
  2 usage error
`;

interface Options {
  file: string;
  out?: string;
  configId?: string;
}

function parseArgs(args: string[]): Options | string {
  let file: string | undefined;
  let out: string | undefined;
  let configId: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '-o' || a === '--output') {
      out = args[++i];
      if (out === undefined || out === '') return `option ${a} needs a file name`;
    } else if (a === '--config-id') {
      configId = args[++i];
      if (configId === undefined || configId === '') return 'option --config-id needs a value';
    } else if (a === '-h' || a === '--help') return '';
    else if (a.startsWith('-') && a !== '-') return `unknown option '${a}'`;
    else if (file === undefined) file = a;
    else return `unexpected argument '${a}' (one keepalived.conf; its includes are followed)`;
  }
  if (file === undefined) return 'the keepalived.conf to convert is missing';
  const opts: Options = { file };
  if (out !== undefined) opts.out = out;
  if (configId !== undefined) opts.configId = configId;
  return opts;
}

export async function importKeepalivedCommand(args: string[]): Promise<number> {
  const opts = parseArgs(args);
  if (typeof opts === 'string') {
    if (opts === '') {
      process.stdout.write(USAGE);
      return 0;
    }
    process.stderr.write(`twinvip import-keepalived: ${opts}\n${USAGE}`);
    return 2;
  }
  const result = importKeepalived(opts.file, opts.configId === undefined ? {} : { configId: opts.configId });
  const report = formatNotes(result.notes);
  if (!result.ok) {
    if (report) process.stderr.write(`${report}\n`);
    process.stderr.write(`twinvip import-keepalived: ${result.error}\n`);
    return 1;
  }
  if (opts.out !== undefined) {
    try {
      await writeFile(opts.out, result.text);
    } catch (err) {
      process.stderr.write(`twinvip import-keepalived: cannot write ${opts.out}: ${(err as Error).message}\n`);
      return 1;
    }
  } else {
    process.stdout.write(result.text);
  }
  const unconverted = result.notes.filter((n) => n.severity === 'unconverted').length;
  const warnings = result.notes.length - unconverted;
  if (report) process.stderr.write(`${report}\n`);
  for (const w of result.checkWarnings) process.stderr.write(`twinvip check: warning: ${w.path || '/'}: ${w.message}\n`);
  process.stderr.write(
    `import-keepalived: ${result.files.length} file(s) read; ${unconverted} keyword(s) not converted, ${warnings} warning(s)${opts.out ? `; written to ${opts.out}` : ''}\n`,
  );
  return 0;
}
