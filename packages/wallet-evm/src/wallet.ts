/**
 * `evmWallet`: pays x402 `exact` / `upto` offers and MPP `evm.charge` offers by signing
 * EIP-712 typed data with any viem account; the server (its facilitator) submits the transfer.
 *
 * @module
 */
import {
  formatAmount,
  isWalletError,
  type PayContext,
  type PaymentOffer,
  type PaymentStatus,
  type Proof,
  type StipendErrorCode,
  type Wallet,
  WalletError,
} from '@stipend/client';
import { getAddress, type Hex, type PublicClient } from 'viem';
import { type AuthorizationTerms, authorizationTerms } from './authorization.js';
import { PERMIT2_ADDRESS, READ_ABI } from './constants.js';
import { type Eip3009Plan, type Permit2Plan, type Plan, planOf } from './plan.js';
import { parseReference } from './reference.js';
import { type EvmSigner, signEip3009, signPermit2 } from './sign.js';

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

/** An EIP-712 token domain. */
type Domain = { readonly name: string; readonly version: string };

/** Every refusal of this wallet happens before a signature exists: nothing can move. */
const NOT_PAID = { paid: false } as const;

/**
 * Creates an EVM wallet for `createPayingFetch`. Rails: `x402:exact` (EIP-3009, or Permit2
 * when `extra.assetTransferMethod` is `permit2`), `x402:upto` (Permit2), `mpp:evm.charge`
 * (EIP-3009 bound to the challenge).
 *
 * - Nothing is signed unless the offer the policy approved and the server's own terms agree
 *   on amount, recipient, token and network.
 * - Signing never outlives the policy: the authorization is valid until `now +
 *   min(maxTimeoutSeconds, maxAuthorizationTtlSec)` (and no later than an MPP challenge's
 *   `expires`); `Proof.validUntil` is the first moment it provably cannot be used.
 * - One purchase, one nonce: x402 nonces (EIP-3009 and Permit2) are derived from the
 *   purchase's idempotency key and the payer (`nonce.ts`), so signing the same purchase again
 *   (a retry, a pre-authorized offer then a 402, a second 402 with other terms) gives the same
 *   nonce and at most one of the signatures can ever settle. `referenceFor` gives the
 *   reference before anything is signed. MPP charges use the nonce the method fixes (the
 *   challenge hash).
 * - `Proof.paid` is the amount signed: for `upto`, the signed maximum, since the wallet has not
 *   seen what was settled.
 * - `pay` honours `ctx.signal` until the signature exists (chain reads are abandoned, nothing
 *   is signed, `paid: false`); a signature that exists is returned (signing cannot be half
 *   done, and the core books a late answer).
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
  /**
   * The latest deadline this wallet signed per nonce (reference without its deadline). A purchase
   * signed twice has one nonce and two deadlines; `lookup` of the older reference must not call
   * it failed while the newer signature can still settle.
   */
  const signedUntil = new Map<string, bigint>();
  let pruneAt = 1024;

  /** The public client, when it is on `chainId`. */
  async function readerFor(chainId: number): Promise<EvmReader | undefined> {
    if (!publicClient) return undefined;
    readerChain ??= publicClient.getChainId().catch(() => {
      readerChain = undefined;
      return undefined;
    });
    return (await readerChain) === chainId ? publicClient : undefined;
  }

  /** The EIP-712 domain of an EIP-3009 token: the offer's, the `domains` option, or the chain. */
  async function domainOf(plan: Eip3009Plan): Promise<Domain | string> {
    if (plan.domain) return plan.domain;
    const network = `eip155:${plan.chainId}`;
    const listed = options.domains?.find(
      (entry) =>
        entry.network === network && entry.address.toLowerCase() === plan.token.toLowerCase(),
    );
    if (listed?.name !== undefined && listed.version !== undefined) {
      return { name: listed.name, version: listed.version };
    }
    const reader = await readerFor(plan.chainId);
    if (reader) {
      try {
        const [name, version] = await Promise.all([
          reader.readContract({ address: plan.token, abi: READ_ABI, functionName: 'name' }),
          reader.readContract({ address: plan.token, abi: READ_ABI, functionName: 'version' }),
        ]);
        return { name, version };
      } catch {
        // Unreadable: the reason below.
      }
    }
    return (
      `the EIP-712 domain of ${plan.token} on ${network} is unknown; pass ` +
      'evmWallet({ domains: [{ network, address, name, version }] }) or a publicClient on that chain'
    );
  }

  const fail = (message: string, code: StipendErrorCode, details?: Record<string, unknown>) =>
    new WalletError({ walletId: id, message, ...NOT_PAID, code, ...(details ? { details } : {}) });

  const aborted = () =>
    fail(
      'The payment was aborted before signing (the caller gave up or payTimeoutMs passed); nothing was signed.',
      'ABORTED',
    );

  /** `work`, abandoned with an `ABORTED` refusal as soon as `signal` aborts. */
  function unlessAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!signal) return work;
    if (signal.aborted) return Promise.reject(aborted());
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(aborted());
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error);
        },
      );
    });
  }

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

  /** Remembers the latest deadline signed for the reference's nonce. */
  function noteSigned(terms: AuthorizationTerms, nowMs: number): void {
    const key = nonceKey(terms.reference);
    const known = signedUntil.get(key);
    if (known === undefined || known < terms.deadline) signedUntil.set(key, terms.deadline);
    // Pruned when it doubles (not on every signature once past the mark: entries younger than
    // an hour stay, so a busy wallet would walk the whole map each time).
    if (signedUntil.size > pruneAt) {
      const nowSec = BigInt(Math.floor(nowMs / 1000));
      for (const [entry, deadline] of signedUntil) {
        if (deadline < nowSec - 3600n) signedUntil.delete(entry);
      }
      pruneAt = Math.max(1024, signedUntil.size * 2);
    }
  }

  /** What `pay` will sign for `offer`, or why it will not (before any chain read). */
  function termsOf(
    offer: PaymentOffer,
    context: PayContext,
  ): { plan: Plan; terms: AuthorizationTerms } | { code: StipendErrorCode; message: string } {
    const plan = planOf(offer);
    if (typeof plan === 'string') {
      return { code: 'OFFER_MISMATCH', message: `Refusing to sign: ${plan}.` };
    }
    const terms = authorizationTerms(plan, payer, context);
    return 'reference' in terms ? { plan, terms } : terms;
  }

  return {
    id,
    rails: ['x402:exact', 'x402:upto', 'mpp:evm.charge'],

    async canPay(offer) {
      const plan = planOf(offer);
      if (typeof plan === 'string') return plan;
      if (plan.kind === 'permit2') return (await missingApproval(plan)) ?? true;
      const domain = await domainOf(plan);
      return typeof domain === 'string' ? domain : true;
    },

    referenceFor(offer, context) {
      const made = termsOf(offer, context);
      return 'terms' in made ? made.terms.reference : undefined;
    },

    async pay(offer, context): Promise<Proof> {
      const { signal } = context;
      if (signal?.aborted) throw aborted();
      const made = termsOf(offer, context);
      if (!('terms' in made)) throw fail(made.message, made.code);
      const { plan, terms } = made;
      let domain: Domain | undefined;
      if (plan.kind === 'permit2') {
        const missing = await unlessAborted(missingApproval(plan), signal);
        if (missing) throw fail(`Cannot pay: ${missing}.`, 'PERMIT2_APPROVAL_REQUIRED');
      } else {
        const found = await unlessAborted(domainOf(plan), signal);
        if (typeof found === 'string') throw fail(`Refusing to sign: ${found}.`, 'OFFER_MISMATCH');
        domain = found;
      }
      await unlessAborted(ensureFunds(offer, plan), signal);
      // The last moment to give up: past this line a signature is made and returned.
      if (signal?.aborted) throw aborted();

      let secret: unknown;
      try {
        secret =
          plan.kind === 'permit2'
            ? {
                payload: await signPermit2(account, plan, {
                  deadline: terms.deadline,
                  nonce: BigInt(terms.nonce),
                }),
              }
            : await signedEip3009(plan, domain!, terms);
      } catch (error) {
        if (isWalletError(error)) throw error;
        throw new WalletError({
          walletId: id,
          message: `The account could not sign the payment: ${(error as Error)?.message ?? String(error)}`,
          ...NOT_PAID,
          code: 'SIGNING_FAILED',
          cause: error,
        });
      }
      noteSigned(terms, context.now);
      return {
        offerId: offer.id,
        reference: terms.reference,
        settlement: 'authorization',
        validUntil: terms.validUntil,
        // The amount signed. For `upto` it is the signed maximum: what settles may be less, but
        // the wallet has not verified that on chain, so it claims no less.
        paid: offer.amount,
        secret,
      };
    },

    /**
     * What the payer holds of the offer's token, read on chain (needs `publicClient` on the
     * offer's chain); `undefined` when it cannot be read. Read-only: nothing is signed.
     */
    async balance(offer) {
      const plan = planOf(offer);
      if (typeof plan === 'string') return undefined;
      const reader = await readerFor(plan.chainId);
      if (!reader) return undefined;
      const value = await reader.readContract({
        address: plan.token,
        abi: READ_ABI,
        functionName: 'balanceOf',
        args: [payer],
      });
      return { value, unit: offer.amount.unit };
    },

    async lookup(reference): Promise<PaymentStatus> {
      const parsed = parseReference(reference);
      if (!parsed) return 'pending';
      const reader = await readerFor(parsed.chainId);
      if (!reader) return 'pending';
      const latest = signedUntil.get(nonceKey(reference));
      const deadline = latest !== undefined && latest > parsed.deadline ? latest : parsed.deadline;
      // One block for both reads: "unused at a block past the deadline" is final.
      const block = await reader.getBlock({ blockTag: 'latest' });
      if (parsed.kind === 'eip3009') {
        const used = await reader.readContract({
          address: parsed.token,
          abi: READ_ABI,
          functionName: 'authorizationState',
          args: [parsed.from, parsed.nonce as Hex],
          blockNumber: block.number,
        });
        if (used) return 'paid';
        return block.timestamp >= deadline ? 'failed' : 'pending';
      }
      const nonce = parsed.nonce as bigint;
      const bitmap = await reader.readContract({
        address: PERMIT2_ADDRESS,
        abi: READ_ABI,
        functionName: 'nonceBitmap',
        args: [parsed.from, nonce >> 8n],
        blockNumber: block.number,
      });
      if (((bitmap >> (nonce & 255n)) & 1n) === 1n) return 'paid';
      return block.timestamp > deadline ? 'failed' : 'pending';
    },
  };

  async function signedEip3009(
    plan: Eip3009Plan,
    domain: Domain,
    terms: AuthorizationTerms,
  ): Promise<unknown> {
    const signed = await signEip3009(
      account,
      { ...plan, domain },
      { validAfter: terms.validAfter, validBefore: terms.deadline, nonce: terms.nonce },
    );
    return plan.output === 'mpp'
      ? {
          payload: { ...signed.authorization, signature: signed.signature, type: 'authorization' },
          source: `did:pkh:eip155:${plan.chainId}:${payer}`,
        }
      : { payload: signed };
  }
}

/** A reference without its deadline: the nonce it names, wherever it was signed. */
function nonceKey(reference: string): string {
  return reference.slice(0, reference.lastIndexOf(':')).toLowerCase();
}
