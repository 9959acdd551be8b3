/**
 * Byte helpers without `Buffer` (the wallet also runs in browsers with the LND REST or NWC
 * backends): hex and base64 (the client's one codec, `@stipend/client/internal`, under the
 * names this package has always exported), SHA-256, and preimage normalisation.
 *
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import {
  anyBase64ToBytes,
  bytesToBase64,
  bytesToHex as hex,
  isHex,
  hexToBytes as unhex,
} from '@stipend/client/internal';

/**
 * Lowercase hex of some bytes.
 *
 * @example
 * ```ts
 * import { bytesToHex } from '@stipend/wallet-lightning';
 * bytesToHex(new Uint8Array([0xde, 0xad])); // 'dead'
 * ```
 */
export const bytesToHex: (bytes: Uint8Array) => string = hex;

/**
 * Bytes of an even-length hex string (either case); throws a `TypeError` otherwise.
 *
 * @example
 * ```ts
 * import { hexToBytes } from '@stipend/wallet-lightning';
 * hexToBytes('DEad'); // Uint8Array [0xde, 0xad]
 * ```
 */
export const hexToBytes: (hex: string) => Uint8Array = unhex;

/**
 * Standard padded base64 (what aperture expects for tokens).
 *
 * @example
 * ```ts
 * import { toStdBase64 } from '@stipend/wallet-lightning';
 * toStdBase64(new Uint8Array([0xfb, 0xff])); // '+/8='
 * ```
 */
export const toStdBase64: (bytes: Uint8Array) => string = bytesToBase64;

/**
 * Decodes standard or URL-safe base64, padding optional but exact when present; throws a
 * `TypeError` otherwise (stray characters, a run of `=`, a non-canonical last character).
 *
 * @example
 * ```ts
 * import { fromBase64 } from '@stipend/wallet-lightning';
 * fromBase64('-_8'); // Uint8Array [0xfb, 0xff]
 * ```
 */
export const fromBase64: (text: string) => Uint8Array = anyBase64ToBytes;

/**
 * SHA-256 of some bytes, lowercase hex.
 *
 * @example
 * ```ts
 * import { hexToBytes, sha256Hex } from '@stipend/wallet-lightning';
 * const paymentHash = sha256Hex(hexToBytes(preimage));
 * ```
 */
export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/**
 * Normalises a preimage as backends report it — hex in either case, standard or URL-safe
 * base64 (LND REST `SendResponse`), or bytes — to 64 lowercase hex characters, and checks
 * that its SHA-256 is the payment hash. A 64-character hex string is also valid base64, so
 * each reading is tried and only one that hashes to `paymentHash` is accepted. Returns
 * `undefined` when no reading matches.
 *
 * @example
 * ```ts
 * import { normalizePreimage } from '@stipend/wallet-lightning';
 * normalizePreimage('ABCD…', paymentHash); // 'abcd…' when sha256 matches, else undefined
 * ```
 */
export function normalizePreimage(
  preimage: string | Uint8Array,
  paymentHash: string,
): string | undefined {
  const candidates: Uint8Array[] = [];
  if (preimage instanceof Uint8Array) candidates.push(preimage);
  else {
    const text = preimage.trim();
    if (isHex(text, 32)) candidates.push(hexToBytes(text));
    try {
      candidates.push(fromBase64(text));
    } catch {
      // not base64
    }
  }
  for (const bytes of candidates) {
    if (bytes.length === 32 && sha256Hex(bytes) === paymentHash) return bytesToHex(bytes);
  }
  return undefined;
}
