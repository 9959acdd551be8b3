/**
 * The three Shared Payment Token calls an MPP payer makes, through the `stripe` SDK's
 * `rawRequest` (stripe 23 has no typed resource for these preview endpoints):
 * issue (`POST /v1/shared_payment/issued_tokens`), retrieve (`GET …/{id}`) and revoke
 * (`POST …/{id}/revoke`).
 *
 * @module
 */

/** The preview API version the SPT endpoints need (the one mppx 0.11 uses). */
export const SPT_API_VERSION = '2026-07-29.preview';

/** The part of a `stripe` SDK client the wallet uses (`Stripe#rawRequest`, stripe ≥ 15). */
export interface StripeRawRequester {
  rawRequest(
    method: string,
    path: string,
    params?: Record<string, unknown>,
    options?: { apiVersion?: string; idempotencyKey?: string },
  ): Promise<unknown>;
}

/** What the wallet asks Stripe for: one token scoped to exactly one challenge. */
export interface SptTokenRequest {
  /** The MPP challenge id the token pays. */
  readonly challengeId: string;
  /** The PaymentMethod (`pm_…`) the token wraps. */
  readonly paymentMethod: string | undefined;
  /** The amount in the currency's minor units, as a decimal string (`usage_limits[max_amount]`). */
  readonly amount: string;
  /** Lower-case ISO 4217 code (`usage_limits[currency]`). */
  readonly currency: string;
  /** Unix seconds: the challenge's expiry (`usage_limits[expires_at]`). */
  readonly expiresAt: number;
  /** The seller's Stripe Business Network profile (`seller_details[network_business_profile]`). */
  readonly networkId: string;
  /** The idempotency key, derived from the challenge id and the payment attempt. */
  readonly idempotencyKey: string;
}

/** A token as Stripe describes it (the fields the wallet reads; others are ignored). */
export interface SptToken {
  readonly id: string;
  /** `active`, `requires_action`, or the deactivation reason. */
  readonly status?: string;
  /** The limits Stripe applied; `expires_at` (unix seconds) is when the token stops working. */
  readonly usage_limits?: { readonly expires_at?: number | string | null } | null;
  readonly next_action?: { readonly type?: string } | null;
  readonly deactivated_reason?: string | null;
  readonly usage_details?: {
    readonly amount_captured?: number | { readonly value?: number } | null;
  } | null;
}

/**
 * Builds the form parameters of the issue call.
 *
 * @example
 * ```ts
 * import { issueParams } from '@stipend/wallet-stripe';
 * issueParams(request).usage_limits; // { currency: 'usd', max_amount: '50', expires_at: 1795505818 }
 * ```
 */
export function issueParams(request: SptTokenRequest): Record<string, unknown> {
  return {
    payment_method: request.paymentMethod,
    usage_limits: {
      currency: request.currency,
      max_amount: request.amount,
      expires_at: request.expiresAt,
    },
    seller_details: { network_business_profile: request.networkId },
  };
}

/** The shape of a Shared Payment Token id (`spt_…`, Stripe's object-id alphabet). */
export const SPT_ID = /^spt_[A-Za-z0-9_]{1,250}$/;

/**
 * Reads a token object Stripe (or a `createToken` callback) returned, refusing anything that
 * is not one: a bare string, no id, an id not shaped like a Shared Payment Token id. `source`
 * names who answered, in the words of the interface the user wrote. The id itself is never put
 * in the message: it is the credential.
 *
 * @throws {TypeError} when the answer is not a token.
 * @example
 * ```ts
 * import { asToken } from '@stipend/wallet-stripe';
 * asToken({ id: 'spt_1', status: 'active' }).id; // 'spt_1'
 * asToken('spt_1', 'stripeWallet({ createToken })'); // throws: a string, not the token object
 * ```
 */
export function asToken(value: unknown, source = 'Stripe'): SptToken {
  if (typeof value === 'string') {
    throw new TypeError(
      `${source} returned a string; it must return the token object Stripe answered ` +
        "({ id: 'spt_…', status: 'active', … }), not the id alone",
    );
  }
  const token = value as SptToken | null;
  if (typeof token !== 'object' || token === null || typeof token.id !== 'string' || !token.id) {
    throw new TypeError(
      `${source} answered without a Shared Payment Token id: it must return { id: 'spt_…', … }`,
    );
  }
  if (!SPT_ID.test(token.id)) {
    throw new TypeError(
      `${source} returned an id that is not a Shared Payment Token id ('spt_' and letters, ` +
        'digits or underscores): pass the token object of POST /v1/shared_payment/issued_tokens',
    );
  }
  return token;
}

/**
 * When a token stops working (ms since epoch), as Stripe says it, if it says so.
 *
 * @example
 * ```ts
 * import { expiryOf } from '@stipend/wallet-stripe';
 * expiryOf({ id: 'spt_1', usage_limits: { expires_at: 1795505818 } }); // 1795505818000
 * ```
 */
export function expiryOf(token: SptToken): number | undefined {
  const at = Number(token.usage_limits?.expires_at);
  return Number.isSafeInteger(at) && at > 0 ? at * 1000 : undefined;
}

/**
 * The amount the seller captured with the token, in minor units.
 *
 * @example
 * ```ts
 * import { capturedOf } from '@stipend/wallet-stripe';
 * capturedOf({ id: 'spt_1', usage_details: { amount_captured: { value: 50 } } }); // 50
 * ```
 */
export function capturedOf(token: SptToken): number {
  const captured = token.usage_details?.amount_captured;
  if (typeof captured === 'number') return captured;
  if (captured && typeof captured.value === 'number') return captured.value;
  return 0;
}

/**
 * What became of a token: `paid` (something was captured or it was consumed), `failed`
 * (deactivated with nothing captured: it can never be charged), `open` (still usable).
 *
 * @example
 * ```ts
 * import { tokenOutcome } from '@stipend/wallet-stripe';
 * tokenOutcome({ id: 'spt_1', status: 'revoked', deactivated_reason: 'revoked' }); // 'failed'
 * ```
 */
export function tokenOutcome(token: SptToken): 'paid' | 'failed' | 'open' {
  if (capturedOf(token) > 0 || token.deactivated_reason === 'consumed') return 'paid';
  if (token.deactivated_reason) return 'failed';
  if (token.status === 'active' || token.status === 'requires_action') return 'open';
  // An unknown status without a deactivation reason: treat as still usable (revoke it).
  return 'open';
}

/** Calls for one Stripe client, or for the callbacks of the delegated (browser) mode. */
export interface SptApi {
  issue(request: SptTokenRequest): Promise<SptToken>;
  retrieve?(id: string): Promise<SptToken>;
  revoke?(id: string): Promise<SptToken>;
}

/**
 * The SPT calls through a `stripe` SDK client (secret key, server side).
 *
 * @example
 * ```ts
 * import Stripe from 'stripe';
 * import { stripeSptApi } from '@stipend/wallet-stripe';
 * const api = stripeSptApi(new Stripe(process.env.STRIPE_SECRET_KEY!), '2026-07-29.preview');
 * ```
 */
export function stripeSptApi(stripe: StripeRawRequester, apiVersion: string): SptApi {
  const path = '/v1/shared_payment/issued_tokens';
  return {
    async issue(request) {
      return asToken(
        await stripe.rawRequest('POST', path, issueParams(request), {
          apiVersion,
          idempotencyKey: request.idempotencyKey,
        }),
      );
    },
    async retrieve(id) {
      return asToken(
        await stripe.rawRequest('GET', `${path}/${encodeURIComponent(id)}`, {}, { apiVersion }),
      );
    },
    async revoke(id) {
      return asToken(
        await stripe.rawRequest(
          'POST',
          `${path}/${encodeURIComponent(id)}/revoke`,
          {},
          { apiVersion, idempotencyKey: `stipend-spt-revoke-${id}` },
        ),
      );
    },
  };
}
