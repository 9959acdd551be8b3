/**
 * Strict standard base64 (RFC 4648 §4, `=` padding, no line breaks) of UTF-8 JSON: the encoding
 * of every x402 header. Browser-safe: `atob`/`btoa` and `TextEncoder`/`TextDecoder` only.
 *
 * @module
 */

const STANDARD_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Printable ASCII only: such text is its own UTF-8 (compact JSON escapes the rest). */
const ASCII = /^[ -~]*$/;

/** Largest header value decoded, in characters (a many-offer challenge stays far below). */
export const MAX_HEADER_CHARS = 64 * 1024;

/**
 * Decodes a header value: strict standard base64, then strict UTF-8, then JSON. Throws an
 * `Error` whose message says which step failed; nothing is guessed or repaired (base64url,
 * missing padding, whitespace and invalid UTF-8 are all refused).
 *
 * @example
 * ```ts
 * import { decodeBase64Json } from './base64.js';
 * decodeBase64Json('eyJhIjoxfQ=='); // { a: 1 }
 * decodeBase64Json('eyJhIjoxfQ'); // throws: not padded
 * ```
 */
export function decodeBase64Json(value: string): unknown {
  if (value.length === 0) throw new Error('the header is empty');
  if (value.length > MAX_HEADER_CHARS) {
    throw new Error(`the header is longer than ${MAX_HEADER_CHARS} characters`);
  }
  if (!STANDARD_BASE64.test(value) || value.length % 4 !== 0) {
    throw new Error('the header is not standard padded base64');
  }
  const binary = atob(value);
  // Printable ASCII (the usual case) is already its own UTF-8 decoding.
  if (ASCII.test(binary)) return parseJson(binary);
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error('the header does not decode to UTF-8 text');
  }
  return parseJson(text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error('the header does not decode to JSON');
  }
}

/**
 * Encodes a value as compact JSON, UTF-8, standard padded base64 (what x402 servers read).
 *
 * @example
 * ```ts
 * import { encodeBase64Json } from './base64.js';
 * encodeBase64Json({ a: 1 }); // 'eyJhIjoxfQ=='
 * ```
 */
export function encodeBase64Json(value: unknown): string {
  const json = JSON.stringify(value);
  if (ASCII.test(json)) return btoa(json);
  const bytes = new TextEncoder().encode(json);
  let binary = '';
  for (let index = 0; index < bytes.length; index += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(index, index + 0x8000));
  }
  return btoa(binary);
}
