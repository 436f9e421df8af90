// PLACEHOLDER: replaced by the part that implements 'check'.
export async function checkCommand(_args: string[]): Promise<number> {
  process.stderr.write("twinvip: 'check' is not available yet in this build\n");
  return 2;
}
