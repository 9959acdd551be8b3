/**
 * base64url (RFC 4648 §5) without padding, over UTF-8 JSON: the encoding MPP uses for the
 * `request` and `opaque` challenge parameters, the credential and the receipt. Browser-safe
 * (no Node built-ins) and table-driven: `atob`/`btoa` are slow in Node and work on binary
 * strings.
 *
 * @module
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const VALUES = new Int8Array(128).fill(-1);
const CODES = new Uint8Array(64);
for (let i = 0; i < ALPHABET.length; i++) {
  VALUES[ALPHABET.charCodeAt(i)] = i;
  CODES[i] = ALPHABET.charCodeAt(i);
}
const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();
/** The encoder's output is ASCII, which every single-byte decoder reads alike. */
const ascii = new TextDecoder('latin1');

/**
 * Decodes base64url text into bytes. Padding (`=`) is accepted when it is exactly right, as the
 * MPP method specs ask decoders to; any other character, or an impossible length, is refused.
 *
 * @throws {TypeError} when the text is not base64url.
 * @example
 * ```ts
 * import { base64UrlToBytes } from './base64url.js';
 * base64UrlToBytes('aGk'); // Uint8Array [104, 105]
 * ```
 */
export function base64UrlToBytes(text: string): Uint8Array {
  let end = text.length;
  const pad = text.indexOf('=');
  if (pad !== -1) {
    const tail = text.slice(pad);
    if ((tail !== '=' && tail !== '==') || text.length % 4 !== 0) {
      throw new TypeError('misplaced or wrong "=" padding');
    }
    end = pad;
  }
  if (end % 4 === 1) throw new TypeError('impossible base64url length');
  const out = new Uint8Array((end * 3) >> 2);
  let acc = 0;
  let bits = 0;
  let at = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? VALUES[code]! : -1;
    if (value < 0) throw new TypeError('characters outside the base64url alphabet');
    acc = ((acc << 6) | value) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/**
 * Encodes bytes as base64url without padding.
 *
 * @example
 * ```ts
 * import { bytesToBase64Url } from './base64url.js';
 * bytesToBase64Url(new Uint8Array([104, 105])); // 'aGk'
 * ```
 */
export function bytesToBase64Url(bytes: Uint8Array): string {
  const length = bytes.length;
  const full = length - (length % 3);
  const out = new Uint8Array(Math.ceil((length * 4) / 3));
  let at = 0;
  for (let i = 0; i < full; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[at++] = CODES[n >> 18]!;
    out[at++] = CODES[(n >> 12) & 63]!;
    out[at++] = CODES[(n >> 6) & 63]!;
    out[at++] = CODES[n & 63]!;
  }
  const rest = length - full;
  if (rest > 0) {
    const n = (bytes[full]! << 16) | (rest === 2 ? bytes[full + 1]! << 8 : 0);
    out[at++] = CODES[n >> 18]!;
    out[at++] = CODES[(n >> 12) & 63]!;
    if (rest === 2) out[at++] = CODES[(n >> 6) & 63]!;
  }
  return ascii.decode(out.subarray(0, at));
}

/**
 * Decodes base64url text holding UTF-8 JSON. Invalid UTF-8 is refused (never replaced).
 *
 * @throws {TypeError | SyntaxError} when the text is not base64url, not UTF-8 or not JSON.
 * @example
 * ```ts
 * import { decodeBase64UrlJson } from './base64url.js';
 * decodeBase64UrlJson('eyJhIjoxfQ'); // { a: 1 }
 * ```
 */
export function decodeBase64UrlJson(text: string): unknown {
  return JSON.parse(utf8.decode(base64UrlToBytes(text)));
}

/**
 * Encodes a JSON value as base64url (UTF-8, no padding).
 *
 * @example
 * ```ts
 * import { encodeBase64UrlJson } from './base64url.js';
 * encodeBase64UrlJson({ a: 1 }); // 'eyJhIjoxfQ'
 * ```
 */
export function encodeBase64UrlJson(value: unknown): string {
  return bytesToBase64Url(encoder.encode(JSON.stringify(value)));
}
