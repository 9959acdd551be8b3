/**
 * `@stipend/client`: one drop-in `fetch` that pays HTTP 402 challenges (x402, L402, MPP)
 * under a spend policy, with pluggable wallets, atomic budgets and a ledger.
 *
 * @module
 */

// Approvals (pending mode)
export {
  type ApprovalState,
  type ApprovalStore,
  createMemoryApprovalStore,
  type PendingApproval,
} from './approvals/index.js';
export {
  type BudgetLimit,
  type BudgetStore,
  type BudgetUsage,
  type BudgetWindow,
  createMemoryBudgetStore,
  type MemoryBudgetStore,
  parseWindowSpec,
  type Reservation,
  type ReserveRefusal,
  type ReserveRequest,
  windowKey,
  windowStart,
} from './budget/index.js';
// The drop-in paying fetch: x402, L402 and MPP by default
export { createPayingFetch } from './entries/drop-in.js';
// Errors
export * from './errors/index.js';
export {
  isWalletError,
  type WalletFailureFacts,
  walletFailureFacts,
} from './errors/wallet-facts.js';
// The paying fetch
export type {
  ChildLimits,
  PayingFetch,
  PayingFetchConfig,
  PayingRequestInit,
  PaymentInit,
} from './fetch/createPayingFetch.js';
export {
  type CredentialUse,
  getCredentialUse,
  getPayment,
  type PaymentOutcome,
} from './fetch/outcome.js';
export { polyfill, restore } from './fetch/polyfill.js';
export type { ReconcileOptions, ReconcileResult } from './fetch/reconcile.js';
export { type HttpRule, isLoopbackHost } from './fetch/transport.js';
export type {
  OfferSummary,
  PaymentEventHandler,
  PaymentEventName,
  PaymentEvents,
} from './ledger/events.js';
// Ledger and events
export { createMemoryLedger } from './ledger/memory.js';
export type { Ledger, SpendRecord, SpendStatus } from './ledger/record.js';
// Money
export * from './money/index.js';
// Offers, wallets, protocol adapters
export {
  freezeOffer,
  type KnownProtocol,
  type PaymentOffer,
  type Protocol,
  railOf,
} from './offer.js';
// Policy and budgets
export {
  type ApprovalRequest,
  type Approver,
  createPolicyEngine,
  DEFAULT_POLICY,
  type Decision,
  type DecisionContext,
  type EvaluationContext,
  type ListRule,
  matchHost,
  type NativeCap,
  type OfferEvaluation,
  type PolicyEngine,
  type PolicyEngineConfig,
  type Rule,
  type SpendPolicy,
  type Usd,
  validatePolicy,
  type WindowSpec,
} from './policy/index.js';
export type {
  ChallengeInput,
  HeldCredential,
  PaidOutcome,
  ProtocolAdapter,
  Receipt,
  RetryRequest,
} from './protocols/adapter.js';
export {
  type Bolt11Network,
  type Bolt11Signature,
  type Bolt11Summary,
  readBolt11,
} from './protocols/bolt11.js';
export {
  BITCOIN_CAIP2,
  type CredentialStore,
  type FeeCap,
  type L402Adapter,
  type L402AdapterOptions,
  type L402OfferRaw,
  L402TokenError,
  type L402TokenRefusal,
  l402Adapter,
  type MacaroonInfo,
  memoryCredentialStore,
  readMacaroon,
  type StoredL402Credential,
  type WebStorageLike,
  webStorageCredentialStore,
} from './protocols/l402/index.js';
export {
  type KnownToken,
  type MissingExpiresRule,
  type MppAdapterOptions,
  type MppOfferRaw,
  type MppProofSecret,
  mppAdapter,
  parseReceipt as parseMppReceipt,
} from './protocols/mpp/index.js';
export {
  type LightningInvoiceWallet,
  type LightningSessionOptions,
  lightningSessionMethod,
} from './protocols/mpp/session/lightning.js';
export {
  type TempoChannelWallet,
  type TempoSessionOptions,
  tempoSessionMethod,
} from './protocols/mpp/session/tempo.js';
export { TEMPO_SESSION_RAIL, TIP1034_ESCROW } from './protocols/mpp/session/tempo-terms.js';
export {
  type Challenge,
  parseWwwAuthenticate,
  parseWwwAuthenticateLenient,
  WwwAuthenticateParseError,
} from './protocols/www-authenticate.js';
// Protocol adapters
export {
  type AssetRegistry,
  createAssetRegistry,
  type KnownAsset,
  X402_KNOWN_ASSETS,
  type X402AdapterOptions,
  type X402Form,
  type X402Lightning,
  type X402OfferRaw,
  x402Adapter,
  x402Lightning,
} from './protocols/x402/index.js';
// The purchase lifecycle and its journal
export * from './purchase/index.js';
export type { Quote, QuoteDecision, QuotedLimit, QuotedOffer } from './quote/quote.js';
// MPP sessions: the record, its store, the method contract
export * from './session/index.js';
export type { PayContext, PaymentStatus, Proof, Wallet } from './wallet/wallet.js';
