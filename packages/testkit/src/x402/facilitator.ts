import { x402Facilitator } from '@x402/core/facilitator';
import type { FacilitatorClient } from '@x402/core/server';
import type {
  PaymentPayload,
  PaymentRequirements,
  SettleResponse,
  SupportedResponse,
  VerifyResponse,
} from '@x402/core/types';
import { toFacilitatorEvmSigner } from '@x402/evm';
import { ExactEvmScheme as ExactEvmFacilitatorScheme } from '@x402/evm/exact/facilitator';
import { ExactEvmSchemeV1 as ExactEvmFacilitatorSchemeV1 } from '@x402/evm/exact/v1/facilitator';
import { EVM_NETWORK_CHAIN_ID_MAP } from '@x402/evm/v1';
import {
  type Abi,
  type Address,
  createNonceManager,
  getAddress,
  type Hex,
  type LocalAccount,
  type TypedDataDefinition,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { jsonRpc } from 'viem/nonce';
import type { LocalChain } from '../chain/chain.js';
import { DEV_ACCOUNTS } from '../chain/dev-accounts.js';

/** One successful on-chain settlement performed by the local facilitator. */
export interface SettlementRecord {
  /** x402 protocol version of the payment (1 or 2). */
  readonly x402Version: number;
  /** Transaction hash of the `transferWithAuthorization` call. */
  readonly transaction: Hex;
  /** Network as the protocol names it (`eip155:31337`, or a v1 name such as `base-sepolia`). */
  readonly network: string;
  /** Who paid (the authorization's `from`). */
  readonly payer: Address;
  /** Who was paid (the authorization's `to`). */
  readonly payTo: Address;
  /** Token contract. */
  readonly asset: Address;
  /** Atomic units moved. */
  readonly amount: bigint;
}

/** A payment the facilitator refused, at verification or at settlement. */
export interface RejectionRecord {
  readonly stage: 'verify' | 'settle';
  /** The facilitator's reason code, e.g. `invalid_exact_evm_nonce_already_used`. */
  readonly reason: string;
  readonly payer?: string;
  readonly x402Version: number;
}

/** The official `x402Facilitator`, wired in-process to the local chain. */
export interface LocalFacilitator {
  /** Address that submits settlement transactions (pays the gas). */
  readonly address: Address;
  /** The reference `@x402/core` facilitator instance. */
  readonly instance: x402Facilitator;
  /**
   * A `FacilitatorClient` (what `x402ResourceServer` talks to) that calls {@link instance}
   * directly — no HTTP — and records every outcome in `settlements` / `rejections`.
   */
  readonly client: FacilitatorClient;
  /** v1 network name registered for this chain id, if the chain id has one. */
  readonly v1Network: string | undefined;
  /** Every successful settlement, in order. */
  readonly settlements: SettlementRecord[];
  /** Every refused verification or settlement, in order. */
  readonly rejections: RejectionRecord[];
}

/** Options for {@link createLocalFacilitator}. */
export interface LocalFacilitatorOptions {
  /** The chain to settle on. */
  readonly chain: LocalChain;
  /**
   * Private key of the account that settles (needs ETH for gas). Default: anvil dev account 1
   * (a public test key).
   */
  readonly privateKey?: Hex;
}

/**
 * Finds the x402 v1 network name for a chain id (`84532` → `'base-sepolia'`), if any.
 *
 * @example
 * ```ts
 * import { v1NetworkForChainId } from '@stipend/testkit/x402';
 * v1NetworkForChainId(84532); // 'base-sepolia'
 * v1NetworkForChainId(31337); // undefined
 * ```
 */
export function v1NetworkForChainId(chainId: number): string | undefined {
  for (const [name, id] of Object.entries(EVM_NETWORK_CHAIN_ID_MAP)) {
    if (id === chainId) return name;
  }
  return undefined;
}

function authorizationOf(payload: PaymentPayload): Record<string, unknown> | undefined {
  const authorization = (payload.payload as { authorization?: unknown }).authorization;
  return typeof authorization === 'object' && authorization !== null
    ? (authorization as Record<string, unknown>)
    : undefined;
}

function requiredAmount(requirements: PaymentRequirements): string {
  const v1 = (requirements as { maxAmountRequired?: unknown }).maxAmountRequired;
  return typeof v1 === 'string' ? v1 : requirements.amount;
}

/**
 * Builds the reference x402 facilitator (`x402Facilitator` from `@x402/core` with the
 * `@x402/evm` exact EIP-3009 scheme) settling on a local chain with a local key. It is
 * registered for the chain's CAIP-2 network (v2) and, when the chain id has an x402 v1 name
 * (e.g. 84532 → `base-sepolia`), for that name too (v1). The facilitator checks
 * `validAfter`/`validBefore` against the wall clock: don't time-travel the chain.
 *
 * @example
 * ```ts
 * import { startChain } from '@stipend/testkit/chain';
 * import { createLocalFacilitator } from '@stipend/testkit/x402';
 * const chain = await startChain();
 * const facilitator = createLocalFacilitator({ chain });
 * const supported = await facilitator.client.getSupported(); // kinds: exact on eip155:31337
 * ```
 */
export function createLocalFacilitator(options: LocalFacilitatorOptions): LocalFacilitator {
  const { chain } = options;
  const privateKey = options.privateKey ?? DEV_ACCOUNTS[1]?.privateKey;
  if (!privateKey) throw new Error('no facilitator private key');
  // A nonce manager of its own: viem's shared one remembers nonces across anvil restarts.
  const account: LocalAccount = privateKeyToAccount(privateKey, {
    nonceManager: createNonceManager({ source: jsonRpc() }),
  });
  const wallet = chain.walletFor(account);
  const { publicClient } = chain;

  const signer = toFacilitatorEvmSigner({
    address: account.address,
    getCode: ({ address }) => publicClient.getCode({ address }),
    readContract: ({ address, abi, functionName, args }) =>
      publicClient.readContract({ address, abi: abi as Abi, functionName, args: args ?? [] }),
    verifyTypedData: ({ address, signature, ...typedData }) =>
      publicClient.verifyTypedData({
        address,
        signature,
        ...(typedData as unknown as TypedDataDefinition),
      }),
    writeContract: ({ address, abi, functionName, args, gas, dataSuffix }) =>
      wallet.writeContract({ address, abi: abi as Abi, functionName, args, gas, dataSuffix }),
    sendTransaction: ({ to, data }) => wallet.sendTransaction({ to, data }),
    waitForTransactionReceipt: ({ hash, timeout }) =>
      publicClient.waitForTransactionReceipt({ hash, timeout: timeout ?? 30_000 }),
  });

  const instance = new x402Facilitator().register(
    chain.network,
    new ExactEvmFacilitatorScheme(signer),
  );
  const v1Network = v1NetworkForChainId(chain.chainId);
  if (v1Network) {
    instance.registerV1(
      v1Network as `${string}:${string}`,
      new ExactEvmFacilitatorSchemeV1(signer),
    );
  }

  const settlements: SettlementRecord[] = [];
  const rejections: RejectionRecord[] = [];

  const client: FacilitatorClient = {
    async verify(payload, requirements): Promise<VerifyResponse> {
      const result = await instance.verify(payload, requirements);
      if (!result.isValid) {
        rejections.push({
          stage: 'verify',
          reason: result.invalidReason ?? 'unknown',
          payer: result.payer,
          x402Version: payload.x402Version,
        });
      }
      return result;
    },
    async settle(payload, requirements): Promise<SettleResponse> {
      const result = await instance.settle(payload, requirements);
      const authorization = authorizationOf(payload);
      if (result.success) {
        settlements.push({
          x402Version: payload.x402Version,
          transaction: result.transaction as Hex,
          network: result.network,
          payer: getAddress(String(result.payer ?? authorization?.from)),
          payTo: getAddress(String(authorization?.to ?? requirements.payTo)),
          asset: getAddress(requirements.asset),
          amount: BigInt(String(authorization?.value ?? requiredAmount(requirements))),
        });
      } else {
        rejections.push({
          stage: 'settle',
          reason: result.errorReason ?? 'unknown',
          payer: result.payer,
          x402Version: payload.x402Version,
        });
      }
      return result;
    },
    async getSupported(): Promise<SupportedResponse> {
      return instance.getSupported() as SupportedResponse;
    },
  };

  return { address: account.address, instance, client, v1Network, settlements, rejections };
}
