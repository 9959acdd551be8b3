import { StipendError } from './base.js';

/** Stable reasons the policy refuses an offer or a request. */
export type DenyCode =
  | 'no_offers'
  | 'no_wallet'
  | 'protocol_not_allowed'
  | 'host_denied'
  | 'payee_not_allowed'
  | 'payee_unverified'
  | 'network_not_allowed'
  | 'asset_not_allowed'
  | 'per_request_cap'
  /** An MPP session's deposit is above the host's `maxDeposit`. */
  | 'deposit_cap'
  | 'native_cap'
  | 'window_cap'
  | 'request_count_cap'
  | 'approval_required'
  | 'approval_denied'
  | 'approval_timeout'
  | 'price_unavailable'
  | 'authorization_ttl_too_long'
  | 'offer_expired'
  | 'insecure_transport';

/** Why one offer was not chosen. Secret-free. */
export interface OfferDenial {
  readonly offerId: string;
  readonly protocol: string;
  readonly scheme: string;
  /** e.g. `'1000 eip155:8453/0x833…'`. */
  readonly amount: string;
  /** Cost in USD micro-units, when it could be priced. */
  readonly usdMicros?: bigint;
  readonly code: DenyCode;
  readonly reason: string;
}

/**
 * The policy paid nothing. `reason` is the deciding code; `offers` says why each offer
 * was refused.
 *
 * @example
 * ```ts
 * import { isStipendError, type PolicyDeniedError } from '@stipend/client';
 * try { await payingFetch(url); } catch (e) {
 *   if (isStipendError(e) && e.code === 'POLICY_DENIED') for (const o of (e as PolicyDeniedError).offers) console.warn(o.offerId, o.code, o.reason);
 * }
 * ```
 */
export class PolicyDeniedError extends StipendError {
  override name = 'PolicyDeniedError';
  readonly reason: DenyCode;
  readonly offers: readonly OfferDenial[];
  constructor(params: {
    reason: DenyCode;
    message: string;
    offers: readonly OfferDenial[];
    url?: string;
  }) {
    super('POLICY_DENIED', params.message, {
      metaMessages: params.offers.map(
        (o) => `- ${o.protocol}/${o.scheme} ${o.amount}: ${o.reason}`,
      ),
      details: { reason: params.reason, url: params.url, offers: params.offers },
    });
    this.reason = params.reason;
    this.offers = params.offers;
  }
}

/**
 * A person (the approver) refused a payment, or did not answer in time.
 *
 * @example
 * ```ts
 * import { ApprovalError } from '@stipend/client';
 * if (err instanceof ApprovalError && err.reason === 'approval_timeout') console.warn('nobody answered');
 * ```
 */
export class ApprovalError extends StipendError {
  override name = 'ApprovalError';
  readonly reason: 'approval_denied' | 'approval_timeout' | 'approval_required';
  constructor(params: {
    reason: 'approval_denied' | 'approval_timeout' | 'approval_required';
    message: string;
    details?: Record<string, unknown>;
    cause?: unknown;
  }) {
    super(
      params.reason === 'approval_timeout' ? 'APPROVAL_TIMEOUT' : 'APPROVAL_DENIED',
      params.message,
      {
        details: { reason: params.reason, ...params.details },
        cause: params.cause,
      },
    );
    this.reason = params.reason;
  }
}
