/**
 * The x402 protocol adapter and its known-asset registry.
 *
 * @module
 */
export { type X402AdapterOptions, x402Adapter } from './adapter.js';
export {
  type AssetRegistry,
  createAssetRegistry,
  type KnownAsset,
  X402_KNOWN_ASSETS,
} from './assets.js';
export { type X402Lightning, x402Lightning } from './lightning.js';
export { classifyReason } from './settle.js';
export type { X402Form, X402OfferRaw } from './terms.js';
