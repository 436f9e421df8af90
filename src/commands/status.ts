// PLACEHOLDER: replaced by the part that implements 'status'.
export async function statusCommand(_args: string[]): Promise<number> {
  process.stderr.write("twinvip: 'status' is not available yet in this build\n");
  return 2;
}
