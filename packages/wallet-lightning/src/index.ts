/**
 * `@stipend/wallet-lightning`: pays L402 (`l402:bolt11`) and MPP Lightning charge
 * (`mpp:lightning.charge`) offers for `@stipend/client`, through LND (gRPC or REST) or Nostr
 * Wallet Connect; checks invoices before paying; keeps crash-safe payment records; reads and
 * attenuates L402 macaroons for sub-agents.
 *
 * Browser use: this entry (the wallet, the LND REST and NWC backends, the macaroon tools and
 * the memory stores) has no Node built-ins and bundles for browsers as it is. The Node-only
 * parts have their own entries: `@stipend/wallet-lightning/lnd-grpc` (`lndGrpcBackend`, LND
 * over gRPC) and `@stipend/wallet-lightning/file` (`filePaymentStore`,
 * `fileCredentialStore`).
 *
 * @module
 */
export {
  type BackendLookup,
  type BackendPayment,
  type BackendPayRequest,
  isLightningBackendError,
  type LightningBackend,
  LightningBackendError,
  type LightningBackendErrorCode,
} from './backend.js';
export {
  bytesToHex,
  fromBase64,
  hexToBytes,
  normalizePreimage,
  sha256Hex,
  toStdBase64,
} from './bytes.js';
export { credentialStore, type L402Credential, type L402CredentialStore } from './credentials.js';
export {
  type DelegatedCredential,
  type DelegateOptions,
  delegateL402Credential,
} from './delegate.js';
export {
  DEFAULT_INVOICE_EXPIRY_SECONDS,
  type DecodedInvoice,
  decodeInvoice,
  INVOICE_PREFIXES,
  InvoiceError,
  type LightningNetworkName,
  networkOfInvoice,
} from './invoice.js';
export { type LndRestOptions, lndRestBackend } from './lnd-rest.js';
export {
  type Attenuation,
  addCaveats,
  attenuateL402Token,
  decodeMacaroon,
  encodeMacaroon,
  type L402TokenInfo,
  type MacaroonCaveat,
  MacaroonError,
  type MacaroonV2,
  readL402Token,
} from './macaroon.js';
export { type NwcClientLike, type NwcOptions, nwcBackend } from './nwc.js';
export { type LightningPaymentRecord, memoryPaymentStore, type PaymentStore } from './payments.js';
export {
  LIGHTNING_RAILS,
  type LightningWallet,
  type LightningWalletOptions,
  lightningWallet,
} from './wallet.js';
