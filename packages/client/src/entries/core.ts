/**
 * `@stipend/client/core`: the paying fetch without any protocol built in, the policy engine,
 * budgets, the purchase journal, the ledger, money, errors and the types adapters and wallets
 * implement. Add the protocols you speak from `@stipend/client/x402`, `/l402` and `/mpp`.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client/core';
 * import { x402Adapter } from '@stipend/client/x402';
 *
 * const payingFetch = createPayingFetch({ adapters: [x402Adapter()], wallets: [wallet] });
 * ```
 *
 * @module
 */

// Approvals (pending mode)
export {
  type ApprovalState,
  type ApprovalStore,
  createMemoryApprovalStore,
  type PendingApproval,
} from '../approvals/index.js';
// Budgets
export {
  type BudgetLimit,
  type BudgetStore,
  type BudgetUsage,
  type BudgetWindow,
  createMemoryBudgetStore,
  type MemoryBudgetStore,
  type Reservation,
  type ReserveRefusal,
  type ReserveRequest,
} from '../budget/index.js';
export type { WindowSpec } from '../budget/window.js';
// Errors
export * from '../errors/index.js';
// The paying fetch (adapters passed explicitly)
export type {
  ChildLimits,
  PayingFetch,
  PayingRequestInit,
  PaymentInit,
} from '../fetch/createPayingFetch.js';
export {
  type CredentialUse,
  getCredentialUse,
  getPayment,
  type PaymentOutcome,
} from '../fetch/outcome.js';
export { polyfill, restore } from '../fetch/polyfill.js';
export type { ReconcileOptions, ReconcileResult } from '../fetch/reconcile.js';
export { type HttpRule, isLoopbackHost } from '../fetch/transport.js';
// Ledger and events
export type {
  OfferSummary,
  PaymentEventHandler,
  PaymentEventName,
  PaymentEvents,
} from '../ledger/events.js';
export { createMemoryLedger } from '../ledger/memory.js';
export type { Ledger, SpendRecord, SpendStatus } from '../ledger/record.js';
// Money
export * from '../money/index.js';
// Offers, wallets, the adapter contract
export {
  freezeOffer,
  type KnownProtocol,
  type PaymentOffer,
  type Protocol,
  railOf,
} from '../offer.js';
// Policy
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
} from '../policy/index.js';
export type {
  ChallengeInput,
  HeldCredential,
  PaidOutcome,
  ProtocolAdapter,
  Receipt,
  RetryRequest,
} from '../protocols/adapter.js';
// The purchase lifecycle and its journal
export * from '../purchase/index.js';
// MPP sessions: the record, its store, the method contract
export * from '../session/index.js';
export type { PayContext, PaymentStatus, Proof, Wallet } from '../wallet/wallet.js';
export { createPayingFetch, type PayingFetchConfig } from './create.js';
