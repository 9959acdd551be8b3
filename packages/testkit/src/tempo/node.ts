import {
  type Account,
  type Address,
  type Chain,
  type Client,
  createClient,
  type Hex,
  maxUint256,
  type Transport,
} from 'viem';
import { readContract, waitForTransactionReceipt, writeContract } from 'viem/actions';
import { tempoLocalnet } from 'viem/chains';
import { Abis } from 'viem/tempo';
import { type AnvilInstance, startAnvil } from '../chain/anvil.js';
import { compileChannelEscrow, TIP1034_ESCROW } from './escrow.js';
import { tempoDevTransport } from './transport.js';

/** pathUSD, the TIP-20 token `anvil --network tempo` serves at genesis (6 decimals). */
export const PATH_USD = '0x20c0000000000000000000000000000000000000' as const;

/** A running `anvil --network tempo` with the testkit escrow at the TIP-1034 address. */
export interface TempoNode {
  readonly anvil: AnvilInstance;
  readonly rpcUrl: string;
  /** viem chain object: Tempo's formatters and serializers, this node's id and URL. */
  readonly chain: Chain;
  /** Where the escrow sits (the TIP-1034 precompile address). */
  readonly escrow: Address;
  /** Places another copy of the testkit escrow at `address` (a server's own escrow). */
  installEscrow(address: Address): Promise<void>;
  /** A transport with the testkit's Tempo adaptations ({@link tempoDevTransport}). */
  transport(): Transport;
  /** A viem client on {@link transport} (with `account` when given). */
  client(account?: Account): Client;
  /** pathUSD (or `token`) balance of `owner`, base units. */
  balanceOf(owner: Address, token?: Address): Promise<bigint>;
  /**
   * Lets the escrow pull `owner`'s pathUSD (or `token`): the stand-in moves tokens with
   * `transferFrom`, where the real precompile needs no approval (see ChannelEscrow.sol).
   */
  approveEscrow(owner: Account, token?: Address, escrow?: Address): Promise<void>;
  /** The escrow's view of a channel (`settled`, `deposit`, `closeRequestedAt`); zeros when closed. */
  channelState(
    channelId: Hex,
  ): Promise<{ settled: bigint; deposit: bigint; closeRequestedAt: number }>;
  stop(): Promise<void>;
}

/** Options of {@link startTempoNode}. */
export interface StartTempoNodeOptions {
  /** Extra anvil flags. */
  readonly extraArgs?: readonly string[];
}

/**
 * Starts `anvil --network tempo` (anvil 1.7.1 from `@foundry-rs/anvil`) on 127.0.0.1 and places
 * the testkit's TIP-1034 escrow (`contracts/ChannelEscrow.sol`, compiled in process) at
 * `0x4d50500000000000000000000000000000000000` with `anvil_setCode`. The dev accounts hold
 * pathUSD from genesis. Talk to it through {@link TempoNode.transport}: plain JSON-RPC to this
 * anvil mis-estimates Tempo calls and drops every expiring-nonce transaction after a sender's
 * first (see `transport.ts`).
 *
 * @example
 * ```ts
 * import { startTempoNode } from '@stipend/testkit/tempo';
 * const node = await startTempoNode();
 * console.log(await node.balanceOf('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'));
 * await node.stop();
 * ```
 */
export async function startTempoNode(options: StartTempoNodeOptions = {}): Promise<TempoNode> {
  const anvil = await startAnvil({
    extraArgs: ['--network', 'tempo', ...(options.extraArgs ?? [])],
  });
  try {
    const chain: Chain = {
      ...tempoLocalnet,
      id: anvil.chainId,
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    } as Chain;
    const escrows = new Set([TIP1034_ESCROW.toLowerCase()]);
    const transport = tempoDevTransport(anvil.rpcUrl, { escrows });
    const client = (account?: Account) =>
      createClient({ chain, transport, ...(account ? { account } : {}) });
    const reader = client();
    const installEscrow = async (address: Address) => {
      await reader.request({
        method: 'anvil_setCode',
        params: [address, compileChannelEscrow().deployedBytecode],
      } as never);
      escrows.add(address.toLowerCase());
    };
    await installEscrow(TIP1034_ESCROW);
    const escrowAbi = compileChannelEscrow().abi;
    return {
      anvil,
      rpcUrl: anvil.rpcUrl,
      chain,
      escrow: TIP1034_ESCROW,
      installEscrow,
      transport: () => transport,
      client,
      balanceOf: (owner, token = PATH_USD) =>
        readContract(reader, {
          address: token,
          abi: Abis.tip20,
          functionName: 'balanceOf',
          args: [owner],
        }),
      async approveEscrow(owner, token = PATH_USD, escrow = TIP1034_ESCROW) {
        const hash = await writeContract(client(owner), {
          account: owner,
          chain,
          address: token,
          abi: Abis.tip20,
          functionName: 'approve',
          args: [escrow, maxUint256],
          feeToken: PATH_USD,
        } as never);
        const receipt = await waitForTransactionReceipt(reader, { hash });
        if (receipt.status !== 'success') throw new Error(`approve by ${owner.address} reverted`);
      },
      async channelState(channelId) {
        const state = (await readContract(reader, {
          address: TIP1034_ESCROW,
          abi: escrowAbi,
          functionName: 'getChannelState',
          args: [channelId],
        })) as { settled: bigint; deposit: bigint; closeRequestedAt: number };
        return {
          settled: state.settled,
          deposit: state.deposit,
          closeRequestedAt: Number(state.closeRequestedAt),
        };
      },
      stop: () => anvil.stop(),
    };
  } catch (error) {
    await anvil.stop();
    throw error;
  }
}
