/**
 * The shared state behind the Stripe stand-ins: Shared Payment Tokens (SPTs) issued by an agent
 * and the amounts sellers captured with them.
 *
 * This stands in for Stripe's own bookkeeping. It is not Stripe: field names and the
 * `shared_payment.issued_token` JSON shape follow Stripe's API reference (preview API
 * `2026-07-29.preview`), and behaviour Stripe does not document is marked as the stand-in's.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { invalidParam, resourceMissing, StripeApiError } from './stripe-errors.js';

/** Why a token stopped being usable (Stripe's `deactivated_reason` values). */
export type SptDeactivatedReason = 'consumed' | 'expired' | 'resolved' | 'revoked';

/**
 * Token status. `active` and `requires_action` are Stripe's. For deactivated tokens Stripe's
 * reference shows `status: "revoked"` after a revoke; the stand-in likewise reports the
 * deactivation reason as the status (`consumed`, `expired`, `revoked`).
 */
export type SptStatus = 'active' | 'requires_action' | SptDeactivatedReason;

/** What a token's `next_action` asks the agent to do (Stripe's two documented types). */
export type SptNextAction =
  | { type: 'use_stripe_sdk'; use_stripe_sdk: Record<string, string> }
  | { type: 'redirect_to_url'; redirect_to_url: { url: string; return_url: string } };

/** One issued Shared Payment Token, as the stand-in stores it (money in bigint minor units). */
export interface IssuedSpt {
  readonly id: string;
  /** Unix seconds. */
  readonly created: number;
  readonly paymentMethod: string;
  readonly sellerDetails: {
    readonly networkBusinessProfile: string | null;
    readonly externalId: string | null;
  };
  readonly usageLimits: {
    readonly currency: string;
    readonly maxAmount: bigint;
    /** Unix seconds, or `null` for no expiry. */
    readonly expiresAt: number | null;
  };
  readonly setupFutureUsage: string | null;
  readonly useStripeSdk: boolean | null;
  readonly returnUrl: string | null;
  amountCaptured: bigint;
  status: SptStatus;
  deactivatedAt: number | null;
  deactivatedReason: SptDeactivatedReason | null;
  nextAction: SptNextAction | null;
}

/** What an agent asks for when it issues a token (already decoded from the wire). */
export interface IssueSptInput {
  paymentMethod: string;
  currency: string;
  maxAmount: bigint;
  /** Unix seconds. */
  expiresAt?: number | undefined;
  networkBusinessProfile?: string | undefined;
  externalId?: string | undefined;
  setupFutureUsage?: string | undefined;
  useStripeSdk?: boolean | undefined;
  returnUrl?: string | undefined;
}

/** A charge a seller wants to make with a token. */
export interface SptChargeRequest {
  spt: string;
  amount: bigint;
  currency: string;
  /** The seller's Stripe profile; when set, the token must have been issued for it. */
  sellerProfile?: string | undefined;
}

/**
 * Test PaymentMethod ids with special behaviour, after Stripe's test card ids. Any other `pm_…`
 * id behaves like `pm_card_visa`.
 */
export const testPaymentMethods = {
  /** Issues and charges normally. */
  visa: 'pm_card_visa',
  /** The issued token comes back `requires_action` with a `next_action`. */
  authenticationRequired: 'pm_card_authenticationRequired',
  /** Charging the token is declined: `card_declined` / `generic_decline`. */
  chargeDeclined: 'pm_card_chargeDeclined',
  /** Charging the token is declined: `card_declined` / `insufficient_funds`. */
  chargeDeclinedInsufficientFunds: 'pm_card_chargeDeclinedInsufficientFunds',
} as const;

/** Largest amount Stripe accepts (eight digits of minor units). */
const maxStripeAmount = 99_999_999n;

/** Options of {@link SptLedger}. */
export interface SptLedgerOptions {
  /** Clock in milliseconds; defaults to `Date.now`. Tests move it to expire tokens. */
  now?: (() => number) | undefined;
}

/**
 * In-memory store of Shared Payment Tokens shared by the SPT HTTP stand-in (agent side) and the
 * PaymentIntents stand-in (seller side), so a charge can check that its token exists, is active,
 * unexpired, issued for this seller, and within its currency and amount limits.
 *
 * @example
 * ```ts
 * import { SptLedger } from '@stipend/testkit/stripe';
 *
 * const ledger = new SptLedger();
 * const token = ledger.issue({ paymentMethod: 'pm_card_visa', currency: 'usd', maxAmount: 50n });
 * ledger.checkCharge({ spt: token.id, amount: 50n, currency: 'usd' }); // ok
 * ledger.capture(token.id, 50n);
 * ledger.get(token.id)?.status; // 'consumed'
 * ```
 */
export class SptLedger {
  readonly #tokens = new Map<string, IssuedSpt>();
  readonly #now: () => number;

  constructor(options: SptLedgerOptions = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Current time in Unix seconds, from the ledger's clock. */
  nowSeconds(): number {
    return Math.floor(this.#now() / 1000);
  }

  /** Issues a token; throws a Stripe-shaped 400 for values Stripe would refuse. */
  issue(input: IssueSptInput): IssuedSpt {
    const now = this.nowSeconds();
    if (!/^pm_[A-Za-z0-9_]+$/.test(input.paymentMethod)) {
      throw resourceMissing('PaymentMethod', input.paymentMethod, 'payment_method');
    }
    if (!/^[a-z]{3}$/.test(input.currency)) {
      throw invalidParam(
        'usage_limits[currency]',
        `Invalid currency: '${input.currency}'. Use a three-letter lowercase ISO code such as 'usd'.`,
      );
    }
    if (input.maxAmount <= 0n || input.maxAmount > maxStripeAmount) {
      throw invalidParam(
        'usage_limits[max_amount]',
        `usage_limits[max_amount] must be a positive integer of at most ${maxStripeAmount} minor units.`,
        'parameter_invalid_integer',
      );
    }
    if (input.expiresAt !== undefined && input.expiresAt <= now) {
      throw invalidParam(
        'usage_limits[expires_at]',
        `usage_limits[expires_at] (${input.expiresAt}) must be in the future (now ${now}).`,
        'parameter_invalid_integer',
      );
    }
    if (input.networkBusinessProfile === undefined && input.externalId === undefined) {
      throw invalidParam(
        'seller_details',
        'seller_details needs network_business_profile (the seller profile from the MPP challenge) or external_id.',
        'parameter_missing',
      );
    }
    const id = `spt_test_${randomBytes(12).toString('hex')}`;
    const needsAction = input.paymentMethod === testPaymentMethods.authenticationRequired;
    const token: IssuedSpt = {
      id,
      created: now,
      paymentMethod: input.paymentMethod,
      sellerDetails: {
        networkBusinessProfile: input.networkBusinessProfile ?? null,
        externalId: input.externalId ?? null,
      },
      usageLimits: {
        currency: input.currency,
        maxAmount: input.maxAmount,
        expiresAt: input.expiresAt ?? null,
      },
      setupFutureUsage: input.setupFutureUsage ?? null,
      useStripeSdk: input.useStripeSdk ?? null,
      returnUrl: input.returnUrl ?? null,
      amountCaptured: 0n,
      status: needsAction ? 'requires_action' : 'active',
      deactivatedAt: null,
      deactivatedReason: null,
      nextAction: needsAction ? nextActionFor(id, input) : null,
    };
    this.#tokens.set(id, token);
    return token;
  }

  /** The token with this id (expiry applied), or `undefined`. */
  get(id: string): IssuedSpt | undefined {
    const token = this.#tokens.get(id);
    if (token) this.#expireIfDue(token);
    return token;
  }

  /** Every token issued so far, oldest first. */
  list(): readonly IssuedSpt[] {
    for (const token of this.#tokens.values()) this.#expireIfDue(token);
    return [...this.#tokens.values()];
  }

  /** Revokes an unused or partly used token; throws if unknown or already deactivated. */
  revoke(id: string): IssuedSpt {
    const token = this.get(id);
    if (!token) throw resourceMissing('shared_payment.issued_token', id);
    if (token.deactivatedReason !== null) {
      throw new StripeApiError({
        status: 400,
        type: 'invalid_request_error',
        code: 'stand_in_token_deactivated',
        message: `Shared payment token '${id}' is already deactivated (${token.deactivatedReason}); only active tokens can be revoked.`,
      });
    }
    this.#deactivate(token, 'revoked');
    token.nextAction = null;
    return token;
  }

  /**
   * Checks that a seller may charge `amount` with the token; throws a Stripe-shaped error
   * saying what is wrong otherwise. Does not change the token.
   */
  checkCharge(request: SptChargeRequest): IssuedSpt {
    const param = 'shared_payment_granted_token';
    const token = this.get(request.spt);
    if (!token) throw resourceMissing('shared payment granted token', request.spt, param);
    const refuse = (code: string, message: string) =>
      new StripeApiError({ status: 400, type: 'invalid_request_error', code, param, message });
    if (token.deactivatedReason !== null) {
      throw refuse(
        'stand_in_token_deactivated',
        `Shared payment token '${token.id}' is deactivated (${token.deactivatedReason}) and cannot be used.`,
      );
    }
    if (token.status === 'requires_action') {
      throw refuse(
        'stand_in_token_requires_action',
        `Shared payment token '${token.id}' requires action (${token.nextAction?.type}) before it can be used.`,
      );
    }
    if (
      request.sellerProfile !== undefined &&
      token.sellerDetails.networkBusinessProfile !== request.sellerProfile
    ) {
      throw refuse(
        'stand_in_token_wrong_seller',
        `Shared payment token '${token.id}' was issued for seller profile '${token.sellerDetails.networkBusinessProfile}', not '${request.sellerProfile}'.`,
      );
    }
    if (token.usageLimits.currency !== request.currency) {
      throw refuse(
        'stand_in_token_currency_mismatch',
        `Shared payment token '${token.id}' is limited to ${token.usageLimits.currency}; the charge is in ${request.currency}.`,
      );
    }
    const remaining = token.usageLimits.maxAmount - token.amountCaptured;
    if (request.amount > remaining) {
      throw new StripeApiError({
        status: 400,
        type: 'invalid_request_error',
        code: 'amount_too_large',
        param: 'amount',
        message: `Amount ${request.amount} exceeds what shared payment token '${token.id}' still allows (${remaining} of max_amount ${token.usageLimits.maxAmount}).`,
      });
    }
    return token;
  }

  /** Records a captured amount; the token is `consumed` once it reaches `max_amount`. */
  capture(id: string, amount: bigint): IssuedSpt {
    const token = this.checkCharge({
      spt: id,
      amount,
      currency: this.#tokens.get(id)?.usageLimits.currency ?? '',
    });
    token.amountCaptured += amount;
    if (token.amountCaptured >= token.usageLimits.maxAmount) this.#deactivate(token, 'consumed');
    return token;
  }

  /** Forgets every token. */
  clear(): void {
    this.#tokens.clear();
  }

  #deactivate(token: IssuedSpt, reason: SptDeactivatedReason): void {
    token.status = reason;
    token.deactivatedReason = reason;
    token.deactivatedAt = this.nowSeconds();
  }

  #expireIfDue(token: IssuedSpt): void {
    const expiresAt = token.usageLimits.expiresAt;
    if (token.deactivatedReason === null && expiresAt !== null && expiresAt <= this.nowSeconds()) {
      this.#deactivate(token, 'expired');
      token.nextAction = null;
    }
  }
}

function nextActionFor(id: string, input: IssueSptInput): SptNextAction {
  if (input.useStripeSdk === false && input.returnUrl !== undefined) {
    return {
      type: 'redirect_to_url',
      redirect_to_url: {
        url: `https://stand-in.invalid/authenticate/${id}`,
        return_url: input.returnUrl,
      },
    };
  }
  return { type: 'use_stripe_sdk', use_stripe_sdk: { type: 'three_d_secure_redirect' } };
}

/**
 * The `shared_payment.issued_token` JSON object Stripe returns for a token.
 *
 * @example
 * ```ts
 * import { SptLedger, sptToStripeObject } from '@stipend/testkit/stripe';
 *
 * const ledger = new SptLedger();
 * const token = ledger.issue({ paymentMethod: 'pm_card_visa', currency: 'usd', maxAmount: 75n, networkBusinessProfile: 'profile_test_1' });
 * sptToStripeObject(token).object; // 'shared_payment.issued_token'
 * ```
 */
export function sptToStripeObject(token: IssuedSpt): Record<string, unknown> {
  return {
    id: token.id,
    object: 'shared_payment.issued_token',
    created: token.created,
    livemode: false,
    deactivated_at: token.deactivatedAt,
    deactivated_reason: token.deactivatedReason,
    next_action: token.nextAction,
    payment_method: token.paymentMethod,
    seller_details: {
      external_id: token.sellerDetails.externalId,
      network_business_profile: token.sellerDetails.networkBusinessProfile,
    },
    setup_future_usage: token.setupFutureUsage,
    shared_metadata: {},
    status: token.status,
    usage_details: {
      amount_captured: {
        value: Number(token.amountCaptured),
        currency: token.usageLimits.currency,
      },
    },
    usage_limits: {
      currency: token.usageLimits.currency,
      expires_at: token.usageLimits.expiresAt,
      max_amount: Number(token.usageLimits.maxAmount),
    },
    use_stripe_sdk: token.useStripeSdk,
  };
}
