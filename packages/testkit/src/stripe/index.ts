/**
 * Local stand-ins for Stripe's API around MPP `stripe/charge` payments.
 *
 * What is real and what is not:
 * - REAL: the `stripe` Node SDK (23.1.0) that tests point at {@link startStripeStandIn} with
 *   `host: '127.0.0.1', port, protocol: 'http'`, and its error classes, which the in-process
 *   PaymentIntents stand-in throws.
 * - STAND-IN: Stripe's HTTP API itself. {@link startStripeStandIn} serves the Shared Payment Token
 *   endpoints (`/v1/shared_payment/issued_tokens[/:id[/revoke]]`) and `/v1/payment_intents`;
 *   {@link createPaymentIntentsStandIn} is an in-process client for mppx's server. Both follow
 *   Stripe's documented shapes (preview API `2026-07-29.preview`) and share one {@link SptLedger},
 *   but they are not Stripe and never reach the network.
 *
 * @module
 */
export type { FormObject, FormValue } from './form-encoding.js';
export { canonicalParams, parseStripeForm } from './form-encoding.js';
export type { IdempotencyLookup } from './idempotency-cache.js';
export { IdempotencyCache, idempotencyConflict } from './idempotency-cache.js';
export type {
  DeclineOptions,
  MppxStripeClient,
  PaymentIntentCall,
  PaymentIntentRecord,
  PaymentIntentResult,
  PaymentIntentStatus,
  PaymentIntentsStandIn,
  PaymentIntentsStandInOptions,
  StripePaymentIntentResponse,
} from './payment-intents-stand-in.js';
export {
  createPaymentIntentsStandIn,
  paymentIntentToStripeObject,
} from './payment-intents-stand-in.js';
export type {
  IssuedSpt,
  IssueSptInput,
  SptChargeRequest,
  SptDeactivatedReason,
  SptLedgerOptions,
  SptNextAction,
  SptStatus,
} from './spt-ledger.js';
export { SptLedger, sptToStripeObject, testPaymentMethods } from './spt-ledger.js';
export type {
  RecordedStripeRequest,
  StartStripeStandInOptions,
  StripeStandIn,
} from './spt-server.js';
export { sptPreviewApiVersion, startStripeStandIn } from './spt-server.js';
export type {
  IssuedSptSummary,
  SptTokenCallbackOptions,
  SptTokenRequest,
  StripeRawRequester,
} from './spt-token-callback.js';
export { createSptTokenCallback } from './spt-token-callback.js';
export type { StripeApiErrorInit, StripeErrorBody, StripeErrorType } from './stripe-errors.js';
export {
  invalidParam,
  missingParam,
  resourceMissing,
  StripeApiError,
  unknownParam,
} from './stripe-errors.js';
