import {
  type Account,
  type Address,
  type Chain,
  getAddress,
  type Hash,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { abi as tokenAbi, bytecode as tokenBytecode } from './token-artifact.js';

/** EIP-712 domain name of the test token (matches Base Sepolia USDC). */
export const TOKEN_NAME = 'USDC';
/** EIP-712 domain version of the test token. */
export const TOKEN_VERSION = '2';
/** Decimals of the test token: 1 USDC = 1 000 000 atomic units. */
export const TOKEN_DECIMALS = 6;

/** What a payer or a server needs to know about the deployed test token. */
export interface TokenInfo {
  /** Contract address (EIP-55 checksummed). */
  readonly address: Address;
  /** EIP-712 domain name, `'USDC'`; x402 `extra.name`. */
  readonly name: typeof TOKEN_NAME;
  /** EIP-712 domain version, `'2'`; x402 `extra.version`. */
  readonly version: typeof TOKEN_VERSION;
  /** Token decimals, 6. */
  readonly decimals: typeof TOKEN_DECIMALS;
  /** Chain id the token lives on. */
  readonly chainId: number;
  /** CAIP-2 network id, `eip155:<chainId>`. */
  readonly network: `eip155:${number}`;
}

/** The viem clients the token helpers need. */
export interface TokenClients {
  readonly publicClient: PublicClient<Transport, Chain>;
  readonly walletClient: WalletClient<Transport, Chain, Account>;
}

/**
 * Deploys the testkit's EIP-3009 token (`contracts/EIP3009Token.sol`: name "USDC", version
 * "2", 6 decimals, open `mint`) from the wallet client's account and returns its address.
 *
 * @example
 * ```ts
 * import { deployToken, startChain } from '@stipend/testkit/chain';
 * const chain = await startChain();
 * const another = await deployToken(chain); // a second, independent token
 * ```
 */
export async function deployToken(clients: TokenClients): Promise<Address> {
  const hash = await clients.walletClient.deployContract({
    abi: tokenAbi,
    bytecode: tokenBytecode,
  });
  const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success' || !receipt.contractAddress) {
    throw new Error(`token deployment failed in transaction ${hash}`);
  }
  return receipt.contractAddress;
}

/**
 * Describes a deployed test token for x402 configuration.
 *
 * @example
 * ```ts
 * import { tokenInfo } from '@stipend/testkit/chain';
 * const info = tokenInfo('0x5FbDB2315678afecb367f032d93F642f64180aa3', 31337);
 * // { name: 'USDC', version: '2', decimals: 6, network: 'eip155:31337', … }
 * ```
 */
export function tokenInfo(address: Address, chainId: number): TokenInfo {
  return {
    address: getAddress(address),
    name: TOKEN_NAME,
    version: TOKEN_VERSION,
    decimals: TOKEN_DECIMALS,
    chainId,
    network: `eip155:${chainId}`,
  };
}

/**
 * Mints `amount` atomic units of the test token to `to` (anyone may mint on this token) and
 * waits for the receipt.
 *
 * @example
 * ```ts
 * import { devAccount, mint, startChain } from '@stipend/testkit/chain';
 * const chain = await startChain();
 * await mint(chain, chain.token.address, devAccount(4).address, 5_000_000n); // 5 USDC
 * ```
 */
export async function mint(
  clients: TokenClients,
  token: Address,
  to: Address,
  amount: bigint,
): Promise<Hash> {
  if (amount < 0n) throw new Error(`cannot mint a negative amount (${amount})`);
  const hash = await clients.walletClient.writeContract({
    address: token,
    abi: tokenAbi,
    functionName: 'mint',
    args: [to, amount],
  });
  const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`mint reverted in transaction ${hash}`);
  return hash;
}

/**
 * Reads an ERC-20 balance in atomic units.
 *
 * @example
 * ```ts
 * import { balanceOf, devAccount, startChain } from '@stipend/testkit/chain';
 * const chain = await startChain();
 * const units = await balanceOf(chain.publicClient, chain.token.address, devAccount(2).address);
 * ```
 */
export async function balanceOf(
  publicClient: PublicClient<Transport, Chain>,
  token: Address,
  owner: Address,
): Promise<bigint> {
  return publicClient.readContract({
    address: token,
    abi: tokenAbi,
    functionName: 'balanceOf',
    args: [owner],
  });
}

/**
 * Reads EIP-3009 `authorizationState(authorizer, nonce)`: true once that authorization has
 * been used (or canceled). A client can use it to learn whether a payment it lost track of
 * was settled.
 *
 * @example
 * ```ts
 * import { authorizationState, startChain } from '@stipend/testkit/chain';
 * const chain = await startChain();
 * const used = await authorizationState(chain.publicClient, chain.token.address, payer, nonce);
 * ```
 */
export async function authorizationState(
  publicClient: PublicClient<Transport, Chain>,
  token: Address,
  authorizer: Address,
  nonce: Hex,
): Promise<boolean> {
  return publicClient.readContract({
    address: token,
    abi: tokenAbi,
    functionName: 'authorizationState',
    args: [authorizer, nonce],
  });
}
