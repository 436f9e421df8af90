// PLACEHOLDER: replaced by the part that implements 'demo'.
export async function demoCommand(_args: string[]): Promise<number> {
  process.stderr.write("twinvip: 'demo' is not available yet in this build\n");
  return 2;
}
