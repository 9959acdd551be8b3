import { createHash, randomBytes } from 'node:crypto';
import {
  base64ToBytes,
  bytesToBase64,
  bytesToHex,
  hexToBytes,
  isHex,
} from '@stipend/client/internal';

/**
 * Byte, hex and base64 helpers shared by the Lightning simulator and the L402 server. The
 * encodings are the client's one codec (`@stipend/client/internal`), under the names the
 * testkit has always exported; hashing and randomness are Node's, like the rest of
 * `@stipend/testkit`.
 */

/**
 * Lowercase hex of some bytes.
 *
 * @example
 * ```ts
 * import { bytesToHex } from '@stipend/testkit/l402';
 * bytesToHex(new Uint8Array([0xde, 0xad])); // 'dead'
 * ```
 */
/**
 * Bytes of an even-length hex string (either case). Throws a `TypeError` on anything else.
 *
 * @example
 * ```ts
 * import { hexToBytes } from '@stipend/testkit/l402';
 * hexToBytes('dead'); // Uint8Array [0xde, 0xad]
 * ```
 */
export { bytesToHex, hexToBytes };

/**
 * True when `value` is exactly 64 lowercase hex characters (a 32-byte hash or preimage as
 * LND and aperture print them).
 *
 * @example
 * ```ts
 * import { isHex32 } from '@stipend/testkit/l402';
 * isHex32('00'.repeat(32)); // true
 * ```
 */
export function isHex32(value: string): boolean {
  return isHex(value, 32) && value === value.toLowerCase();
}

/**
 * SHA-256 of some bytes, as lowercase hex.
 *
 * @example
 * ```ts
 * import { sha256Hex, hexToBytes } from '@stipend/testkit/l402';
 * const paymentHash = sha256Hex(hexToBytes(preimage));
 * ```
 */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * 32 cryptographically random bytes (a preimage, a token id, a root key).
 *
 * @example
 * ```ts
 * import { randomBytes32 } from '@stipend/testkit/l402';
 * const preimage = randomBytes32();
 * ```
 */
export function randomBytes32(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/**
 * Standard, padded base64 (RFC 4648 §4) of some bytes: the form aperture emits and accepts.
 *
 * @example
 * ```ts
 * import { toStdBase64 } from '@stipend/testkit/l402';
 * toStdBase64(new Uint8Array([2, 1])); // 'AgE='
 * ```
 */
export function toStdBase64(bytes: Uint8Array): string {
  return bytesToBase64(bytes);
}

/**
 * Decodes strict standard padded base64, as Go's `base64.StdEncoding.Strict()` does: URL-safe
 * characters, missing padding, stray characters or a non-canonical last character are refused
 * with a `TypeError`.
 *
 * @example
 * ```ts
 * import { fromStdBase64 } from '@stipend/testkit/l402';
 * fromStdBase64('AgE='); // Uint8Array [2, 1]
 * ```
 */
export function fromStdBase64(text: string): Uint8Array {
  try {
    return base64ToBytes(text);
  } catch {
    throw new TypeError(
      'expected standard padded base64 (A-Z a-z 0-9 + /, "=" padding to a multiple of 4)',
    );
  }
}

/**
 * Constant-time equality of two byte arrays (false when the lengths differ).
 *
 * @example
 * ```ts
 * import { bytesEqual } from '@stipend/testkit/l402';
 * bytesEqual(new Uint8Array([1]), new Uint8Array([1])); // true
 * ```
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
