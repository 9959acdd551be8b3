/**
 * The known-asset registry: the tokens whose decimals (and peg) the client knows itself. A 402
 * challenge names a token by contract address; whatever decimals it states are the server's
 * claim, and believing them would let a server that says "18 decimals" for a 6-decimal token
 * make 500,000 tokens look like a millionth of a dollar. So every adapter and price source
 * takes decimals from here (or from the user's configuration), never from a challenge.
 *
 * The built-in entries are the EIP-3009 stablecoins of the reference x402 client's default
 * asset table (`@x402/evm` 2.27 `DEFAULT_ASSETS`), with the EIP-712 name and version that
 * token contracts use (Base mainnet USDC signs as "USD Coin", Base Sepolia USDC as "USDC").
 *
 * @module
 */
import { StipendError } from '../errors/base.js';
import { MAX_DECIMALS } from './decimal.js';

/** A token whose decimals the client knows. */
export interface KnownAsset {
  /** CAIP-2 network id, e.g. `eip155:8453`. */
  readonly network: string;
  /** Contract address (EVM) or asset id. Matched case-insensitively for `0x` addresses. */
  readonly address: string;
  /** Display symbol, e.g. `USDC`; the plain `X-Payment-Required` form names assets by it. */
  readonly symbol: string;
  /** Decimals of the atomic unit (USDC: 6). */
  readonly decimals: number;
  /** EIP-712 domain name of the token (EIP-3009 signing), e.g. `USD Coin`. */
  readonly name?: string;
  /** EIP-712 domain version of the token, e.g. `2`. */
  readonly version?: string;
  /** ISO 4217 code the token is pegged to (`USD`); without it the policy needs a price source. */
  readonly peg?: string;
}

/**
 * Built-in entries, compact: `[chain id, address, EIP-712 name, symbol, EIP-712 version]`.
 * All are 6-decimal USD stablecoins with EIP-3009 (source: `@x402/evm` 2.27 defaultAssets).
 */
const BUILT_IN: readonly (readonly [number, string, string, string, string])[] = [
  [8453, '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913', 'USD Coin', 'USDC', '2'], // Base
  [84532, '0x036CbD53842c5426634e7929541eC2318f3dCF7e', 'USDC', 'USDC', '2'], // Base Sepolia
  [1, '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', 'USD Coin', 'USDC', '2'], // Ethereum
  [137, '0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359', 'USD Coin', 'USDC', '2'], // Polygon
  [42161, '0xaf88d065e77c8cC2239327C5EDb3A432268e5831', 'USD Coin', 'USDC', '2'], // Arbitrum One
  [421614, '0x75faf114eafb1BDbe2F0316DF893fd58CE46AA4d', 'USD Coin', 'USDC', '2'], // Arbitrum Sepolia
  [43114, '0xB97EF9Ef8734C71904D8002F8b6Bc66Dd9c48a6E', 'USD Coin', 'USDC', '2'], // Avalanche C-Chain
  [143, '0x754704Bc059F8C67012fEd69BC8A327a5aafb603', 'USDC', 'USDC', '2'], // Monad
  [1329, '0xe15fC38F6D8c56aF07bbCBe3BAf5708A2Bf42392', 'USDC', 'USDC', '2'], // Sei
  [42220, '0xcebA9300f2b948710d2653dD7B07f33A8B32118C', 'USDC', 'USDC', '2'], // Celo
  [988, '0x779Ded0c9e1022225f8E0630b35a9b54bE713736', 'USDT0', 'USDT0', '1'], // Stable
];

/**
 * The built-in known assets: USDC (and Stable's USDT0) on the networks the reference x402
 * client knows, 6 decimals, pegged to USD, with their EIP-712 domains.
 *
 * @example
 * ```ts
 * import { KNOWN_ASSETS } from './assets.js';
 * KNOWN_ASSETS.find((a) => a.network === 'eip155:8453')?.decimals; // 6
 * ```
 */
export const KNOWN_ASSETS: readonly KnownAsset[] = Object.freeze(
  BUILT_IN.map(([chainId, address, name, symbol, version]) =>
    Object.freeze({
      network: `eip155:${chainId}`,
      address,
      symbol,
      decimals: 6,
      name,
      version,
      peg: 'USD',
    }),
  ),
);

/** Looks known assets up by network and address, or by network and symbol. */
export interface AssetRegistry {
  /** The asset at `address` on `network`, if known. */
  byAddress(network: string, address: string): KnownAsset | undefined;
  /** The one asset with this symbol on `network` (case-insensitive); none if unknown or ambiguous. */
  bySymbol(network: string, symbol: string): KnownAsset | undefined;
}

const keyOf = (network: string, address: string) =>
  `${network}/${address.startsWith('0x') ? address.toLowerCase() : address}`;

/**
 * Builds a registry of the built-in assets plus `extra` (an entry for the same network and
 * address replaces the built-in one). Throws a `StipendError` (`CONFIG_INVALID`) naming the
 * bad field of an invalid entry, as `<option>[index].<field>`.
 *
 * @param option - How the user passed `extra`, for error messages (default `assets`).
 * @example
 * ```ts
 * import { createAssetRegistry } from './assets.js';
 * const registry = createAssetRegistry([
 *   { network: 'eip155:10', address: '0x0b2C639c533813f4Aa9D7837CAf62653d097Ff85', symbol: 'USDC', decimals: 6, name: 'USD Coin', version: '2', peg: 'USD' },
 * ], 'x402Adapter assets');
 * registry.bySymbol('eip155:10', 'usdc')?.decimals; // 6
 * ```
 */
export function createAssetRegistry(
  extra: readonly KnownAsset[] = [],
  option = 'assets',
): AssetRegistry {
  const byAddress = new Map<string, KnownAsset>();
  for (const asset of KNOWN_ASSETS) byAddress.set(keyOf(asset.network, asset.address), asset);
  extra.forEach((asset, index) => {
    checkKnownAsset(asset, `${option}[${index}]`);
    byAddress.set(keyOf(asset.network, asset.address), Object.freeze({ ...asset }));
  });
  const bySymbol = new Map<string, KnownAsset | null>();
  for (const asset of byAddress.values()) {
    const key = `${asset.network}/${asset.symbol.toUpperCase()}`;
    // Two assets with one symbol on one network: the symbol alone does not say which.
    bySymbol.set(key, bySymbol.has(key) ? null : asset);
  }
  return {
    byAddress: (network, address) => byAddress.get(keyOf(network, address)),
    bySymbol: (network, symbol) => bySymbol.get(`${network}/${symbol.toUpperCase()}`) ?? undefined,
  };
}

/** The registry of the built-in assets only. */
const BUILT_IN_REGISTRY = createAssetRegistry();

/**
 * The built-in known asset at `address` on `network`, if any (case-insensitive for `0x`).
 *
 * @example
 * ```ts
 * import { builtInAsset } from './assets.js';
 * builtInAsset('eip155:8453', '0x833589fcd6edb6e08f4c7c32d4f71b54bda02913')?.symbol; // 'USDC'
 * ```
 */
export function builtInAsset(network: string, address: string): KnownAsset | undefined {
  return BUILT_IN_REGISTRY.byAddress(network, address);
}

/**
 * Checks one known-asset entry a user configured; `where` names it in the message, in the
 * words of the option the user wrote (`x402Adapter assets[0]`, `mppAdapter tokens["…"]`).
 *
 * @throws {StipendError} code `CONFIG_INVALID` naming the bad field.
 * @example
 * ```ts
 * import { checkKnownAsset } from './assets.js';
 * checkKnownAsset({ network: 'eip155:10', address: '0x0b2C…', symbol: 'USDC', decimals: 6 }, 'assets[0]');
 * ```
 */
export function checkKnownAsset(asset: KnownAsset, where: string): void {
  const fail = (field: string, why: string): never => {
    throw new StipendError('CONFIG_INVALID', `${where}${field ? `.${field}` : ''}: ${why}.`);
  };
  if (typeof asset !== 'object' || asset === null) fail('', 'must be an object');
  if (
    typeof asset.network !== 'string' ||
    !/^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$/.test(asset.network)
  )
    fail('network', 'must be a CAIP-2 id such as "eip155:8453"');
  if (typeof asset.address !== 'string' || !/^[!-~]{1,256}$/.test(asset.address))
    fail('address', 'must be the token contract address');
  if (typeof asset.symbol !== 'string' || asset.symbol.length === 0 || asset.symbol.length > 32)
    fail('symbol', 'must be a short display symbol such as "USDC"');
  if (!Number.isInteger(asset.decimals) || asset.decimals < 0 || asset.decimals > MAX_DECIMALS)
    fail(
      'decimals',
      `must be the token's decimals (its contract's decimals()), an integer from 0 to ${MAX_DECIMALS}`,
    );
  if ((asset.name === undefined) !== (asset.version === undefined))
    fail(asset.name === undefined ? 'name' : 'version', 'EIP-712 name and version go together');
  if (asset.peg !== undefined && !/^[A-Z]{3}$/.test(asset.peg))
    fail('peg', 'must be an upper-case ISO 4217 code such as "USD"');
}
