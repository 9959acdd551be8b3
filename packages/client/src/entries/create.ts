/**
 * The core entry's `createPayingFetch`: the same paying fetch as the drop-in, with no protocol
 * built in. The adapters are passed explicitly, so an app ships only the protocols it imports.
 *
 * @module
 */
import { StipendError } from '../errors/base.js';
import {
  createPayingFetch as createWithAdapters,
  type PayingFetchConfig as DropInConfig,
  type PayingFetch,
} from '../fetch/createPayingFetch.js';
import type { ProtocolAdapter } from '../protocols/adapter.js';

/**
 * Configuration of the core {@link createPayingFetch}: the drop-in's options, with the
 * protocol adapters required (there are no defaults to fall back on).
 */
export interface PayingFetchConfig extends Omit<DropInConfig, 'adapters' | 'defaultAdapters'> {
  /**
   * The protocols this paying fetch speaks, at least one: `x402Adapter()` from
   * `@stipend/client/x402`, `l402Adapter()` from `@stipend/client/l402`, `mppAdapter()` from
   * `@stipend/client/mpp`, or your own {@link ProtocolAdapter}.
   */
  readonly adapters: readonly ProtocolAdapter[];
}

/**
 * Creates a `fetch` that pays HTTP 402 challenges under a spend policy, speaking only the
 * protocols whose adapters you pass. For all three protocols without choosing, use
 * `createPayingFetch` from `@stipend/client`.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client/core';
 * import { x402Adapter } from '@stipend/client/x402';
 * import { evmWallet } from '@stipend/wallet-evm';
 *
 * const payingFetch = createPayingFetch({
 *   adapters: [x402Adapter()],
 *   wallets: [evmWallet({ account })],
 *   policy: { global: { maxPerRequest: { usd: '0.05' } } },
 * });
 * const res = await payingFetch('https://api.example.com/report');
 * ```
 */
export function createPayingFetch(config: PayingFetchConfig): PayingFetch {
  const adapters = (config as { adapters?: unknown }).adapters;
  if (!Array.isArray(adapters) || adapters.length === 0) {
    throw new StipendError(
      'CONFIG_INVALID',
      'createPayingFetch from @stipend/client/core needs `adapters`: pass at least one protocol adapter.',
      {
        metaMessages: [
          "For example `adapters: [x402Adapter()]` with `import { x402Adapter } from '@stipend/client/x402'`",
          '(or l402Adapter from @stipend/client/l402, mppAdapter from @stipend/client/mpp),',
          'or import createPayingFetch from @stipend/client for all three protocols.',
        ],
      },
    );
  }
  return createWithAdapters(config);
}
