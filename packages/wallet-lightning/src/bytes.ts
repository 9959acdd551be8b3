/**
 * Byte helpers without `Buffer` (the wallet also runs in browsers with the LND REST or NWC
 * backends): hex, standard base64, SHA-256, and preimage normalisation.
 *
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';

const HEX = /^[0-9a-fA-F]*$/;

/**
 * Lowercase hex of some bytes.
 *
 * @example
 * ```ts
 * import { bytesToHex } from '@stipend/wallet-lightning';
 * bytesToHex(new Uint8Array([0xde, 0xad])); // 'dead'
 * ```
 */
export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/**
 * Bytes of an even-length hex string (either case); throws a `TypeError` otherwise.
 *
 * @example
 * ```ts
 * import { hexToBytes } from '@stipend/wallet-lightning';
 * hexToBytes('DEad'); // Uint8Array [0xde, 0xad]
 * ```
 */
export function hexToBytes(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !HEX.test(hex)) {
    throw new TypeError('expected an even-length hex string');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * Standard padded base64 (what aperture expects for tokens).
 *
 * @example
 * ```ts
 * import { toStdBase64 } from '@stipend/wallet-lightning';
 * toStdBase64(new Uint8Array([0xfb, 0xff])); // '+/8='
 * ```
 */
export function toStdBase64(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Decodes standard or URL-safe base64, padding optional; throws a `TypeError` otherwise.
 *
 * @example
 * ```ts
 * import { fromBase64 } from '@stipend/wallet-lightning';
 * fromBase64('-_8'); // Uint8Array [0xfb, 0xff]
 * ```
 */
export function fromBase64(text: string): Uint8Array {
  const normal = text.replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(normal) || normal.length % 4 === 1) {
    throw new TypeError('not base64');
  }
  const binary = atob(normal + '='.repeat((4 - (normal.length % 4)) % 4));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

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
    if (text.length === 64 && HEX.test(text)) candidates.push(hexToBytes(text));
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
