/**
 * MPP (Machine Payments Protocol) peers for Stipend's tests, demo and benchmarks.
 *
 * What is real and what is not:
 * - REAL: the `mppx` 0.11 server (`mppx/server`: challenges, HMAC ids, credential checks,
 *   receipts, problem+json, `compose`, `requiresAuth`), its `stripe`, `tempo` and `evm` charge
 *   methods, and the x402 `PAYMENT-REQUIRED` header its `evm.charge` emits.
 * - STAND-IN: Stripe's API behind the `stripe` method (see `@stipend/testkit/stripe`), so no
 *   charge reaches Stripe; and no Tempo chain exists here, so `tempo` offers are shown but
 *   cannot be paid. `evm/charge` settles on whatever local chain `evm.rpcUrl` points at (or
 *   through an injected `settle`).
 *
 * @module
 */
export type {
  Eip3009AuthorizationPayload,
  Eip3009Chain,
  Eip3009SettleInput,
  ViemEip3009ChainOptions,
} from './evm-settle.js';
export { anvilDevSettlerKey, createEip3009Settler, viemEip3009Chain } from './evm-settle.js';
export type {
  IssuedChallengeRecord,
  MppEvmOptions,
  MppServer,
  PaymentFailureRecord,
  PaymentSuccessRecord,
  StartMppServerOptions,
} from './mpp-server.js';
export { mppRoutes, startMppServer } from './mpp-server.js';
export type {
  LightningSessionBooks,
  LightningSessionFaults,
  LightningSessionServer,
  LightningSessionServerOptions,
} from './session-lightning.js';
export { startLightningSessionServer } from './session-lightning.js';
