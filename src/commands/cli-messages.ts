/**
 * The two ways an operator command ends badly: a usage error (exit 2, the reason and the usage
 * text) and a failure with its own exit status (the reason alone). One wording for every command.
 */
export function cliMessages(command: string, usageText: string): { usage(why: string): number; fail(code: number, why: string): number } {
  return {
    usage(why) {
      process.stderr.write(`twinvip ${command}: ${why}\n\n${usageText}`);
      return 2;
    },
    fail(code, why) {
      process.stderr.write(`twinvip ${command}: ${why}\n`);
      return code;
    },
  };
}
