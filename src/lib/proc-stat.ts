/**
 * One field of a /proc/PID/stat (or /proc/PID/task/TID/stat) text, by its number in proc(5)
 * (1-based: 1 = pid, 2 = comm, 3 = state, 19 = nice, 41 = policy), or undefined when the line is
 * shorter. The command name may hold spaces and parentheses, so fields count from the last ')'.
 */
export function statField(stat: string, n: number): string | undefined {
  if (n === 1) return stat.slice(0, stat.indexOf(' ')) || undefined;
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  if (n === 2) return stat.slice(stat.indexOf('(') + 1, close);
  const value = stat.slice(close + 2).split(' ')[n - 3];
  return value === undefined || value === '' ? undefined : value.trim();
}

/** A numeric field of a stat text (see statField), or undefined. */
export function statNumber(stat: string, n: number): number | undefined {
  const value = statField(stat, n);
  const number = value === undefined ? NaN : Number(value);
  return Number.isFinite(number) ? number : undefined;
}
