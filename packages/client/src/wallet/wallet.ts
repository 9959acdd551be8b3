/**
 * The wallet contract: what a wallet package implements so the core can pay.
 *
 * @module
 */
import type { Amount } from '../money/unit.js';
import type { PaymentOffer } from '../offer.js';

/** What the core tells a wallet when it asks it to pay one approved offer. */
export interface PayContext {
  /** The request being paid for (method and URL only; never its credentials). */
  readonly request: { readonly method: string; readonly url: string };
  /** One key per logical purchase; the same on every retry of that purchase. */
  readonly idempotencyKey: string;
  /** The policy's cap on how long a signed authorization may stay valid, in seconds. */
  readonly maxAuthorizationTtlSec: number;
  /** The budget reservation held for this payment. */
  readonly reservationId: string;
  /**
   * Aborts the payment when the caller gives up or the wallet's deadline (`payTimeoutMs`)
   * passes. A wallet that is aborted after money moved should still settle its answer: the
   * core books late answers (paid: committed with the proof kept; failed: released).
   */
  readonly signal?: AbortSignal;
  /** The clock the core uses (ms since epoch). */
  readonly now: number;
}

/**
 * What a wallet returns after paying or signing. `secret` carries what proves payment
 * (a signature, a preimage, a token): only the protocol adapter reads it, to build the
 * proof header. It never goes into records, events or errors.
 */
export interface Proof {
  /** The offer this proof pays. */
  readonly offerId: string;
  /** Secret-free reference to the payment (payment hash, authorization nonce, token id). */
  readonly reference: string;
  /**
   * `final`: money has moved when the wallet returns (a Lightning payment). `authorization`:
   * the server moves money when it accepts the proof (x402, Shared Payment Tokens).
   */
  readonly settlement: 'final' | 'authorization';
  /** For authorizations: when it provably stops being usable (ms since epoch). */
  readonly validUntil?: number;
  /** The amount actually paid, when the wallet knows it (fees included separately). */
  readonly paid?: Amount;
  /** The fee actually paid, when known. */
  readonly fee?: Amount;
  /** Protocol-specific proof material for the adapter; may hold secrets. */
  readonly secret: unknown;
}

/** What a wallet says about a past payment when the core reconciles an unknown outcome. */
export type PaymentStatus = 'paid' | 'failed' | 'pending';

/**
 * A wallet pays offers of the rails it lists. Several wallets can serve one paying fetch.
 *
 * @example
 * ```ts
 * import type { Wallet } from '@stipend/client';
 *
 * const wallet: Wallet = {
 *   id: 'my-wallet',
 *   rails: ['l402:bolt11'],
 *   canPay: (offer) => (offer.amount.value > 0n ? true : 'amountless offers are not paid'),
 *   pay: async (offer, ctx) => ({ offerId: offer.id, reference: 'hash', settlement: 'final', secret: 'preimage' }),
 * };
 * ```
 */
export interface Wallet {
  /** A stable name, shown in records and errors. */
  readonly id: string;
  /** The rails this wallet pays, as `protocol:scheme` (`x402:exact`, `mpp:stripe.charge`). */
  readonly rails: readonly string[];
  /** `true` if this wallet can pay the offer, otherwise the reason it cannot. */
  canPay(offer: PaymentOffer): true | string | Promise<true | string>;
  /** Pays or signs exactly this offer. Throw a `WalletError` on failure. */
  pay(offer: PaymentOffer, context: PayContext): Promise<Proof>;
  /**
   * Asks the rail what became of an earlier payment (by `Proof.reference`). `paid`: money
   * moved. `failed`: it provably did not and can no longer move (an authorization unused past
   * its expiry on chain time, a failed Lightning payment); the core then releases its budget.
   * `pending`: anything else, including an authorization still valid and unused.
   */
  lookup?(reference: string, offer: PaymentOffer): Promise<PaymentStatus>;
  /**
   * Optional. The reference the payment of this offer will have, known before paying (an
   * L402 invoice's payment hash; an EIP-3009 nonce derived from the idempotency key). The core
   * journals it before calling `pay`, so a crash or a timeout leaves a purchase the rail can
   * be asked about.
   */
  referenceFor?(offer: PaymentOffer, context: PayContext): string | undefined;
  /**
   * Optional. The payee this wallet would really pay for the offer, verified by the wallet
   * (the node key recovered from a BOLT 11 invoice's signature). The core asks it before the
   * policy decides, so that payee allow and deny lists apply to what was verified, never to
   * what a server claims. Throw (a `WalletError` with `paid: false`) when it cannot be
   * verified; the offer is then not paid.
   */
  payeeOf?(offer: PaymentOffer): string | Promise<string>;
  /**
   * Optional. The proof of a payment the rail confirms as paid (a Lightning preimage looked
   * up by payment hash), so that a purchase paid but never delivered can be completed with
   * it instead of being bought again. `undefined` when the rail cannot give it.
   */
  recover?(reference: string, offer: PaymentOffer): Promise<Proof | undefined>;
  /**
   * Optional. Makes an authorization that was signed or sent, and not used, unusable (revoke a
   * Shared Payment Token, say). Resolves `true` only when it provably can no longer move
   * money; the core then releases its budget before the authorization expires.
   */
  void?(reference: string, offer: PaymentOffer): Promise<boolean>;
  /**
   * Optional. What this wallet holds that could pay `offer`, in the offer's unit (the token
   * balance of `offer.asset` on `offer.network`; spendable msat for Lightning), or `undefined`
   * when it cannot tell. Read-only: it never reserves, signs or pays. The core compares it with
   * an offer in the same unit (amount plus a same-unit maximum fee) and skips offers no wallet
   * can fund, falling back to the next allowed one; a failure, a timeout or an answer that is
   * not an `Amount` counts as "unknown", never as "unfunded".
   *
   * @example
   * ```ts
   * balance: async (offer, { signal }) => ({ value: await token.balanceOf(me, { signal }), unit: offer.amount.unit }),
   * ```
   */
  balance?(
    offer: PaymentOffer,
    options: { readonly signal: AbortSignal },
  ): Promise<Amount | undefined>;
}
