/**
 * Know before you pay: quotes (what a request would cost and what the policy would do) and
 * balance-aware wallet choice.
 *
 * @module
 */
export { DEFAULT_BALANCE_TIMEOUT_MS, type ReadBalanceOptions, readBalance } from './balances.js';
export {
  type BalanceReading,
  canFund,
  type Funding,
  fundingOf,
  neededFor,
  type OfferFunding,
  skipUnfunded,
} from './funding.js';
export {
  type Quote,
  type QuoteDecision,
  type QuotedLimit,
  type QuotedOffer,
  type QuoteOptions,
  quote,
} from './quote.js';
export { chooseWallet, type WalletChoice } from './wallet-choice.js';
