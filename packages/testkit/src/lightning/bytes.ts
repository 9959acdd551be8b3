import { createHash, randomBytes } from 'node:crypto';

/**
 * Byte, hex and base64 helpers shared by the Lightning simulator and the L402 server.
 * Node-only, like the rest of `@stipend/testkit`.
 */

const HEX_32 = /^[0-9a-f]{64}$/;
const STD_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Lowercase hex of some bytes.
 *
 * @example
 * ```ts
 * import { bytesToHex } from '@stipend/testkit/l402';
 * bytesToHex(new Uint8Array([0xde, 0xad])); // 'dead'
 * ```
 */
export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Bytes of an even-length hex string (either case). Throws on anything else.
 *
 * @example
 * ```ts
 * import { hexToBytes } from '@stipend/testkit/l402';
 * hexToBytes('dead'); // Uint8Array [0xde, 0xad]
 * ```
 */
export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError(`expected an even-length hex string, got ${JSON.stringify(hex)}`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

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
  return HEX_32.test(value);
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
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/**
 * Decodes strict standard padded base64, as Go's `base64.StdEncoding` does: URL-safe
 * characters, missing padding or stray characters are refused with a `TypeError`.
 *
 * @example
 * ```ts
 * import { fromStdBase64 } from '@stipend/testkit/l402';
 * fromStdBase64('AgE='); // Uint8Array [2, 1]
 * ```
 */
export function fromStdBase64(text: string): Uint8Array {
  if (!STD_BASE64.test(text)) {
    throw new TypeError(
      'expected standard padded base64 (A-Z a-z 0-9 + /, "=" padding to a multiple of 4)',
    );
  }
  return new Uint8Array(Buffer.from(text, 'base64'));
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
