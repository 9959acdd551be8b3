/**
 * `@stipend/client/mpp`: the MPP protocol adapter (`WWW-Authenticate: Payment` challenges:
 * stripe, evm, lightning and tempo charges). Use it with `@stipend/client/core`.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client/core';
 * import { mppAdapter } from '@stipend/client/mpp';
 *
 * const payingFetch = createPayingFetch({ adapters: [mppAdapter()], wallets: [wallet] });
 * ```
 *
 * @module
 */
export { type MppAdapterOptions, mppAdapter } from '../protocols/mpp/adapter.js';
export type { MissingExpiresRule, MppOfferRaw } from '../protocols/mpp/challenge.js';
export type { MppProofSecret } from '../protocols/mpp/credential.js';
