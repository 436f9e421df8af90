// The argv of a configured command (checks, fence, notify): apart from the schema helpers, so the
// HA thread can use it without loading the schema library (src/ha/worker/).

/** The argv a Command denotes. Strings are split on whitespace; no shell ever sees them. */
export function commandArgv(spec: string | readonly string[]): string[] {
  return typeof spec === 'string' ? spec.trim().split(/\s+/) : [...spec];
}
