// PLACEHOLDER: replaced by the part that implements 'import-keepalived'.
export async function importKeepalivedCommand(_args: string[]): Promise<number> {
  process.stderr.write("twinvip: 'import-keepalived' is not available yet in this build\n");
  return 2;
}
