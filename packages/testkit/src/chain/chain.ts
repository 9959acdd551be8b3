import {
  type Address,
  type Chain,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  type Hash,
  http,
  type LocalAccount,
  type PublicClient,
  type TestClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { type AnvilInstance, type AnvilOptions, startAnvil } from './anvil.js';
import { DEV_ACCOUNTS, type DevAccount, devAccount } from './dev-accounts.js';
import { setEthBalance } from './funding.js';
import { installMulticall3, MULTICALL3_ADDRESS } from './multicall.js';
import { balanceOf, deployToken, mint, type TokenInfo, tokenInfo } from './token.js';

/** Options for {@link startChain}: anvil's options plus who deploys. */
export interface StartChainOptions extends AnvilOptions {
  /** Dev account (0–9) that deploys the token and mints. Default 0. */
  deployerIndex?: number;
}

/** A running local chain with the test token deployed and Multicall3 in place. */
export interface LocalChain {
  /** The anvil process. */
  readonly anvil: AnvilInstance;
  /** JSON-RPC endpoint on 127.0.0.1. */
  readonly rpcUrl: string;
  /** Chain id. */
  readonly chainId: number;
  /** CAIP-2 network id, `eip155:<chainId>`. */
  readonly network: `eip155:${number}`;
  /** viem chain definition (with Multicall3 registered). */
  readonly chain: Chain;
  /** Public client for reads. */
  readonly publicClient: PublicClient<Transport, Chain>;
  /** Wallet client of the deployer account. */
  readonly walletClient: WalletClient<Transport, Chain, LocalAccount>;
  /** anvil test client (`anvil_*` methods). */
  readonly testClient: TestClient<'anvil', Transport, Chain>;
  /** The deployed EIP-3009 token. */
  readonly token: TokenInfo;
  /** anvil's public dev accounts (test keys only). */
  readonly accounts: readonly DevAccount[];
  /** Where Multicall3 code was placed. */
  readonly multicall3: Address;
  /** A wallet client for any local account (e.g. a facilitator's). */
  walletFor(account: LocalAccount): WalletClient<Transport, Chain, LocalAccount>;
  /** Mints test tokens (atomic units) to `to`. */
  mint(to: Address, amount: bigint): Promise<Hash>;
  /** Test-token balance of `owner` in atomic units. */
  balanceOf(owner: Address): Promise<bigint>;
  /** Sets the ETH balance of `address` (wei). */
  setEthBalance(address: Address, wei: bigint): Promise<void>;
  /** Stops anvil. */
  stop(): Promise<void>;
}

/** How often viem polls the local node (receipts, blocks); anvil automines instantly. */
const POLLING_INTERVAL_MS = 50;

/**
 * Starts anvil, places Multicall3 at its canonical address, deploys the EIP-3009 "USDC"
 * test token and returns viem clients plus helpers. Everything is real: a real EVM node,
 * real transactions, real signatures. Call `stop()` when done (tests: in `afterAll`).
 *
 * @example
 * ```ts
 * import { devAccount, startChain } from '@stipend/testkit/chain';
 * const chain = await startChain();
 * await chain.mint(devAccount(4).address, 10_000_000n); // 10 USDC
 * console.log(chain.token); // { address, name: 'USDC', version: '2', decimals: 6, network: 'eip155:31337', … }
 * await chain.stop();
 * ```
 */
export async function startChain(options: StartChainOptions = {}): Promise<LocalChain> {
  const anvil = await startAnvil(options);
  try {
    const chain = defineChain({
      id: anvil.chainId,
      name: `Local anvil ${anvil.chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
      contracts: { multicall3: { address: MULTICALL3_ADDRESS } },
      testnet: true,
    });
    const transport = http(anvil.rpcUrl);
    const publicClient = createPublicClient({
      chain,
      transport,
      pollingInterval: POLLING_INTERVAL_MS,
    });
    const walletFor = (account: LocalAccount): WalletClient<Transport, Chain, LocalAccount> =>
      createWalletClient({ account, chain, transport, pollingInterval: POLLING_INTERVAL_MS });
    const walletClient = walletFor(devAccount(options.deployerIndex ?? 0));
    const testClient = createTestClient({
      mode: 'anvil',
      chain,
      transport,
      pollingInterval: POLLING_INTERVAL_MS,
    });
    const clients = { publicClient, walletClient };

    await installMulticall3(testClient);
    const tokenAddress = await deployToken(clients);
    const token = tokenInfo(tokenAddress, anvil.chainId);

    return {
      anvil,
      rpcUrl: anvil.rpcUrl,
      chainId: anvil.chainId,
      network: token.network,
      chain,
      publicClient,
      walletClient,
      testClient,
      token,
      accounts: DEV_ACCOUNTS,
      multicall3: MULTICALL3_ADDRESS,
      walletFor,
      mint: (to, amount) => mint(clients, tokenAddress, to, amount),
      balanceOf: (owner) => balanceOf(publicClient, tokenAddress, owner),
      setEthBalance: (address, wei) => setEthBalance(testClient, address, wei),
      stop: () => anvil.stop(),
    };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}
