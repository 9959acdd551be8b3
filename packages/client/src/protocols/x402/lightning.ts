/**
 * x402 `exact` on Lightning (`lnbtc`), as an opt-in of the x402 adapter: the request binding
 * (JCS, SHA-256 of the request) and the invoice checks are bundled only by apps that pay
 * Lightning through x402. The drop-in `createPayingFetch` of `@stipend/client` turns it on.
 *
 * @module
 */
import { type FeeCap, type FeeCapOptions, feeCapOf } from '../../money/fee-cap.js';
import { lnbtcBindings, lnbtcOffer } from './lnbtc.js';

/** What the x402 adapter needs to read `lnbtc` offers (made by {@link x402Lightning}). */
export interface X402Lightning {
  /** Each `lnbtc` entry's request binding, computed from the request the retry sends. */
  readonly bindings: typeof lnbtcBindings;
  /** An `lnbtc` entry read into an offer, or why not. */
  readonly offer: typeof lnbtcOffer;
  /** The routing-fee cap put on each offer as `maxFee`. */
  readonly feeCap: FeeCap;
}

/**
 * Turns on x402 `exact` on Lightning (`lnbtc:` networks) in an x402 adapter. Without it, an
 * `lnbtc` offer is refused (`no_offers`) and nothing is paid. `options` set the routing-fee cap
 * put on each offer as `maxFee` (the budget reserves amount + fee; the wallet never pays more);
 * default 1 % of the amount + 10 sat.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client/core';
 * import { x402Adapter, x402Lightning } from '@stipend/client/x402';
 * import { lightningWallet } from '@stipend/wallet-lightning';
 *
 * const payingFetch = createPayingFetch({
 *   adapters: [x402Adapter({ lightning: x402Lightning({ maxFeeMsat: 5_000n }) })],
 *   wallets: [lightningWallet({ backend, network: 'mainnet' })],
 * });
 * ```
 */
export function x402Lightning(options: FeeCapOptions = {}): X402Lightning {
  return Object.freeze({
    bindings: lnbtcBindings,
    offer: lnbtcOffer,
    feeCap: feeCapOf(options, 'x402Lightning(options)'),
  });
}
