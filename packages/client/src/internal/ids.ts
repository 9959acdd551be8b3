/** A random 128-bit id as 32 lowercase hex characters (Web Crypto; works in browsers and Node). */
export function randomId(prefix = ''): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return prefix + hex;
}
