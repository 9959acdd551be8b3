/**
 * x402 `exact` on Lightning (`lnbtc`) for tests: the spec's test vectors, and a seller written
 * from the spec (`startLnbtcSeller`) over the testkit's Lightning simulator (a stand-in for a
 * real network: invoices are real and signed, paying is a registry lookup). Node-only.
 *
 * @packageDocumentation
 */
export {
  checkBoundHeaders,
  type SellerBinding,
  type SellerBindingInput,
  sellerHttpBinding,
} from './binding.js';
export { type SellerRequestUrlInput, sellerRequestUrl } from './origin.js';
export { LnbtcSellerError, type LnbtcSellerReason } from './reasons.js';
export {
  type LnbtcChallengeContext,
  type LnbtcPaidRequest,
  type LnbtcPaymentRequired,
  type LnbtcRoute,
  type LnbtcSeller,
  type LnbtcSellerOptions,
  type LnbtcSettlement,
  startLnbtcSeller,
} from './seller.js';
export {
  LNBTC_BIND_CONFIGURED_ORIGIN_HASH,
  LNBTC_HTTP_SERVER_ADAPTER,
  type ServerAdapterVector,
} from './server-vectors.js';
export * from './vectors.js';
export {
  type IssuedLnbtcInvoice,
  LNBTC_NETWORK_IDS,
  type LnbtcRequirement,
  type VerifiedLnbtcProof,
  type VerifyLnbtcProof,
  verifyLnbtcProof,
} from './verify.js';
