// PLACEHOLDER: replaced by the part that implements 'run'.
export async function runCommand(_args: string[]): Promise<number> {
  process.stderr.write("twinvip: 'run' is not available yet in this build\n");
  return 2;
}
