/**
 * The one home of Stipend's byte encodings: hex, base64 (RFC 4648 §4), base64url (§5) and
 * UTF-8, plus JSON carried in them. Every package (client, wallets, authority, MCP, testkit)
 * imports these from `@stipend/client/internal`; nothing else decodes base64 or hex.
 *
 * Browser-safe and dependency-free (no `Buffer`). Bytes are decoded through lookup tables and
 * encoded into a byte array turned into a string by one native call (no per-character string
 * building, no array-of-strings joins). JSON that is ASCII (nearly every x402 and MPP value)
 * takes the native `btoa`/`atob` instead, after the same strict checks; the few regular
 * expressions are compiled once, at load.
 *
 * The decoders are strict and throw a `TypeError` (the message never repeats the input, which
 * may be a secret) for:
 * - a character outside the alphabet (whitespace and line breaks included);
 * - an impossible length (one character past a multiple of four);
 * - `=` anywhere but at the end, more than two of them, or padding that does not complete a
 *   multiple of four characters;
 * - non-zero unused bits in the last character (RFC 4648 §3.5: two texts never decode to
 *   the same bytes).
 *
 * Padding, per decoder:
 * | decoder | alphabet | `=` padding |
 * |---|---|---|
 * | {@link base64ToBytes} | standard (`+/`) | required (length a multiple of 4) |
 * | {@link base64UrlToBytes} | URL-safe (`-_`) | optional; when present it must be exact |
 * | {@link anyBase64ToBytes} | either, even mixed | optional; when present it must be exact |
 *
 * Encoders: {@link bytesToBase64} pads, {@link bytesToBase64Url} never pads,
 * {@link bytesToHex} writes lowercase; {@link hexToBytes} reads either case.
 *
 * @module
 */

const STANDARD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const URL_SAFE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Marks a character that is not in the alphabet (any value ≥ 64 is invalid). */
const INVALID = 0xff;
const EQUALS = 61;

function codes(alphabet: string): Uint8Array {
  const out = new Uint8Array(64);
  for (let i = 0; i < 64; i++) out[i] = alphabet.charCodeAt(i);
  return out;
}

function values(...alphabets: string[]): Uint8Array {
  const out = new Uint8Array(128).fill(INVALID);
  for (const alphabet of alphabets) {
    for (let i = 0; i < 64; i++) out[alphabet.charCodeAt(i)] = i;
  }
  return out;
}

const STANDARD_CODES = codes(STANDARD);
const URL_CODES = codes(URL_SAFE);
const STANDARD_VALUES = values(STANDARD);
const URL_VALUES = values(URL_SAFE);
const ANY_VALUES = values(STANDARD, URL_SAFE);

const HEX_CODES = codes('0123456789abcdef'.repeat(4));
const HEX_PAIRS: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'),
);
const HEX_VALUES = (() => {
  const out = new Uint8Array(128).fill(INVALID);
  for (let i = 0; i < 16; i++) {
    out['0123456789abcdef'.charCodeAt(i)] = i;
    out['0123456789ABCDEF'.charCodeAt(i)] = i;
  }
  return out;
})();

const utf8Encoder = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
/** Our encoders emit ASCII only, which every single-byte decoder reads alike. */
const latin1 = new TextDecoder('latin1');
/** Text that is all ASCII is its own UTF-8 and binary string (anchored: fastest to test). */
const ALL_ASCII = /^[\0-\x7f]*$/;
/** Whole-text shapes, checked before the native `atob` (which forgives whitespace). */
const STANDARD_TEXT = /^[A-Za-z0-9+/]*={0,2}$/;
const URL_TEXT = /^[A-Za-z0-9_-]*={0,2}$/;

/** Turns ASCII codes into a string in one native call (no per-character concatenation). */
function ascii(out: Uint8Array): string {
  return latin1.decode(out);
}

function encode(bytes: Uint8Array, alphabet: Uint8Array, pad: boolean): string {
  const length = bytes.length;
  const rest = length % 3;
  const full = length - rest;
  const out = new Uint8Array(pad ? Math.ceil(length / 3) * 4 : Math.ceil((length * 4) / 3));
  let at = 0;
  for (let i = 0; i < full; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out[at++] = alphabet[n >>> 18]!;
    out[at++] = alphabet[(n >>> 12) & 63]!;
    out[at++] = alphabet[(n >>> 6) & 63]!;
    out[at++] = alphabet[n & 63]!;
  }
  if (rest > 0) {
    const n = (bytes[full]! << 16) | (rest === 2 ? bytes[full + 1]! << 8 : 0);
    out[at++] = alphabet[n >>> 18]!;
    out[at++] = alphabet[(n >>> 12) & 63]!;
    if (rest === 2) out[at++] = alphabet[(n >>> 6) & 63]!;
    else if (pad) out[at++] = EQUALS;
    if (pad) out[at++] = EQUALS;
  }
  return ascii(out);
}

/** Value of the character at `i` in `table`, or `INVALID`. */
function valueAt(text: string, i: number, table: Uint8Array): number {
  const code = text.charCodeAt(i);
  return code < 128 ? table[code]! : INVALID;
}

/** The length of the text without its padding, after checking the padding rules. */
function bodyLength(text: string, padRequired: boolean): number {
  let end = text.length;
  if (end > 0 && text.charCodeAt(end - 1) === EQUALS) {
    end--;
    if (end > 0 && text.charCodeAt(end - 1) === EQUALS) end--;
    // With the padding, the text must be whole quartets; a third "=" fails the alphabet.
    if (text.length % 4 !== 0) throw new TypeError('base64 padding ("=") is misplaced or wrong');
  } else if (padRequired && end % 4 !== 0) {
    throw new TypeError('base64 is missing its "=" padding');
  }
  if (end % 4 === 1) throw new TypeError('impossible base64 length');
  return end;
}

/** Throws unless the unused low bits of the last character are zero (RFC 4648 §3.5). */
function checkCanonical(text: string, end: number, table: Uint8Array): void {
  const rest = end % 4;
  if (rest === 0) return;
  const last = valueAt(text, end - 1, table);
  if ((last & (rest === 2 ? 0x0f : 0x03)) !== 0) {
    throw new TypeError('base64 has non-zero unused bits in its last character');
  }
}

/**
 * Checks a whole base64 text and returns its bytes as a binary string, through the native
 * `atob` (fast in browsers and Node ≥ 20). For the JSON readers, which need no byte array
 * when the payload is ASCII.
 */
function binary(text: string, url: boolean, padRequired: boolean): string {
  if (!(url ? URL_TEXT : STANDARD_TEXT).test(text)) {
    throw new TypeError('a character is outside the base64 alphabet, or "=" is misplaced');
  }
  const end = bodyLength(text, padRequired);
  checkCanonical(text, end, url ? URL_VALUES : STANDARD_VALUES);
  return atob(url ? text.replaceAll('-', '+').replaceAll('_', '/') : text);
}

/** Parses JSON from a binary string of UTF-8 (strict: invalid UTF-8 is refused). */
function jsonOfBinary(text: string): unknown {
  if (ALL_ASCII.test(text)) return JSON.parse(text);
  return JSON.parse(utf8Strict.decode(binaryToBytes(text)));
}

function decode(text: string, table: Uint8Array, padRequired: boolean): Uint8Array {
  const end = bodyLength(text, padRequired);
  const rest = end % 4;
  const full = end - rest;
  const out = new Uint8Array((full / 4) * 3 + (rest === 0 ? 0 : rest - 1));
  let at = 0;
  for (let i = 0; i < full; i += 4) {
    const a = valueAt(text, i, table);
    const b = valueAt(text, i + 1, table);
    const c = valueAt(text, i + 2, table);
    const d = valueAt(text, i + 3, table);
    if ((a | b | c | d) > 63) throw new TypeError('a character is outside the base64 alphabet');
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[at++] = n >>> 16;
    out[at++] = (n >>> 8) & 0xff;
    out[at++] = n & 0xff;
  }
  if (rest > 0) {
    const a = valueAt(text, full, table);
    const b = valueAt(text, full + 1, table);
    const c = rest === 3 ? valueAt(text, full + 2, table) : 0;
    if ((a | b | c) > 63) throw new TypeError('a character is outside the base64 alphabet');
    const n = (a << 18) | (b << 12) | (c << 6);
    // Unused low bits must be zero (RFC 4648 §3.5), so one text means one byte string.
    if ((rest === 2 ? n & 0xffff : n & 0xff) !== 0) {
      throw new TypeError('base64 has non-zero unused bits in its last character');
    }
    out[at++] = n >>> 16;
    if (rest === 3) out[at++] = (n >>> 8) & 0xff;
  }
  return out;
}

/**
 * Encodes bytes as standard base64 with `=` padding (RFC 4648 §4): what x402 headers,
 * aperture tokens and delegation tokens use.
 *
 * @example
 * ```ts
 * import { bytesToBase64 } from '@stipend/client/internal';
 * bytesToBase64(new Uint8Array([0xfb, 0xff])); // '+/8='
 * ```
 */
export function bytesToBase64(bytes: Uint8Array): string {
  return encode(bytes, STANDARD_CODES, true);
}

/**
 * Decodes strict standard base64: `+/` alphabet, `=` padding required (the length is a
 * multiple of four), canonical last character. Go's `base64.StdEncoding.Strict()` reads alike.
 *
 * @throws {TypeError} for anything else (see the module notes).
 * @example
 * ```ts
 * import { base64ToBytes } from '@stipend/client/internal';
 * base64ToBytes('+/8='); // Uint8Array [0xfb, 0xff]
 * base64ToBytes('+/8'); // throws: not padded
 * ```
 */
export function base64ToBytes(text: string): Uint8Array {
  return decode(text, STANDARD_VALUES, true);
}

/**
 * Decodes strict standard base64 (the rules of {@link base64ToBytes}) into a binary string
 * (one character per byte) with the native `atob`: the fast path for a payload that is
 * usually ASCII, such as an x402 header's JSON (see {@link isAscii}).
 *
 * @throws {TypeError} for anything {@link base64ToBytes} refuses.
 * @example
 * ```ts
 * import { base64ToBinary, isAscii } from '@stipend/client/internal';
 * const text = base64ToBinary('eyJhIjoxfQ=='); // '{"a":1}'
 * if (isAscii(text)) JSON.parse(text);
 * ```
 */
export function base64ToBinary(text: string): string {
  return binary(text, false, true);
}

/**
 * The bytes of a binary string (one character per byte, as {@link base64ToBinary} returns).
 *
 * @throws {TypeError} when a character is above U+00FF (it is not a binary string).
 * @example
 * ```ts
 * import { binaryToBytes } from '@stipend/client/internal';
 * binaryToBytes('\xc3\xa9'); // Uint8Array [0xc3, 0xa9]
 * ```
 */
export function binaryToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) throw new TypeError('not a binary string: a character is above U+00FF');
    out[i] = code;
  }
  return out;
}

/**
 * Whether every character of `text` is ASCII (then the text is its own UTF-8 and its own
 * binary string).
 *
 * @example
 * ```ts
 * import { isAscii } from '@stipend/client/internal';
 * isAscii('{"a":1}'); // true
 * isAscii('é'); // false
 * ```
 */
export function isAscii(text: string): boolean {
  return ALL_ASCII.test(text);
}

/**
 * Encodes bytes as base64url without padding (RFC 4648 §5): MPP's encoding.
 *
 * @example
 * ```ts
 * import { bytesToBase64Url } from '@stipend/client/internal';
 * bytesToBase64Url(new Uint8Array([0xfb, 0xff])); // '-_8'
 * ```
 */
export function bytesToBase64Url(bytes: Uint8Array): string {
  return encode(bytes, URL_CODES, false);
}

/**
 * Decodes base64url (`-_` alphabet). Padding is optional but, when present, exact (as the
 * MPP method specs ask decoders to accept); the last character must be canonical.
 *
 * @throws {TypeError} for anything else (see the module notes).
 * @example
 * ```ts
 * import { base64UrlToBytes } from '@stipend/client/internal';
 * base64UrlToBytes('aGk'); // Uint8Array [104, 105]
 * base64UrlToBytes('aGk='); // the same
 * ```
 */
export function base64UrlToBytes(text: string): Uint8Array {
  return decode(text, URL_VALUES, false);
}

/**
 * Decodes base64 in either alphabet (standard or URL-safe, even mixed), padding optional but
 * exact when present, canonical last character. For tokens that servers send in both forms
 * (L402 macaroons, LND macaroons and preimages, delegation tokens).
 *
 * @throws {TypeError} for anything else (see the module notes).
 * @example
 * ```ts
 * import { anyBase64ToBytes } from '@stipend/client/internal';
 * anyBase64ToBytes('-_8'); // Uint8Array [0xfb, 0xff]
 * anyBase64ToBytes('+/8='); // the same
 * ```
 */
export function anyBase64ToBytes(text: string): Uint8Array {
  return decode(text, ANY_VALUES, false);
}

/**
 * Lowercase hex of bytes.
 *
 * @example
 * ```ts
 * import { bytesToHex } from '@stipend/client/internal';
 * bytesToHex(new Uint8Array([0xde, 0xad])); // 'dead'
 * ```
 */
export function bytesToHex(bytes: Uint8Array): string {
  const length = bytes.length;
  if (length <= 64) {
    let out = '';
    for (let i = 0; i < length; i++) out += HEX_PAIRS[bytes[i]!];
    return out;
  }
  const out = new Uint8Array(length * 2);
  for (let i = 0; i < length; i++) {
    const byte = bytes[i]!;
    out[2 * i] = HEX_CODES[byte >>> 4]!;
    out[2 * i + 1] = HEX_CODES[byte & 15]!;
  }
  return ascii(out);
}

/**
 * Bytes of an even-length hex string, either case, nothing else (no `0x`, no whitespace).
 *
 * @throws {TypeError} for an odd length or a character that is not a hex digit.
 * @example
 * ```ts
 * import { hexToBytes } from '@stipend/client/internal';
 * hexToBytes('DEad'); // Uint8Array [0xde, 0xad]
 * ```
 */
export function hexToBytes(hex: string): Uint8Array {
  const length = hex.length;
  if (length % 2 !== 0) throw new TypeError('expected an even-length hex string');
  const out = new Uint8Array(length / 2);
  for (let i = 0; i < length; i += 2) {
    const high = valueAt(hex, i, HEX_VALUES);
    const low = valueAt(hex, i + 1, HEX_VALUES);
    if ((high | low) > 15) throw new TypeError('expected an even-length hex string');
    out[i / 2] = (high << 4) | low;
  }
  return out;
}

/**
 * The value (0-15) of one hex digit given as a character code, either case, or -1. For
 * parsers that read hex inline (the `\\uXXXX` escapes of a `WWW-Authenticate` value).
 *
 * @example
 * ```ts
 * import { hexDigitValue } from '@stipend/client/internal';
 * hexDigitValue('F'.charCodeAt(0)); // 15
 * hexDigitValue('g'.charCodeAt(0)); // -1
 * ```
 */
export function hexDigitValue(code: number): number {
  const value = code < 128 ? HEX_VALUES[code]! : INVALID;
  return value > 15 ? -1 : value;
}

/**
 * Whether `text` is hex (either case) of exactly `bytes` bytes, or of any whole number of
 * bytes when `bytes` is omitted.
 *
 * @example
 * ```ts
 * import { isHex } from '@stipend/client/internal';
 * isHex('ab'.repeat(32), 32); // true
 * isHex('0xab'); // false
 * ```
 */
export function isHex(text: string, bytes?: number): boolean {
  const length = text.length;
  if (bytes === undefined ? length % 2 !== 0 : length !== bytes * 2) return false;
  for (let i = 0; i < length; i++) {
    if (valueAt(text, i, HEX_VALUES) > 15) return false;
  }
  return true;
}

/**
 * UTF-8 bytes of a string.
 *
 * @example
 * ```ts
 * import { utf8ToBytes } from '@stipend/client/internal';
 * utf8ToBytes('é'); // Uint8Array [0xc3, 0xa9]
 * ```
 */
export function utf8ToBytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/**
 * Strict UTF-8 decoding: invalid sequences throw instead of becoming U+FFFD. A leading byte
 * order mark is dropped (the WHATWG default).
 *
 * @throws {TypeError} when the bytes are not UTF-8.
 * @example
 * ```ts
 * import { bytesToUtf8 } from '@stipend/client/internal';
 * bytesToUtf8(new Uint8Array([0xc3, 0xa9])); // 'é'
 * ```
 */
export function bytesToUtf8(bytes: Uint8Array): string {
  return utf8Strict.decode(bytes);
}

/**
 * Compact JSON, UTF-8, standard padded base64: the encoding of x402 headers.
 *
 * @example
 * ```ts
 * import { encodeBase64Json } from '@stipend/client/internal';
 * encodeBase64Json({ a: 1 }); // 'eyJhIjoxfQ=='
 * ```
 */
export function encodeBase64Json(value: unknown): string {
  const json = JSON.stringify(value);
  // ASCII JSON is its own binary string: the native btoa encodes it in one call.
  return ALL_ASCII.test(json) ? btoa(json) : bytesToBase64(utf8Encoder.encode(json));
}

/**
 * Compact JSON, UTF-8, base64url without padding: MPP's `request`, credential and receipt.
 *
 * @example
 * ```ts
 * import { encodeBase64UrlJson } from '@stipend/client/internal';
 * encodeBase64UrlJson({ a: 1 }); // 'eyJhIjoxfQ'
 * ```
 */
export function encodeBase64UrlJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (!ALL_ASCII.test(json)) return bytesToBase64Url(utf8Encoder.encode(json));
  const standard = btoa(json);
  let end = standard.length;
  while (end > 0 && standard.charCodeAt(end - 1) === EQUALS) end--;
  return standard.slice(0, end).replaceAll('+', '-').replaceAll('/', '_');
}

/**
 * Decodes base64url (see {@link base64UrlToBytes}) holding UTF-8 JSON. Invalid UTF-8 is
 * refused, never replaced.
 *
 * @throws {TypeError} when the text is not base64url or not UTF-8.
 * @throws {SyntaxError} when it is not JSON.
 * @example
 * ```ts
 * import { decodeBase64UrlJson } from '@stipend/client/internal';
 * decodeBase64UrlJson('eyJhIjoxfQ'); // { a: 1 }
 * ```
 */
export function decodeBase64UrlJson(text: string): unknown {
  return jsonOfBinary(binary(text, true, false));
}

/**
 * Decodes base64 in either alphabet (see {@link anyBase64ToBytes}) holding UTF-8 JSON: for a
 * reader that meets both x402 (standard) and MPP (base64url) values.
 *
 * @throws {TypeError} when the text is not base64 or not UTF-8.
 * @throws {SyntaxError} when it is not JSON.
 * @example
 * ```ts
 * import { decodeAnyBase64Json } from '@stipend/client/internal';
 * decodeAnyBase64Json('eyJhIjoxfQ=='); // { a: 1 }
 * decodeAnyBase64Json('eyJhIjoxfQ'); // { a: 1 }
 * ```
 */
export function decodeAnyBase64Json(text: string): unknown {
  return JSON.parse(utf8Strict.decode(anyBase64ToBytes(text)));
}
