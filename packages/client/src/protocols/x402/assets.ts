/**
 * x402's view of the one known-asset registry (`money/assets.ts`): the same entries and
 * checks, with errors that name the option x402 users write (`x402Adapter({ assets })`).
 *
 * @module
 */
import {
  type AssetRegistry,
  createAssetRegistry as createRegistry,
  KNOWN_ASSETS,
  type KnownAsset,
} from '../../money/assets.js';

export type { AssetRegistry, KnownAsset };

/** The built-in known assets (USD stablecoins with EIP-3009, 6 decimals). */
export const X402_KNOWN_ASSETS: readonly KnownAsset[] = KNOWN_ASSETS;

/**
 * The registry of the built-in assets plus the ones passed to `x402Adapter({ assets })`.
 *
 * @example
 * ```ts
 * import { createAssetRegistry } from './assets.js';
 * createAssetRegistry().bySymbol('eip155:8453', 'USDC')?.decimals; // 6
 * ```
 */
export function createAssetRegistry(extra: readonly KnownAsset[] = []): AssetRegistry {
  return createRegistry(extra, 'x402Adapter assets');
}
