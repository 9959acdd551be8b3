/**
 * x402 network names. v2 uses CAIP-2 ids (`eip155:8453`); v1 uses names (`base-sepolia`),
 * mapped here to CAIP-2 so that policies and wallets see one naming.
 *
 * @module
 */

/** v1 EVM network names and their chain ids (the reference `@x402/evm` v1 table). */
const V1_EVM: Readonly<Record<string, number>> = {
  ethereum: 1,
  sepolia: 11155111,
  abstract: 2741,
  'abstract-testnet': 11124,
  base: 8453,
  'base-sepolia': 84532,
  avalanche: 43114,
  'avalanche-fuji': 43113,
  iotex: 4689,
  sei: 1329,
  'sei-testnet': 1328,
  polygon: 137,
  'polygon-amoy': 80002,
  peaq: 3338,
  story: 1514,
  educhain: 41923,
  'skale-base-sepolia': 324705682,
  megaeth: 4326,
  monad: 143,
  stable: 988,
  'stable-testnet': 2201,
  celo: 42220,
  flare: 14,
};

/** v1 Solana network names and their CAIP-2 ids. */
const V1_SOLANA: Readonly<Record<string, string>> = {
  solana: 'solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp',
  'solana-devnet': 'solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1',
  'solana-testnet': 'solana:4uhcVJyU9pJkvQyS88uRDiswHXSCkY3z',
};

const CAIP2 = /^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$/;

/**
 * The CAIP-2 id of a network as an x402 message names it: v2 ids pass through when well
 * formed, v1 names are looked up. `undefined` when the name is unknown or malformed.
 *
 * @example
 * ```ts
 * import { toCaip2 } from './networks.js';
 * toCaip2('base-sepolia', 1); // 'eip155:84532'
 * toCaip2('eip155:8453', 2); // 'eip155:8453'
 * toCaip2('base', 2); // undefined (v2 requires CAIP-2)
 * ```
 */
export function toCaip2(network: string, version: number): string | undefined {
  if (version >= 2) return CAIP2.test(network) ? network : undefined;
  if (Object.hasOwn(V1_EVM, network)) return `eip155:${V1_EVM[network]}`;
  if (Object.hasOwn(V1_SOLANA, network)) return V1_SOLANA[network];
  // Some v1 servers already send CAIP-2 ids.
  return CAIP2.test(network) ? network : undefined;
}

/**
 * The chain id of an `eip155:<id>` network, or `undefined` for other namespaces.
 *
 * @example
 * ```ts
 * import { evmChainId } from './networks.js';
 * evmChainId('eip155:8453'); // 8453
 * evmChainId('solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp'); // undefined
 * ```
 */
export function evmChainId(network: string): number | undefined {
  const match = /^eip155:([1-9][0-9]{0,15})$/.exec(network);
  if (!match) return undefined;
  const id = Number(match[1]);
  return Number.isSafeInteger(id) ? id : undefined;
}
