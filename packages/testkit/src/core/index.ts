/**
 * The `stipend-test` rail: a stand-in payment rail (in memory) with its client adapter, a
 * wallet with fault injection, and a paywall handler (serve it with `@stipend/testkit/server`). It exists to test
 * the core and agents' policies without real money; it is not a protocol anyone runs.
 *
 * @module
 */
export { type TestAdapterOptions, testAdapter } from './adapter.js';
export {
  createTestPaywall,
  TEST_USDC,
  type TestPaywall,
  type TestPaywallHit,
  type TestRoute,
} from './paywall.js';
export { createTestRail, type RedeemResult, type TestRail, type TestRailPayment } from './rail.js';
export {
  type TestRailClient,
  type TestWallet,
  type TestWalletFault,
  testWallet,
} from './wallet.js';
export * from './wire.js';
