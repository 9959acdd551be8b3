/**
 * `@stipend/client/sessions`: MPP sessions (pay once, call many times). The session methods
 * carry the session manager, which works with the paying fetch's policy, budget and ledger, so
 * they live in their own entry: an MPP app that pays only charges does not bundle them.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client/core';
 * import { mppAdapter } from '@stipend/client/mpp';
 * import { lightningSessionMethod } from '@stipend/client/sessions';
 *
 * const payingFetch = createPayingFetch({
 *   adapters: [mppAdapter()],
 *   wallets: [wallet],
 *   sessions: { methods: [lightningSessionMethod()] },
 * });
 * ```
 *
 * @module
 */
export {
  type LightningInvoiceWallet,
  type LightningSessionOptions,
  lightningSessionMethod,
} from '../protocols/mpp/session/lightning.js';
export {
  type TempoChannelWallet,
  type TempoSessionOptions,
  tempoSessionMethod,
} from '../protocols/mpp/session/tempo.js';
export { TEMPO_SESSION_RAIL, TIP1034_ESCROW } from '../protocols/mpp/session/tempo-terms.js';
