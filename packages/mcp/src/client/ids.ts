/**
 * A random 128-bit id, as 32 lower-case hex digits after `prefix` (Web Crypto).
 *
 * @example
 * ```ts
 * import { randomIdOf } from './ids.js';
 * randomIdOf('mcp_'); // 'mcp_3f…' (36 characters)
 * ```
 */
export function randomIdOf(prefix: string): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return prefix + hex;
}
