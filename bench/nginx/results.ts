// Latest results of a benchmark as JSON beside it (bench/nginx/results/<name>.json), committed
// with the README figures they back.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeResult(name: string, data: unknown): string {
  const dir = join(process.cwd(), 'bench', 'nginx', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
