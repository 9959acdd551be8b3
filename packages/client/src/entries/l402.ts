/**
 * `@stipend/client/l402`: the L402 protocol adapter (Lightning invoices with macaroon or
 * opaque tokens), its credential stores and token reader. Use it with `@stipend/client/core`.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client/core';
 * import { l402Adapter } from '@stipend/client/l402';
 *
 * const payingFetch = createPayingFetch({ adapters: [l402Adapter()], wallets: [wallet] });
 * ```
 *
 * @module
 */
export {
  type L402Adapter,
  type L402AdapterOptions,
  l402Adapter,
} from '../protocols/l402/adapter.js';
export type { FeeCap, L402OfferRaw } from '../protocols/l402/challenge.js';
export {
  type CredentialStore,
  memoryCredentialStore,
  type StoredL402Credential,
  type WebStorageLike,
  webStorageCredentialStore,
} from '../protocols/l402/credentials.js';
export { L402TokenError, type L402TokenRefusal } from '../protocols/l402/errors.js';
export { type MacaroonInfo, readMacaroon } from '../protocols/l402/macaroon.js';
