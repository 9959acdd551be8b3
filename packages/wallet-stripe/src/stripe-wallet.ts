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
  asToken,
  expiryOf,
  SPT_API_VERSION,
  type SptApi,
  type SptToken,
  type SptTokenRequest,
  type StripeRawRequester,
  stripeSptApi,
  tokenOutcome,
} from './spt.js';
import { createTokenBook, DEFAULT_BOOK_SIZE } from './token-book.js';

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
   * typically by calling your backend, which calls Stripe. Must honour `idempotencyKey`, and
   * resolve to the token object Stripe answered (`{ id: 'spt_…', status, usage_limits, … }`);
   * anything else (a bare id string, no id) is refused before anything is sent.
   */
  readonly createToken?: (request: SptTokenRequest) => Promise<SptToken>;
  /**
   * Delegated mode: looks a token up (`GET /v1/shared_payment/issued_tokens/{id}`), so the
   * wallet's `lookup` can tell a used token from an unused one. Without it, a token whose
   * outcome is unknown stays held until it expires.
   */
  readonly retrieveToken?: (id: string) => Promise<SptToken>;
  /**
   * Delegated mode: revokes a token (`POST …/{id}/revoke`), so the wallet's `void` can release
   * the budget of a refused token before it expires.
   */
  readonly revokeToken?: (id: string) => Promise<SptToken>;
  /** How many issued tokens the wallet remembers for `lookup`/`void`. Default 1024. */
  readonly maxTrackedTokens?: number;
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
 * an idempotency key derived from the challenge id (and the payment attempt), and returns it as
 * the credential payload `{ spt, externalId? }`.
 *
 * Money safety: a refusal before a token exists (a declined card, an answer that is not a
 * token) is `paid: false`. A token that exists is an authorization the seller may charge until
 * it expires: the proof says `settlement: 'authorization'` with `validUntil` = the token's
 * expiry, and its `reference` is `spt:` + a short SHA-256 of the token id, never the id (the
 * id is the credential: it appears in no record, event or error). `lookup(reference)` asks
 * Stripe whether it was used; `void(reference)` revokes it and resolves `true` only when Stripe
 * confirms it is dead and unused, so the budget can be released before it expires. Offers
 * below the card minimum are skipped; a token that needs a `next_action` (3-D Secure, a
 * redirect) is revoked and reported as needing a person.
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
  checkOptions(options);
  const sdk = options.stripe
    ? stripeSptApi(options.stripe, options.apiVersion ?? SPT_API_VERSION)
    : undefined;
  /** Issues a token; the answer is checked by the caller, outside Stripe's error handling. */
  const issue = (request: SptTokenRequest): Promise<unknown> =>
    options.createToken ? options.createToken(request) : sdk!.issue(request);
  const api: Omit<SptApi, 'issue'> = {
    ...(options.retrieveToken || sdk?.retrieve
      ? {
          retrieve: async (tokenId: string) =>
            asToken(
              await (options.retrieveToken
                ? options.retrieveToken(tokenId)
                : sdk!.retrieve!(tokenId)),
              options.retrieveToken ? 'stripeWallet({ retrieveToken })' : 'Stripe',
            ),
        }
      : {}),
    ...(options.revokeToken || sdk?.revoke
      ? {
          revoke: async (tokenId: string) =>
            asToken(
              await (options.revokeToken ? options.revokeToken(tokenId) : sdk!.revoke!(tokenId)),
              options.revokeToken ? 'stripeWallet({ revokeToken })' : 'Stripe',
            ),
        }
      : {}),
  };
  const minimums = options.minimums ?? CARD_MINIMUMS;
  const methodTypes = options.paymentMethodTypes ?? ['card', 'link'];
  const book = createTokenBook(options.maxTrackedTokens ?? DEFAULT_BOOK_SIZE);

  /** What Stripe says of a token: used (`paid`), dead and unused (`failed`), or still `open`. */
  async function statusOf(tokenId: string): Promise<'paid' | 'failed' | 'open' | 'unknown'> {
    if (!api.retrieve) return 'unknown';
    try {
      return tokenOutcome(await api.retrieve(tokenId));
    } catch {
      return 'unknown';
    }
  }

  /**
   * Revokes a token. `failed` (dead, nothing captured) only when Stripe's answer says so;
   * `paid` when it was used meanwhile; otherwise `open`/`unknown`.
   */
  async function revoke(tokenId: string): Promise<'paid' | 'failed' | 'open' | 'unknown'> {
    if (!api.revoke) return statusOf(tokenId);
    try {
      return tokenOutcome(await api.revoke(tokenId));
    } catch {
      // Revoking fails when the token was deactivated meanwhile (consumed, say): look again.
      return statusOf(tokenId);
    }
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
      if (context.signal?.aborted) {
        throw fail('The payment was cancelled before a Shared Payment Token was issued.', {
          code: 'WALLET_ABORTED',
        });
      }

      let answer: unknown;
      try {
        answer = await issue({
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
        // No token id came back, so none can have left this process: no seller can charge it
        // (a declined card, any refusal, a network failure). Nothing was paid.
        throw fail(`Stripe did not issue a Shared Payment Token: ${describeStripeError(error)}`, {
          code: 'WALLET_STRIPE_ERROR',
          details: stripeErrorDetails(error),
          cause: error,
        });
      }
      let token: SptToken;
      try {
        token = asToken(answer, options.createToken ? 'stripeWallet({ createToken })' : 'Stripe');
      } catch (error) {
        // An answer that is not a token is never sent: nothing can be charged with it.
        throw fail(`${(error as Error).message}. Nothing was paid.`, {
          code: options.createToken ? 'WALLET_CONFIG_INVALID' : 'WALLET_STRIPE_ERROR',
        });
      }

      // The token exists from here: it is booked under a non-secret reference before anything
      // else, so whatever happens next can be looked up and voided by that reference.
      const validUntil = Math.max(expiresAt * 1000, expiryOf(token) ?? 0);
      let reference: string;
      try {
        reference = book.add(token.id, validUntil, context.now);
      } catch (error) {
        // No reference, no proof: the token never leaves this process, and it is revoked.
        await revoke(token.id);
        throw fail('The Shared Payment Token could not be given a reference; nothing was paid.', {
          code: 'WALLET_ERROR',
          cause: error,
        });
      }

      if (token.status === 'requires_action' || token.next_action) {
        const action = token.next_action?.type ?? 'unknown';
        const outcome = await revoke(token.id);
        throw fail(
          `Stripe needs a person to act on the payment method before it can pay (next_action ` +
            `"${action}", e.g. 3-D Secure or a redirect); an unattended client cannot complete ` +
            'it. Have a person complete it, or use a payment method that needs no action. ' +
            `Nothing was paid${outcome === 'failed' ? ' and the token was revoked' : ''}.`,
          { code: 'WALLET_ACTION_REQUIRED', reference, details: { nextAction: action } },
        );
      }
      if (token.status !== undefined && token.status !== 'active') {
        // Never sent anywhere, so nothing can be charged; revoke it anyway.
        await revoke(token.id);
        throw fail(
          `Stripe issued the Shared Payment Token in status "${String(token.status).slice(0, 40)}", not active; nothing was paid.`,
          { code: 'WALLET_STRIPE_ERROR', reference },
        );
      }

      const externalId = challenge.externalId ?? options.externalId;
      const tokenId = token.id;
      return {
        offerId: offer.id,
        reference,
        settlement: 'authorization',
        validUntil,
        paid: offer.amount,
        secret: {
          payload: { spt: tokenId, ...(externalId !== undefined ? { externalId } : {}) },
        },
      };
    },

    /**
     * What became of a token, by its reference: `paid` (captured or consumed), `failed`
     * (deactivated with nothing captured: it can never be charged), `pending` (still usable,
     * or not known: no `retrieveToken`, or forgotten).
     */
    async lookup(reference: string): Promise<PaymentStatus> {
      const booked = book.get(reference);
      if (!booked) return 'pending';
      const outcome = await statusOf(booked.tokenId);
      return outcome === 'paid' ? 'paid' : outcome === 'failed' ? 'failed' : 'pending';
    },

    /**
     * Revokes a token that was not used. `true` only when Stripe's answer shows it deactivated
     * with nothing captured; `false` when it was used, cannot be revoked here (no key, no
     * `revokeToken`), is forgotten, or Stripe could not be reached.
     */
    async void(reference: string): Promise<boolean> {
      const booked = book.get(reference);
      if (!booked) return false;
      return (await revoke(booked.tokenId)) === 'failed';
    },
  };
}

/** Checks the options at the boundary, naming the option to change. */
function checkOptions(options: StripeWalletOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('stripeWallet: pass options: { stripe, paymentMethod } or { createToken }');
  }
  if (!options.stripe && !options.createToken) {
    throw new TypeError(
      'stripeWallet: pass a stripe client (server side) or a createToken callback (browser)',
    );
  }
  if (options.stripe && typeof options.stripe.rawRequest !== 'function') {
    throw new TypeError(
      'stripeWallet: stripe must be a stripe SDK client (new Stripe(secretKey)), which has rawRequest',
    );
  }
  for (const name of ['createToken', 'retrieveToken', 'revokeToken'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new TypeError(`stripeWallet: ${name} must be a function`);
    }
  }
  if (options.stripe && !options.createToken && !options.paymentMethod) {
    throw new TypeError('stripeWallet: pass the paymentMethod (pm_…) the tokens wrap');
  }
  if (options.paymentMethod !== undefined && typeof options.paymentMethod !== 'string') {
    throw new TypeError("stripeWallet: paymentMethod must be a PaymentMethod id such as 'pm_…'");
  }
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
