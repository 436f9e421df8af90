// What every console session counts (status `counters`: console.*), held by the extension from
// start-up; kept apart from shell.ts so the shell's code loads only with the first session.
export interface ConsoleCounters {
  bytes_in: number;
  lines: number;
  commands: number;
  unknown_commands: number;
  noise_bytes: number;
  long_lines: number;
  complaints_suppressed: number;
  typeahead_dropped: number;
  auth_failures: number;
  actions_run: number;
  actions_refused: number;
  actions_cancelled: number;
  command_failures: number;
}

export function newConsoleCounters(): ConsoleCounters {
  return {
    bytes_in: 0, lines: 0, commands: 0, unknown_commands: 0, noise_bytes: 0, long_lines: 0, complaints_suppressed: 0,
    typeahead_dropped: 0, auth_failures: 0, actions_run: 0, actions_refused: 0, actions_cancelled: 0, command_failures: 0,
  };
}
