/**
 * `@stipend/wallet-stripe`: pays MPP `stripe` charges with Shared Payment Tokens (SPTs).
 *
 * Server side, pass a `stripe` SDK client holding the secret key; in a browser, pass a
 * `createToken` callback that asks your backend for the token (and `retrieveToken` /
 * `revokeToken`, so a refused token can be looked up and revoked). Proof references are
 * `spt:<hash>`, never the token id, which is the credential. MPP sessions are not handled
 * here (see docs/mpp-sessions.md: they are on-chain payment channels, not Stripe objects).
 *
 * @module
 */
export { CARD_MINIMUMS, STRIPE_MAX_AMOUNT } from './card-minimum.js';
export {
  asToken,
  capturedOf,
  expiryOf,
  issueParams,
  SPT_API_VERSION,
  SPT_ID,
  type SptApi,
  type SptToken,
  type SptTokenRequest,
  type StripeRawRequester,
  stripeSptApi,
  tokenOutcome,
} from './spt.js';
export { STRIPE_CHARGE_RAIL, type StripeWalletOptions, stripeWallet } from './stripe-wallet.js';
export {
  type BookedToken,
  createTokenBook,
  DEFAULT_BOOK_SIZE,
  sptReference,
  type TokenBook,
} from './token-book.js';
