// PLACEHOLDER: replaced by the part that implements 'console'.
export async function consoleCommand(_args: string[]): Promise<number> {
  process.stderr.write("twinvip: 'console' is not available yet in this build\n");
  return 2;
}
