/**
 * Standard base64 for delegation tokens: padded standard alphabet out (what aperture and
 * go-macaroon expect), either alphabet with or without padding in. Browser-safe (no `Buffer`).
 *
 * @module
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const DECODE = new Map<string, number>();
for (let i = 0; i < ALPHABET.length; i++) DECODE.set(ALPHABET[i]!, i);
DECODE.set('-', 62);
DECODE.set('_', 63);

/**
 * Encodes bytes as standard, padded base64.
 *
 * @example
 * ```ts
 * import { toBase64 } from './base64.js';
 * toBase64(new Uint8Array([2, 1])); // 'AgE='
 * ```
 */
export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!;
    const b = bytes[i + 1];
    const c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += ALPHABET[(n >> 18) & 63]! + ALPHABET[(n >> 12) & 63]!;
    out += b === undefined ? '=' : ALPHABET[(n >> 6) & 63]!;
    out += c === undefined ? '=' : ALPHABET[n & 63]!;
  }
  return out;
}

/**
 * Decodes standard or URL-safe base64, padded or not. Returns `undefined` for anything else
 * (stray characters, impossible lengths, non-zero trailing bits).
 *
 * @example
 * ```ts
 * import { fromBase64 } from './base64.js';
 * fromBase64('AgE'); // Uint8Array [2, 1]
 * ```
 */
export function fromBase64(text: string): Uint8Array | undefined {
  const body = text.replace(/=+$/, '');
  if (text.length - body.length > 2 || body.length % 4 === 1) return undefined;
  if (text.length !== body.length && text.length % 4 !== 0) return undefined;
  const out = new Uint8Array(Math.floor((body.length * 3) / 4));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const char of body) {
    const sextet = DECODE.get(char);
    if (sextet === undefined) return undefined;
    value = ((value << 6) | sextet) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  if ((value & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}
