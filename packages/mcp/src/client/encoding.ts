/**
 * JSON in base64 (x402 headers) and in base64url without padding (MPP credentials and
 * receipts), for the synthetic HTTP exchange the MCP bridge hands to the protocol adapters.
 * Browser-safe: `btoa` / `atob` and `TextEncoder` / `TextDecoder` only.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function toBinary(bytes: Uint8Array): string {
  let binary = '';
  for (let index = 0; index < bytes.length; index += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  }
  return binary;
}

function fromBinary(binary: string): Uint8Array {
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/**
 * Compact JSON, UTF-8, standard padded base64 (what x402 servers put in `PAYMENT-REQUIRED`).
 *
 * @example
 * ```ts
 * import { encodeBase64Json } from './encoding.js';
 * encodeBase64Json({ a: 1 }); // 'eyJhIjoxfQ=='
 * ```
 */
export function encodeBase64Json(value: unknown): string {
  return btoa(toBinary(encoder.encode(JSON.stringify(value))));
}

/**
 * Decodes standard base64 (or base64url, padded or not) holding UTF-8 JSON.
 *
 * @throws {Error} when the text is not base64, not UTF-8 or not JSON.
 * @example
 * ```ts
 * import { decodeBase64Json } from './encoding.js';
 * decodeBase64Json('eyJhIjoxfQ'); // { a: 1 }
 * ```
 */
export function decodeBase64Json(text: string): unknown {
  const standard = text.trim().replace(/-/g, '+').replace(/_/g, '/');
  const padded = standard + '='.repeat((4 - (standard.length % 4)) % 4);
  return JSON.parse(decoder.decode(fromBinary(atob(padded))));
}

/**
 * Compact JSON, UTF-8, base64url without padding (MPP's encoding).
 *
 * @example
 * ```ts
 * import { encodeBase64UrlJson } from './encoding.js';
 * encodeBase64UrlJson({ a: 1 }); // 'eyJhIjoxfQ'
 * ```
 */
export function encodeBase64UrlJson(value: unknown): string {
  return encodeBase64Json(value).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}
