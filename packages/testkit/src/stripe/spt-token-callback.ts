/**
 * Agent-side SPT issuing with the real `stripe` SDK, shaped as the `createToken` callback of
 * mppx's client `stripe.charge` method.
 *
 * @module
 */
import { sptPreviewApiVersion } from './spt-server.js';

/** The part of a `stripe` SDK client this helper needs (`Stripe#rawRequest`, stripe ≥ 15). */
export interface StripeRawRequester {
  rawRequest(
    method: string,
    path: string,
    params?: Record<string, unknown>,
    options?: { apiVersion?: string; idempotencyKey?: string },
  ): Promise<unknown>;
}

/** What mppx's client passes to `createToken` (the fields this helper uses). */
export interface SptTokenRequest {
  /** Minor units, as a decimal string. */
  amount: string;
  currency: string;
  /** Unix seconds; the challenge's `expires`. */
  expiresAt: number;
  /** The seller's Stripe profile from `methodDetails.networkId`. */
  networkId: string | undefined;
  paymentMethod?: string | undefined;
  challenge: { id: string };
}

/** A token this helper issued. */
export interface IssuedSptSummary {
  readonly id: string;
  readonly status: string;
  readonly challengeId: string;
  readonly idempotencyKey: string;
}

/** Options of {@link createSptTokenCallback}. */
export interface SptTokenCallbackOptions {
  /** Preview API version for the call; default `2026-07-29.preview`. */
  apiVersion?: string | undefined;
  /** Default PaymentMethod when mppx passes none. */
  paymentMethod?: string | undefined;
  /** Called with every token issued, e.g. to assert on or revoke later. */
  onToken?: ((token: IssuedSptSummary) => void) | undefined;
}

/**
 * Returns a `createToken` callback for mppx's client `stripe.charge({ createToken })` that issues
 * a Shared Payment Token through `POST /v1/shared_payment/issued_tokens` with the given `stripe`
 * SDK client (`rawRequest`, since stripe 23.1.0 has no typed resource for it). The token is
 * scoped to the challenge: `usage_limits[currency|max_amount|expires_at]` from the challenge,
 * `seller_details[network_business_profile]` = its `networkId`, and the idempotency key
 * `mpp-spt-<challengeId>`, so a retried call cannot issue a second token. A token that comes back
 * `requires_action` is refused with an error (a headless agent cannot complete a `next_action`).
 *
 * This is a test helper, not Stipend's Stripe wallet.
 *
 * @example
 * ```ts
 * import { Mppx, stripe } from 'mppx/client';
 * import { createSptTokenCallback, startStripeStandIn } from '@stipend/testkit/stripe';
 *
 * const stripeApi = await startStripeStandIn();
 * const client = Mppx.create({
 *   polyfill: false,
 *   methods: [stripe.charge({
 *     paymentMethod: 'pm_card_visa',
 *     createToken: createSptTokenCallback(stripeApi.createStripeClient()),
 *   })],
 * });
 * ```
 */
export function createSptTokenCallback(
  stripe: StripeRawRequester,
  options: SptTokenCallbackOptions = {},
): (request: SptTokenRequest) => Promise<string> {
  return async (request) => {
    const paymentMethod = request.paymentMethod ?? options.paymentMethod;
    if (!paymentMethod) {
      throw new Error(
        'createSptTokenCallback: no PaymentMethod; pass paymentMethod to stripe.charge() or to this helper.',
      );
    }
    if (!request.networkId) {
      throw new Error(
        'createSptTokenCallback: the challenge has no methodDetails.networkId, so the SPT cannot be scoped to the seller.',
      );
    }
    const idempotencyKey = `mpp-spt-${request.challenge.id}`;
    const response = (await stripe.rawRequest(
      'POST',
      '/v1/shared_payment/issued_tokens',
      {
        payment_method: paymentMethod,
        usage_limits: {
          currency: request.currency,
          max_amount: request.amount,
          expires_at: request.expiresAt,
        },
        seller_details: { network_business_profile: request.networkId },
      },
      { apiVersion: options.apiVersion ?? sptPreviewApiVersion, idempotencyKey },
    )) as { id?: unknown; status?: unknown; next_action?: { type?: unknown } | null };
    if (typeof response.id !== 'string' || typeof response.status !== 'string') {
      throw new Error('createSptTokenCallback: Stripe returned no token id/status.');
    }
    options.onToken?.({
      id: response.id,
      status: response.status,
      challengeId: request.challenge.id,
      idempotencyKey,
    });
    if (response.status !== 'active') {
      throw new Error(
        `createSptTokenCallback: token ${response.id} is ${response.status} (next_action ${String(response.next_action?.type)}); a headless agent cannot complete it.`,
      );
    }
    return response.id;
  };
}
