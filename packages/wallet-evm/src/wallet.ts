/**
 * `evmWallet`: pays x402 `exact` / `upto` offers and MPP `evm.charge` offers by signing
 * EIP-712 typed data with any viem account; the server (its facilitator) submits the transfer.
 *
 * @module
 */
import {
  formatAmount,
  type PaymentOffer,
  type PaymentStatus,
  type Proof,
  type Wallet,
  WalletError,
} from '@stipend/client';
import { getAddress, type Hex, type PublicClient } from 'viem';
import { PERMIT2_ADDRESS, READ_ABI } from './constants.js';
import {
  type DomainSource,
  type Eip3009Plan,
  type Permit2Plan,
  type Plan,
  planOf,
} from './plan.js';
import { formatReference, parseReference } from './reference.js';
import { type EvmSigner, randomBytes32, signEip3009, signPermit2 } from './sign.js';

/** The chain reads the wallet makes (a viem `PublicClient` has them all). */
export type EvmReader = Pick<PublicClient, 'readContract' | 'getChainId' | 'getBlock'>;

/** The EIP-712 domain of a token, for charges that do not name it (MPP `evm.charge`). */
export interface TokenDomain {
  /** CAIP-2 network id, e.g. `eip155:8453`. */
  readonly network: string;
  /** Token contract address. */
  readonly address: string;
  /** EIP-712 domain name, e.g. `USD Coin`. */
  readonly name?: string;
  /** EIP-712 domain version, e.g. `2`. */
  readonly version?: string;
}

/** Options of {@link evmWallet}. */
export interface EvmWalletOptions {
  /**
   * The payer: any viem account that can `signTypedData` (`privateKeyToAccount(…)`, a
   * JSON-RPC or browser account wrapped as `{ address, signTypedData }`, or `cdpAccount(…)`).
   */
  readonly account: EvmSigner;
  /**
   * Optional chain access (one chain): balance checks before signing, Permit2 allowance
   * checks, reading a token's EIP-712 domain, and `lookup` of authorizations whose outcome is
   * unknown. Offers on other chains are still signed, without these checks.
   */
  readonly publicClient?: EvmReader;
  /** Check the balance before signing when `publicClient` is on the offer's chain. Default true. */
  readonly checkBalance?: boolean;
  /** EIP-712 domains of tokens for MPP charges (x402 offers carry theirs). */
  readonly domains?: readonly TokenDomain[];
  /** The wallet's id in records and errors. Default `evm:<address>`. */
  readonly id?: string;
}

/** x402's v1 clients back-date `validAfter` by ten minutes (clock skew). */
const V1_SKEW_SEC = 600n;

/**
 * Creates an EVM wallet for `createPayingFetch`. Rails: `x402:exact` (EIP-3009, or Permit2
 * when `extra.assetTransferMethod` is `permit2`), `x402:upto` (Permit2), `mpp:evm.charge`
 * (EIP-3009 bound to the challenge).
 *
 * Signing never outlives the policy: `validBefore` is `now + min(maxTimeoutSeconds,
 * maxAuthorizationTtlSec)`. Nothing is signed unless the offer the policy approved and the
 * server's own terms agree on amount, recipient, token and network. Nonces are 32 random
 * bytes (MPP: the challenge hash, as the method requires).
 *
 * @example
 * ```ts
 * import { createPayingFetch, x402Adapter } from '@stipend/client';
 * import { evmWallet } from '@stipend/wallet-evm';
 * import { createPublicClient, http } from 'viem';
 * import { privateKeyToAccount } from 'viem/accounts';
 * import { base } from 'viem/chains';
 *
 * const wallet = evmWallet({
 *   account: privateKeyToAccount(process.env.PAYER_KEY as `0x${string}`),
 *   publicClient: createPublicClient({ chain: base, transport: http() }),
 * });
 * const payingFetch = createPayingFetch({ adapters: [x402Adapter()], wallets: [wallet] });
 * ```
 */
export function evmWallet(options: EvmWalletOptions): Wallet {
  const { account, publicClient } = options;
  const payer = getAddress(account.address);
  const id = options.id ?? `evm:${payer}`;
  const checkBalance = options.checkBalance ?? true;
  let readerChain: Promise<number | undefined> | undefined;

  /** The public client, when it is on `chainId`. */
  async function readerFor(chainId: number): Promise<EvmReader | undefined> {
    if (!publicClient) return undefined;
    readerChain ??= publicClient.getChainId().catch(() => {
      readerChain = undefined;
      return undefined;
    });
    return (await readerChain) === chainId ? publicClient : undefined;
  }

  const domains: DomainSource = async (network, token) => {
    const listed = options.domains?.find(
      (entry) => entry.network === network && entry.address.toLowerCase() === token.toLowerCase(),
    );
    if (listed?.name !== undefined && listed.version !== undefined) {
      return { name: listed.name, version: listed.version };
    }
    const chainId = Number(network.slice('eip155:'.length));
    const reader = await readerFor(chainId);
    if (!reader) return undefined;
    try {
      const [name, version] = await Promise.all([
        reader.readContract({ address: token, abi: READ_ABI, functionName: 'name' }),
        reader.readContract({ address: token, abi: READ_ABI, functionName: 'version' }),
      ]);
      return { name, version };
    } catch {
      return undefined;
    }
  };

  const fail = (message: string, code: string, details?: Record<string, unknown>) =>
    new WalletError({ walletId: id, message, paid: false, code, ...(details ? { details } : {}) });

  async function missingApproval(plan: Permit2Plan): Promise<string | undefined> {
    const reader = await readerFor(plan.chainId);
    if (!reader) {
      return plan.approvalRequired
        ? `the server says ${payer} has not approved Permit2 (${PERMIT2_ADDRESS}) for ${plan.token}; approve it first (or pass a publicClient so the wallet can see the approval)`
        : undefined;
    }
    const allowance = await reader.readContract({
      address: plan.token,
      abi: READ_ABI,
      functionName: 'allowance',
      args: [payer, PERMIT2_ADDRESS],
    });
    return allowance < plan.amount
      ? `${payer} has approved Permit2 (${PERMIT2_ADDRESS}) for only ${allowance} of ${plan.token}, below ${plan.amount}; approve Permit2 for this token first`
      : undefined;
  }

  async function ensureFunds(offer: PaymentOffer, plan: Plan): Promise<void> {
    if (!checkBalance) return;
    const reader = await readerFor(plan.chainId);
    if (!reader) return;
    const balance = await reader.readContract({
      address: plan.token,
      abi: READ_ABI,
      functionName: 'balanceOf',
      args: [payer],
    });
    const needed = offer.amount.value;
    if (balance < needed) {
      const have = formatAmount({ value: balance, unit: offer.amount.unit });
      throw fail(
        `Insufficient funds: ${payer} holds ${have} on ${offer.network}, and this payment needs ${formatAmount(offer.amount)}. Top up the payer address, or lower the price you accept.`,
        'INSUFFICIENT_FUNDS',
        { balance: balance.toString(), needed: needed.toString() },
      );
    }
  }

  return {
    id,
    rails: ['x402:exact', 'x402:upto', 'mpp:evm.charge'],

    async canPay(offer) {
      const plan = await planOf(offer, domains);
      if (typeof plan === 'string') return plan;
      if (plan.kind === 'permit2') return (await missingApproval(plan)) ?? true;
      return true;
    },

    async pay(offer, context): Promise<Proof> {
      if (context.signal?.aborted) throw fail('The payment was aborted before signing.', 'ABORTED');
      const plan = await planOf(offer, domains);
      if (typeof plan === 'string') throw fail(`Refusing to sign: ${plan}.`, 'OFFER_MISMATCH');
      const nowSec = BigInt(Math.floor(context.now / 1000));
      const cap = Math.min(plan.ttlSec, context.maxAuthorizationTtlSec);
      if (!Number.isSafeInteger(cap) || cap < 1) {
        throw fail(
          `The authorization would be valid for ${cap} s; the policy's maxAuthorizationTtlSec must be at least 1.`,
          'TTL_INVALID',
        );
      }
      let deadline = nowSec + BigInt(cap);
      if (plan.kind === 'eip3009' && plan.expiresAtSec !== undefined) {
        const expires = BigInt(plan.expiresAtSec);
        if (expires <= nowSec) throw fail('The challenge expired before signing.', 'EXPIRED');
        if (expires < deadline) deadline = expires;
      }
      if (plan.kind === 'permit2') {
        const missing = await missingApproval(plan);
        if (missing) throw fail(`Cannot pay: ${missing}.`, 'PERMIT2_APPROVAL_REQUIRED');
      }
      await ensureFunds(offer, plan);
      if (context.signal?.aborted) throw fail('The payment was aborted before signing.', 'ABORTED');

      try {
        if (plan.kind === 'permit2') {
          const signed = await signPermit2(account, plan, { deadline });
          return {
            offerId: offer.id,
            reference: formatReference({
              kind: 'permit2',
              chainId: plan.chainId,
              token: plan.token,
              from: payer,
              nonce: BigInt(signed.permit2Authorization.nonce),
              deadline,
            }),
            settlement: 'authorization',
            validUntil: Number(deadline) * 1000,
            secret: { payload: signed },
          };
        }
        return await payEip3009(offer, plan, nowSec, deadline);
      } catch (error) {
        if (error instanceof WalletError) throw error;
        throw new WalletError({
          walletId: id,
          message: `The account could not sign the payment: ${(error as Error)?.message ?? String(error)}`,
          paid: false,
          code: 'SIGNING_FAILED',
          cause: error,
        });
      }
    },

    async lookup(reference): Promise<PaymentStatus> {
      const parsed = parseReference(reference);
      if (!parsed) return 'pending';
      const reader = await readerFor(parsed.chainId);
      if (!reader) return 'pending';
      // One block for both reads: "unused at a block past the deadline" is final.
      const block = await reader.getBlock({ blockTag: 'latest' });
      let used: boolean;
      if (parsed.kind === 'eip3009') {
        used = await reader.readContract({
          address: parsed.token,
          abi: READ_ABI,
          functionName: 'authorizationState',
          args: [parsed.from, parsed.nonce as Hex],
          blockNumber: block.number,
        });
        if (used) return 'paid';
        return block.timestamp >= parsed.deadline ? 'failed' : 'pending';
      }
      const nonce = parsed.nonce as bigint;
      const bitmap = await reader.readContract({
        address: PERMIT2_ADDRESS,
        abi: READ_ABI,
        functionName: 'nonceBitmap',
        args: [parsed.from, nonce >> 8n],
        blockNumber: block.number,
      });
      used = ((bitmap >> (nonce & 255n)) & 1n) === 1n;
      if (used) return 'paid';
      return block.timestamp > parsed.deadline ? 'failed' : 'pending';
    },
  };

  async function payEip3009(
    offer: PaymentOffer,
    plan: Eip3009Plan,
    nowSec: bigint,
    deadline: bigint,
  ): Promise<Proof> {
    const nonce = plan.nonce ?? randomBytes32();
    const validAfter = plan.validAfter === 'tenMinutesAgo' ? nowSec - V1_SKEW_SEC : 0n;
    const signed = await signEip3009(account, plan, { validAfter, validBefore: deadline, nonce });
    const reference = formatReference({
      kind: 'eip3009',
      chainId: plan.chainId,
      token: plan.token,
      from: payer,
      nonce,
      deadline,
    });
    const secret =
      plan.output === 'mpp'
        ? {
            payload: {
              ...signed.authorization,
              signature: signed.signature,
              type: 'authorization',
            },
            source: `did:pkh:eip155:${plan.chainId}:${payer}`,
          }
        : { payload: signed };
    return {
      offerId: offer.id,
      reference,
      settlement: 'authorization',
      validUntil: Number(deadline) * 1000,
      secret,
    };
  }
}
