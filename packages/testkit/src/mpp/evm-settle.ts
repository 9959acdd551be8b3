/**
 * On-chain settlement of an mppx `evm/charge` EIP-3009 authorization: the seller submits
 * `transferWithAuthorization(from, to, value, validAfter, validBefore, nonce, v, r, s)` to the
 * token and checks the resulting `Transfer` event.
 *
 * @module
 */

import { Errors } from 'mppx';
import type { Address, Hex, Log } from 'viem';
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  http,
  parseEventLogs,
  parseSignature,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { abi as eip3009TokenAbi } from '../chain/token-artifact.js';

/** The EIP-3009 authorization mppx hands to a custom `settle` (its `AuthorizationPayload`). */
export interface Eip3009AuthorizationPayload {
  from: string;
  to: string;
  value: string;
  validAfter: string;
  validBefore: string;
  nonce: string;
  signature: string;
}

/** The arguments mppx's `evm.charge({ settle })` passes that this settler reads. */
export interface Eip3009SettleInput {
  payload: Eip3009AuthorizationPayload;
  request: { currency: string };
}

/** What the settler needs from a chain; {@link viemEip3009Chain} provides it over JSON-RPC. */
export interface Eip3009Chain {
  /** Bytecode at `address` (`undefined` or `0x` when there is none). */
  getCode(address: Address): Promise<Hex | undefined>;
  /** Sends `transferWithAuthorization` (v, r, s form) to `token`; returns the tx hash. */
  transferWithAuthorization(call: {
    token: Address;
    from: Address;
    to: Address;
    value: bigint;
    validAfter: bigint;
    validBefore: bigint;
    nonce: Hex;
    v: number;
    r: Hex;
    s: Hex;
  }): Promise<Hex>;
  /** Waits for the receipt of `hash`. */
  waitForReceipt(hash: Hex): Promise<{ status: 'success' | 'reverted'; logs: Log[] }>;
}

/** Anvil's first dev account key (public knowledge; only for local chains). */
export const anvilDevSettlerKey: Hex =
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

/** The test token's ABI (it has both `transferWithAuthorization` overloads and `Transfer`). */
const eip3009Abi = eip3009TokenAbi;

/** Options of {@link viemEip3009Chain}. */
export interface ViemEip3009ChainOptions {
  /** JSON-RPC URL of the chain (a local anvil: `http://127.0.0.1:<port>`). */
  rpcUrl: string;
  chainId: number;
  /** Key of the account that pays gas to settle; defaults to {@link anvilDevSettlerKey}. */
  settlerPrivateKey?: Hex | undefined;
}

/**
 * An {@link Eip3009Chain} over JSON-RPC with viem, for a local dev chain.
 *
 * @example
 * ```ts
 * import { viemEip3009Chain } from '@stipend/testkit/mpp';
 *
 * const chain = viemEip3009Chain({ rpcUrl: 'http://127.0.0.1:8545', chainId: 31337 });
 * ```
 */
export function viemEip3009Chain(options: ViemEip3009ChainOptions): Eip3009Chain {
  const chain = defineChain({
    id: options.chainId,
    name: `testkit-chain-${options.chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [options.rpcUrl] } },
  });
  const transport = http(options.rpcUrl);
  const account = privateKeyToAccount(options.settlerPrivateKey ?? anvilDevSettlerKey);
  const publicClient = createPublicClient({ chain, transport });
  const walletClient = createWalletClient({ account, chain, transport });
  return {
    getCode: (address) => publicClient.getCode({ address }),
    transferWithAuthorization: (call) =>
      walletClient.writeContract({
        address: call.token,
        abi: eip3009Abi,
        functionName: 'transferWithAuthorization',
        args: [
          call.from,
          call.to,
          call.value,
          call.validAfter,
          call.validBefore,
          call.nonce,
          call.v,
          call.r,
          call.s,
        ],
      }),
    waitForReceipt: async (hash) => {
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      return { status: receipt.status, logs: receipt.logs };
    },
  };
}

/**
 * Returns a `settle` function for mppx's server `evm.charge({ settle })` that submits the
 * client's EIP-3009 authorization on chain and returns the transaction hash as the receipt
 * reference. It refuses (mppx `VerificationFailedError`, i.e. a 402 `verification-failed`) when
 * the token address has no code, the transaction reverts, or the receipt lacks the matching
 * `Transfer(from, to, value)` event from the token.
 *
 * @example
 * ```ts
 * import { evm } from 'mppx/server';
 * import { createEip3009Settler, viemEip3009Chain } from '@stipend/testkit/mpp';
 *
 * const settle = createEip3009Settler(viemEip3009Chain({ rpcUrl: 'http://127.0.0.1:8545', chainId: 31337 }));
 * const method = evm.charge({ currency: '0x…', chainId: 31337, decimals: 6, authorization: { name: 'USDC', version: '2' }, recipient: '0x…', settle });
 * ```
 */
export function createEip3009Settler(
  chain: Eip3009Chain,
): (input: Eip3009SettleInput) => Promise<{ reference: Hex }> {
  return async ({ payload, request }) => {
    const fail = (reason: string) => new Errors.VerificationFailedError({ reason });
    const token = getAddress(request.currency);
    const code = await chain.getCode(token);
    if (!code || code === '0x') {
      throw fail(`no contract at token address ${token}; deploy the EIP-3009 token first`);
    }
    const { r, s, v, yParity } = parseSignature(payload.signature as Hex);
    const from = getAddress(payload.from);
    const to = getAddress(payload.to);
    const value = BigInt(payload.value);
    const hash = await chain.transferWithAuthorization({
      token,
      from,
      to,
      value,
      validAfter: BigInt(payload.validAfter),
      validBefore: BigInt(payload.validBefore),
      nonce: payload.nonce as Hex,
      v: v === undefined ? yParity + 27 : Number(v),
      r,
      s,
    });
    const receipt = await chain.waitForReceipt(hash);
    if (receipt.status !== 'success') {
      throw fail(`transferWithAuthorization reverted (tx ${hash})`);
    }
    const transfers = parseEventLogs({
      abi: eip3009Abi,
      eventName: 'Transfer',
      logs: receipt.logs,
    });
    const matched = transfers.some(
      (log) =>
        getAddress(log.address) === token &&
        getAddress(log.args.from) === from &&
        getAddress(log.args.to) === to &&
        log.args.value === value,
    );
    if (!matched) {
      throw fail(`tx ${hash} emitted no Transfer(${from}, ${to}, ${value}) from token ${token}`);
    }
    return { reference: hash };
  };
}
