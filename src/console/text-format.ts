// Plain-ASCII text layout for an 80-column terminal: serial terminals may not speak UTF-8, so no
// box drawing and no ellipsis character.

export const WIDTH = 80;

/** Columns separated by two spaces; the last column is cut to keep each row within `width`. */
export function table(rows: string[][], width = WIDTH): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r) => {
      let line = '';
      r.forEach((c, i) => {
        line += i === r.length - 1 ? c : `${c.padEnd(widths[i] ?? 0)}  `;
      });
      return fit(line.trimEnd(), width);
    })
    .join('\n');
}

/** `label  value` lines with the labels aligned. */
export function pairs(rows: [string, string][], width = WIDTH): string {
  const w = Math.max(0, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => fit(`${k.padEnd(w)}  ${v}`, width)).join('\n');
}

/** Short facts on as few lines as fit `width`, three spaces apart; a fact too long alone is cut. */
export function flow(facts: string[], width = WIDTH, sep = '   '): string {
  const lines: string[] = [];
  for (const f of facts) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + sep.length + f.length <= width) lines[lines.length - 1] = `${last}${sep}${f}`;
    else lines.push(fit(f, width));
  }
  return lines.join('\n');
}

export function fit(line: string, width = WIDTH): string {
  return line.length <= width ? line : `${line.slice(0, width - 2)}..`;
}

/** 3d 4h 5m, 4h 5m 6s, 5m 6s, 6.2s, 340 ms. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const totalS = Math.floor(ms / 1000);
  const d = Math.floor(totalS / 86400);
  const h = Math.floor((totalS % 86400) / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const s = totalS % 60;
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m ${s}s` : `${m}m ${s}s`;
}

export function ago(ms: number | undefined): string {
  return ms === undefined ? 'never' : `${duration(ms)} ago`;
}

/** Keeps only printable ASCII: text from the peer or a log must not drive the terminal. */
export function printable(text: string): string {
  return text.replace(/[^\x20-\x7e\n]/g, '?');
}
