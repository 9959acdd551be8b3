/**
 * MPP (Machine Payments Protocol, the `Payment` HTTP authentication scheme): the protocol
 * adapter, the `Accept-Payment` builder and the types wallets need.
 *
 * @module
 */
export { acceptPaymentHeader } from './accept-payment.js';
export { type MppAdapterOptions, mppAdapter } from './adapter.js';
export { base64UrlToBytes, decodeBase64UrlJson, encodeBase64UrlJson } from './base64url.js';
export {
  CREDENTIAL_HEADERS,
  type MissingExpiresRule,
  type MppOfferRaw,
} from './challenge.js';
export { idempotencyKeyFor, type MppProofSecret } from './credential.js';
export { parseReceipt } from './settle.js';
export type { KnownToken } from './terms.js';
