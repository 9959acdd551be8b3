/**
 * x402 header values: compact UTF-8 JSON in strict standard padded base64 (RFC 4648 §4), the
 * encoding of `PAYMENT-REQUIRED`, `PAYMENT-SIGNATURE` and `PAYMENT-RESPONSE`. The bytes are
 * decoded by the one codec (`internal/codec.ts`); this file adds only the header rules: a size
 * cap, and errors that name the step that failed.
 *
 * @module
 */
import {
  base64ToBinary,
  binaryToBytes,
  bytesToUtf8,
  encodeBase64Json,
  isAscii,
} from '../../internal/codec.js';

export { encodeBase64Json };

/** Largest header value decoded, in characters (a many-offer challenge stays far below). */
export const MAX_HEADER_CHARS = 64 * 1024;

/**
 * Decodes a header value: strict standard base64, then strict UTF-8, then JSON. Throws an
 * `Error` whose message says which step failed; nothing is guessed or repaired (base64url,
 * missing padding, whitespace, non-canonical last characters and invalid UTF-8 are all
 * refused).
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
  let binary: string;
  try {
    binary = base64ToBinary(value);
  } catch {
    throw new Error('the header is not standard padded base64');
  }
  // ASCII (the usual case) is its own UTF-8: no byte array, no decoder.
  let text = binary;
  if (!isAscii(binary)) {
    try {
      text = bytesToUtf8(binaryToBytes(binary));
    } catch {
      throw new Error('the header does not decode to UTF-8 text');
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error('the header does not decode to JSON');
  }
}
