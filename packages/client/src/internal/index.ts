/**
 * `@stipend/client/internal`: the one byte codec, the one macaroon v2 codec and the runtime
 * list of error codes, shared by Stipend's own packages (wallets, authority, MCP, testkit).
 * Not part of the public API: no semver promise, and the root entry does not export it.
 *
 * @module
 */

export { isStipendErrorCode, STIPEND_ERROR_CODES } from '../errors/codes.js';
export { readMacaroonUncached } from '../protocols/l402/macaroon.js';
export { type ReadTextOptions, readTextBounded } from './body-text.js';
export {
  anyBase64ToBytes,
  base64ToBinary,
  base64ToBytes,
  base64UrlToBytes,
  binaryToBytes,
  bytesToBase64,
  bytesToBase64Url,
  bytesToHex,
  bytesToUtf8,
  decodeAnyBase64Json,
  decodeBase64UrlJson,
  encodeBase64Json,
  encodeBase64UrlJson,
  hexDigitValue,
  hexToBytes,
  isAscii,
  isHex,
  utf8ToBytes,
} from './codec.js';
export { randomId } from './ids.js';
export {
  type DecodeMacaroonOptions,
  decodeMacaroonV2,
  encodeMacaroonV2,
  type MacaroonCaveat,
  type MacaroonV2,
} from './macaroon.js';
