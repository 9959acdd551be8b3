/**
 * L402 (and legacy LSAT): the adapter, its credential stores, and the small BOLT 11 and
 * macaroon readers it uses. Browser-safe: no Node built-ins, no dependencies.
 *
 * @module
 */

export {
  type Bolt11Network,
  type Bolt11Signature,
  type Bolt11Summary,
  readBolt11,
} from '../bolt11.js';
export { type L402Adapter, type L402AdapterOptions, l402Adapter } from './adapter.js';
export {
  BITCOIN_CAIP2,
  defaultFeeCap,
  type FeeCap,
  type L402OfferRaw,
} from './challenge.js';
export {
  type CredentialStore,
  memoryCredentialStore,
  type StoredL402Credential,
  type WebStorageLike,
  webStorageCredentialStore,
} from './credentials.js';
export { L402TokenError, type L402TokenRefusal } from './errors.js';
export { type MacaroonInfo, readMacaroon } from './macaroon.js';
