// Splits a diagnostic response body into frame-sized UTF-8 chunks without cutting a character.

import { MAX_RESPONSE_BODY, MAX_RESPONSE_PARTS, RESPONSE_CHUNK } from './frame';

export function splitResponse(body: string): string[] {
  let bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > MAX_RESPONSE_BODY) {
    // Cutting JSON in half would hand the console garbage; say what happened instead.
    body = JSON.stringify({ error: 'response-too-large', bytes, limit: MAX_RESPONSE_BODY });
    bytes = Buffer.byteLength(body, 'utf8');
  }
  const chunks: string[] = [];
  let current = '';
  let currentBytes = 0;
  for (const ch of body) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (currentBytes + n > RESPONSE_CHUNK) {
      chunks.push(current);
      current = '';
      currentBytes = 0;
    }
    current += ch;
    currentBytes += n;
  }
  chunks.push(current);
  if (chunks.length > MAX_RESPONSE_PARTS) throw new Error('splitResponse: bound violated');
  return chunks;
}
