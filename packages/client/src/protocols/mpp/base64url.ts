/**
 * MPP's encoding (base64url without padding, over UTF-8 JSON) lives in the one codec,
 * `internal/codec.ts`. This module only keeps the old import path alive for suites that import
 * it by file path (`test/fuzz/mpp.fuzz.test.ts`, `test/reliability/adversarial-mpp.test.ts`);
 * delete it once they import `packages/client/src/internal/codec.js`.
 *
 * @module
 */
export {
  base64UrlToBytes,
  bytesToBase64Url,
  decodeBase64UrlJson,
  encodeBase64UrlJson,
} from '../../internal/codec.js';
