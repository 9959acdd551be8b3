/**
 * `@stipend/client/x402`: the x402 protocol adapter (v2 `PAYMENT-REQUIRED` headers and v1
 * JSON bodies) and the asset registry it prices with. Use it with `@stipend/client/core`.
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
export { type X402AdapterOptions, x402Adapter } from '../protocols/x402/adapter.js';
export {
  type AssetRegistry,
  createAssetRegistry,
  type KnownAsset,
  X402_KNOWN_ASSETS,
} from '../protocols/x402/assets.js';
export { type X402Lightning, x402Lightning } from '../protocols/x402/lightning.js';
export type { X402Form, X402OfferRaw } from '../protocols/x402/terms.js';
