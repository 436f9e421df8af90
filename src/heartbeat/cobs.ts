// Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999): removes every 0x00 from a frame
// so 0x00 can delimit frames on the wire. Overhead is at most 1 byte per 254, so the worst case
// is known in advance and a receiver can bound its buffer.

/** Largest encoded size of `n` bytes (without the delimiter). */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.ceil(n / 254) + 1;
}

export function cobsEncode(src: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(cobsMaxEncodedLength(src.length));
  let codeAt = 0;
  let o = 1;
  let code = 1;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    } else {
      out[o++] = b;
      code++;
      if (code === 0xff) {
        out[codeAt] = code;
        codeAt = o++;
        code = 1;
      }
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/**
 * Decodes one frame (delimiters already removed). Returns null when a block claims more bytes
 * than the frame holds — the shape of a frame whose tail was lost on the line — or when a 0x00
 * appears inside (which a well-formed encoder never produces).
 */
export function cobsDecode(src: Uint8Array): Buffer | null {
  const out = Buffer.allocUnsafe(src.length);
  let o = 0;
  let i = 0;
  while (i < src.length) {
    const code = src[i]!;
    if (code === 0) return null;
    if (i + code > src.length) return null;
    for (let k = 1; k < code; k++) {
      const b = src[i + k]!;
      if (b === 0) return null;
      out[o++] = b;
    }
    i += code;
    if (code !== 0xff && i < src.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
