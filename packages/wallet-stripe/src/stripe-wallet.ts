/**
 * `stripeWallet`: pays MPP `stripe` charges with one Shared Payment Token per challenge.
 *
 * @module
 */
import {
  formatAmount,
  type PayContext,
  type PaymentOffer,
  type PaymentStatus,
  type Proof,
  railOf,
  type Wallet,
  WalletError,
} from '@stipend/client';
import { CARD_MINIMUMS, STRIPE_MAX_AMOUNT } from './card-minimum.js';
import {
  SPT_API_VERSION,
  type SptApi,
  type SptToken,
  type SptTokenRequest,
  type StripeRawRequester,
  stripeSptApi,
  tokenOutcome,
} from './spt.js';

/** The rail this wallet pays. */
export const STRIPE_CHARGE_RAIL = 'mpp:stripe.charge';

/** Options of {@link stripeWallet}: a `stripe` client (server side) or a `createToken` callback. */
export interface StripeWalletOptions {
  /** Wallet id in records and errors. Default `stripe`. */
  readonly id?: string;
  /**
   * A `stripe` SDK client holding the secret key (server side). The wallet issues, retrieves
   * and revokes tokens with it.
   */
  readonly stripe?: StripeRawRequester;
  /** The PaymentMethod (`pm_…`) every token wraps. Required with `stripe`. */
  readonly paymentMethod?: string;
  /**
   * Delegated mode (browsers, where the secret key must not be): issues the token elsewhere,
   * typically by calling your backend, which calls Stripe. Must honour `idempotencyKey`.
   */
  readonly createToken?: (request: SptTokenRequest) => Promise<SptToken>;
  /** Delegated mode: looks a token up, to reconcile an unknown outcome. */
  readonly retrieveToken?: (id: string) => Promise<SptToken>;
  /** Delegated mode: revokes a token left unused after a failed attempt. */
  readonly revokeToken?: (id: string) => Promise<SptToken>;
  /** Stripe API version of the SPT calls. Default `2026-07-29.preview`. */
  readonly apiVersion?: string;
  /** `externalId` for the credential when the challenge sets none (the challenge's wins). */
  readonly externalId?: string;
  /**
   * PaymentMethod types the wrapped method can serve; challenges whose
   * `methodDetails.paymentMethodTypes` has none of them are skipped. Default `['card', 'link']`.
   */
  readonly paymentMethodTypes?: readonly string[];
  /** Minimum charge per lower-case currency, minor units. Default Stripe's card minimums. */
  readonly minimums?: Readonly<Record<string, bigint>>;
}

/** The stripe-charge challenge fields the wallet reads from `offer.raw`. */
interface StripeChallenge {
  readonly id: string;
  readonly expires?: string;
  readonly amount: string;
  readonly currency: string;
  readonly networkId: string;
  readonly externalId?: string;
  readonly paymentMethodTypes?: readonly string[];
}

function readChallenge(offer: PaymentOffer): StripeChallenge | string {
  const raw = offer.raw as
    | {
        challenge?: Record<string, string>;
        request?: {
          amount?: unknown;
          currency?: unknown;
          externalId?: unknown;
          methodDetails?: { networkId?: unknown; paymentMethodTypes?: unknown };
        };
      }
    | undefined;
  const challenge = raw?.challenge;
  const request = raw?.request;
  if (!challenge?.id || !request) return 'the offer carries no MPP challenge';
  const { amount, currency, externalId, methodDetails } = request;
  if (typeof amount !== 'string' || !/^[1-9][0-9]*$/.test(amount)) {
    return 'the challenge amount is not a positive whole number of minor units';
  }
  if (typeof currency !== 'string' || !/^[A-Za-z]{3}$/.test(currency)) {
    return 'the challenge currency is not a three-letter code';
  }
  if (BigInt(amount) !== offer.amount.value) return 'the offer amount differs from its challenge';
  const networkId = methodDetails?.networkId;
  if (typeof networkId !== 'string' || !networkId) {
    return 'the challenge names no seller profile (methodDetails.networkId)';
  }
  const types = methodDetails?.paymentMethodTypes;
  return {
    id: challenge.id,
    ...(challenge.expires !== undefined ? { expires: challenge.expires } : {}),
    amount,
    currency: currency.toLowerCase(),
    networkId,
    ...(typeof externalId === 'string' ? { externalId } : {}),
    ...(Array.isArray(types) ? { paymentMethodTypes: types.map(String) } : {}),
  };
}

/**
 * Creates a wallet for MPP `stripe` charges. Per challenge it issues a Shared Payment Token
 * (`POST /v1/shared_payment/issued_tokens` on the preview API) limited to exactly the
 * challenge's amount, currency and expiry and to the seller's network business profile, with
 * an idempotency key derived from the challenge id (and the payment attempt), and returns it as the credential payload
 * `{ spt, externalId? }`. Offers below the card minimum are skipped; a token that needs a
 * `next_action` (3-D Secure, a redirect) is revoked and reported as needing a person; a token
 * left unused after a refused attempt is revoked; `lookup` reconciles an unknown outcome.
 *
 * @example
 * ```ts
 * import Stripe from 'stripe';
 * import { createPayingFetch, mppAdapter } from '@stipend/client';
 * import { stripeWallet } from '@stipend/wallet-stripe';
 *
 * // Server side: the secret key stays here.
 * const wallet = stripeWallet({ stripe: new Stripe(process.env.STRIPE_SECRET_KEY!), paymentMethod: 'pm_…' });
 * // Browser: tokens are issued by your backend.
 * const browserWallet = stripeWallet({
 *   createToken: async (request) => (await fetch('/api/spt', { method: 'POST', body: JSON.stringify(request) })).json(),
 * });
 * const payingFetch = createPayingFetch({ adapters: [mppAdapter()], wallets: [wallet] });
 * ```
 */
export function stripeWallet(options: StripeWalletOptions): Wallet {
  const id = options.id ?? 'stripe';
  if (!options.stripe && !options.createToken) {
    throw new TypeError(
      'stripeWallet: pass a stripe client (server side) or a createToken callback (browser)',
    );
  }
  if (options.stripe && !options.createToken && !options.paymentMethod) {
    throw new TypeError('stripeWallet: pass the paymentMethod (pm_…) the tokens wrap');
  }
  const sdk = options.stripe
    ? stripeSptApi(options.stripe, options.apiVersion ?? SPT_API_VERSION)
    : undefined;
  const api: SptApi = {
    issue: options.createToken ?? ((request) => sdk!.issue(request)),
    ...(options.retrieveToken || sdk?.retrieve
      ? { retrieve: options.retrieveToken ?? ((tokenId) => sdk!.retrieve!(tokenId)) }
      : {}),
    ...(options.revokeToken || sdk?.revoke
      ? { revoke: options.revokeToken ?? ((tokenId) => sdk!.revoke!(tokenId)) }
      : {}),
  };
  const minimums = options.minimums ?? CARD_MINIMUMS;
  const methodTypes = options.paymentMethodTypes ?? ['card', 'link'];

  /** Settles what became of a token, revoking it when it is still usable. */
  async function settleToken(tokenId: string): Promise<PaymentStatus> {
    let token: SptToken | undefined;
    if (api.retrieve) {
      token = await api.retrieve(tokenId);
      const outcome = tokenOutcome(token);
      if (outcome !== 'open') return outcome;
    }
    if (!api.revoke) return 'pending';
    try {
      token = await api.revoke(tokenId);
    } catch {
      // Revoking fails when the token was deactivated meanwhile (consumed, say): look again.
      if (!api.retrieve) return 'pending';
      token = await api.retrieve(tokenId);
    }
    const outcome = tokenOutcome(token);
    return outcome === 'open' ? 'pending' : outcome;
  }

  function canPay(offer: PaymentOffer): true | string {
    if (railOf(offer) !== STRIPE_CHARGE_RAIL) return `it pays ${STRIPE_CHARGE_RAIL} only`;
    const challenge = readChallenge(offer);
    if (typeof challenge === 'string') return challenge;
    const minimum = minimums[challenge.currency];
    if (minimum !== undefined && offer.amount.value < minimum) {
      return (
        `${formatAmount(offer.amount)} is below Stripe's card minimum of ` +
        `${minimum} ${challenge.currency} minor units; Shared Payment Tokens cannot pay it`
      );
    }
    if (offer.amount.value > STRIPE_MAX_AMOUNT) {
      return `${formatAmount(offer.amount)} is above Stripe's largest charge`;
    }
    const accepted = challenge.paymentMethodTypes;
    if (accepted && !accepted.some((type) => methodTypes.includes(type))) {
      return (
        `the seller takes ${accepted.join(', ') || 'no'} payment methods, and this wallet's ` +
        `payment method is ${methodTypes.join('/')}`
      );
    }
    return true;
  }

  const fail = (message: string, extra: Partial<ConstructorParameters<typeof WalletError>[0]>) =>
    new WalletError({ walletId: id, message, paid: false, ...extra });

  return {
    id,
    rails: [STRIPE_CHARGE_RAIL],

    canPay,

    async pay(offer: PaymentOffer, context: PayContext): Promise<Proof> {
      const verdict = canPay(offer);
      if (verdict !== true) throw fail(`Wallet ${id} cannot pay this offer: ${verdict}.`, {});
      const challenge = readChallenge(offer) as StripeChallenge;
      const challengeEnd = challenge.expires
        ? Date.parse(challenge.expires)
        : context.now + (offer.authorizationTtlSec ?? 300) * 1000;
      const end = Math.min(challengeEnd, context.now + context.maxAuthorizationTtlSec * 1000);
      const expiresAt = Math.floor(end / 1000);
      if (!Number.isFinite(expiresAt) || expiresAt * 1000 <= context.now) {
        throw fail('The challenge has expired; retry the request for a fresh one.', {
          code: 'WALLET_OFFER_EXPIRED',
        });
      }
      context.signal?.throwIfAborted();

      let token: SptToken;
      try {
        token = await api.issue({
          challengeId: challenge.id,
          paymentMethod: options.paymentMethod,
          amount: challenge.amount,
          currency: challenge.currency,
          expiresAt,
          networkId: challenge.networkId,
          // One token per challenge and payment attempt: a repeated call of this attempt gets
          // the same token back; a later attempt (a reused challenge) gets a new one.
          idempotencyKey: `stipend-spt-${challenge.id}-${context.reservationId}`,
        });
      } catch (error) {
        // Issuing a token moves no money: only a seller charging it does, and no seller has it.
        throw fail(`Stripe did not issue a Shared Payment Token: ${describeStripeError(error)}`, {
          code: 'WALLET_STRIPE_ERROR',
          details: stripeErrorDetails(error),
          cause: error,
        });
      }

      if (token.status === 'requires_action' || token.next_action) {
        const action = token.next_action?.type ?? 'unknown';
        await settleToken(token.id).catch(() => 'pending');
        throw fail(
          `Stripe needs a person to act on the payment method before it can pay (next_action ` +
            `"${action}", e.g. 3-D Secure or a redirect); an unattended client cannot complete ` +
            'it. Have a person complete it, or use a payment method that needs no action. ' +
            'Nothing was paid and the token was revoked.',
          { code: 'WALLET_ACTION_REQUIRED', details: { nextAction: action, tokenId: token.id } },
        );
      }
      if (token.status !== undefined && token.status !== 'active') {
        throw fail(`Stripe issued token ${token.id} in status "${token.status}", not active.`, {
          code: 'WALLET_STRIPE_ERROR',
        });
      }

      const externalId = challenge.externalId ?? options.externalId;
      const tokenId = token.id;
      return {
        offerId: offer.id,
        reference: tokenId,
        settlement: 'authorization',
        validUntil: expiresAt * 1000,
        paid: offer.amount,
        secret: {
          payload: { spt: tokenId, ...(externalId !== undefined ? { externalId } : {}) },
          release: async () => {
            const status = await settleToken(tokenId);
            return status === 'paid' ? 'used' : status === 'failed' ? 'released' : 'unknown';
          },
        },
      };
    },

    lookup(reference: string): Promise<PaymentStatus> {
      return settleToken(reference);
    },
  };
}

function describeStripeError(error: unknown): string {
  const e = error as { message?: unknown; code?: unknown; statusCode?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  const code = typeof e?.code === 'string' ? ` (${e.code})` : '';
  return `${message}${code}`;
}

function stripeErrorDetails(error: unknown): Record<string, unknown> {
  const e = error as { type?: unknown; code?: unknown; statusCode?: unknown } | null;
  return {
    ...(typeof e?.type === 'string' ? { stripeType: e.type } : {}),
    ...(typeof e?.code === 'string' ? { stripeCode: e.code } : {}),
    ...(typeof e?.statusCode === 'number' ? { status: e.statusCode } : {}),
  };
}
