/**
 * The drop-in `createPayingFetch` of `@stipend/client`: x402, L402 and MPP on by default.
 * The only module of the root entry that imports all three adapters.
 *
 * @module
 */
import {
  createPayingFetch as createWithAdapters,
  DEFAULT_ADAPTERS,
  type PayingFetch,
  type PayingFetchConfig,
  type WithDefaults,
} from '../fetch/createPayingFetch.js';
import type { ProtocolAdapter } from '../protocols/adapter.js';
import { l402Adapter } from '../protocols/l402/adapter.js';
import { mppAdapter } from '../protocols/mpp/adapter.js';
import { x402Adapter } from '../protocols/x402/adapter.js';
import { x402Lightning } from '../protocols/x402/lightning.js';

/**
 * Creates a `fetch` that pays HTTP 402 challenges (x402, L402 and MPP) under a spend policy.
 * The adapters you pass replace the default of their protocol; `defaultAdapters: false` keeps
 * only yours. To ship one protocol only, use `@stipend/client/core` with its protocol entry.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { evmWallet } from '@stipend/wallet-evm';
 *
 * const payingFetch = createPayingFetch({
 *   wallets: [evmWallet({ account })],
 *   policy: {
 *     global: { maxPerRequest: { usd: '0.05' }, limits: [{ usd: '2.00', window: { calendar: 'day' } }] },
 *     hosts: { 'api.example.com': { approveAbove: '0.01' } },
 *   },
 *   approver: async (req) => confirm(`Pay ${req.usdMicros} µUSD to ${req.origin}?`),
 * });
 * const res = await payingFetch('https://api.example.com/report');
 * ```
 */
export function createPayingFetch(config: PayingFetchConfig): PayingFetch {
  const withDefaults: PayingFetchConfig & WithDefaults = {
    ...config,
    [DEFAULT_ADAPTERS]: defaultAdapters,
  };
  return createWithAdapters(withDefaults);
}

/** x402, L402 and MPP, each with its default options (a new instance per paying fetch). */
function defaultAdapters(): ProtocolAdapter[] {
  return [x402Adapter({ lightning: x402Lightning() }), l402Adapter(), mppAdapter()];
}
