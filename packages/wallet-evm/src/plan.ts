/**
 * Turns an offer into what will be signed, checking that the offer (what the policy approved)
 * and its protocol object (what the server asked for) say the same thing. Any disagreement
 * (amount, recipient, token, network, scheme) refuses the offer: nothing is signed that the
 * policy did not see.
 *
 * @module
 */
import type { PaymentOffer } from '@stipend/client';
import { type Address, getAddress, type Hex, isAddress, keccak256, stringToHex } from 'viem';

/** An EIP-3009 `transferWithAuthorization` to sign. */
export interface Eip3009Plan {
  readonly kind: 'eip3009';
  readonly chainId: number;
  readonly token: Address;
  readonly to: Address;
  readonly value: bigint;
  /**
   * The token's EIP-712 domain. `undefined` for an MPP charge, whose challenge does not name
   * it: the wallet resolves it (its `domains` option, or the token contract) before signing.
   */
  readonly domain: { readonly name: string; readonly version: string } | undefined;
  /** Seconds the authorization may stay valid, before the policy's cap. */
  readonly ttlSec: number;
  /** `validAfter` relative to now: 'zero' (x402 v2, MPP) or 'tenMinutesAgo' (x402 v1). */
  readonly validAfter: 'zero' | 'tenMinutesAgo';
  /**
   * A nonce the protocol fixes (MPP: the challenge hash); otherwise the purchase's own nonce
   * (`nonce.ts`), derived from its idempotency key.
   */
  readonly nonce?: Hex;
  /** Absolute expiry the protocol fixes (MPP `expires`, unix seconds). */
  readonly expiresAtSec?: number;
  readonly output: 'x402' | 'mpp';
  /** Server says a Permit2 approval is missing (not used by EIP-3009). */
  readonly approvalRequired?: boolean;
}

/** A Permit2 witness transfer to sign (x402 `exact` with Permit2, or `upto`). */
export interface Permit2Plan {
  readonly kind: 'permit2';
  readonly chainId: number;
  readonly token: Address;
  readonly to: Address;
  readonly amount: bigint;
  readonly ttlSec: number;
  /** `upto`: the facilitator named in the witness. */
  readonly facilitator?: Address;
  readonly approvalRequired?: boolean;
}

/** What {@link planOf} makes of an offer. */
export type Plan = Eip3009Plan | Permit2Plan;

/**
 * Reads an offer into a plan, or the reason it cannot be paid. Synchronous, so that the
 * payment's reference can be known before anything is signed; an MPP charge's token domain is
 * left for the wallet to resolve (`plan.domain` is `undefined`).
 *
 * @example
 * ```ts
 * import { planOf } from './plan.js';
 * const plan = planOf(offer);
 * if (typeof plan === 'string') console.warn(plan);
 * ```
 */
export function planOf(offer: PaymentOffer): Plan | string {
  // Offers are frozen: a plan (or why there is none) is worked out once per offer (the core
  // asks for its reference, then pays it).
  let plan = plans.get(offer);
  if (plan === undefined) {
    plan = planFresh(offer);
    plans.set(offer, plan);
  }
  return plan;
}

const plans = new WeakMap<PaymentOffer, Plan | string>();

function planFresh(offer: PaymentOffer): Plan | string {
  const chainId = chainIdOf(offer.network);
  if (chainId === undefined) {
    return `network ${JSON.stringify(offer.network)} is not an EVM (eip155) network`;
  }
  if (offer.protocol === 'x402') return planX402(offer, chainId);
  if (offer.protocol === 'mpp' && offer.scheme === 'evm.charge') {
    return planMppCharge(offer, chainId);
  }
  return `rail ${offer.protocol}:${offer.scheme} is not paid by this wallet`;
}

function planX402(offer: PaymentOffer, chainId: number): Plan | string {
  const raw = record(offer.raw);
  const requirement = record(raw?.requirement);
  if (!raw || !requirement) return 'the offer carries no x402 requirement';
  const version = raw.x402Version;
  const value = version === 1 ? requirement.maxAmountRequired : requirement.amount;
  const mismatch = disagreement(offer, {
    scheme: requirement.scheme,
    value,
    payTo: requirement.payTo,
    asset: requirement.asset,
  });
  if (mismatch) return mismatch;
  const ttlSec = requirement.maxTimeoutSeconds;
  if (typeof ttlSec !== 'number' || !Number.isSafeInteger(ttlSec) || ttlSec < 1) {
    return 'maxTimeoutSeconds is not a positive whole number';
  }
  const token = getAddress(offer.asset!);
  const to = getAddress(offer.payee);
  const approvalRequired = raw.approvalRequired === true;
  const extra = record(requirement.extra) ?? {};
  if (raw.transfer === 'permit2' || offer.scheme === 'upto') {
    let facilitator: Address | undefined;
    if (offer.scheme === 'upto') {
      const named = extra.facilitatorAddress;
      if (typeof named !== 'string' || !isAddress(named, { strict: false })) {
        return 'an upto offer must name its facilitator (extra.facilitatorAddress)';
      }
      facilitator = getAddress(named);
    }
    return {
      kind: 'permit2',
      chainId,
      token,
      to,
      amount: offer.amount.value,
      ttlSec,
      ...(facilitator ? { facilitator } : {}),
      ...(approvalRequired ? { approvalRequired } : {}),
    };
  }
  const domain = record(raw.domain);
  if (typeof domain?.name !== 'string' || typeof domain.version !== 'string') {
    return "the token's EIP-712 domain (extra.name, extra.version) is unknown";
  }
  return {
    kind: 'eip3009',
    chainId,
    token,
    to,
    value: offer.amount.value,
    domain: { name: domain.name, version: domain.version },
    ttlSec,
    validAfter: version === 1 ? 'tenMinutesAgo' : 'zero',
    output: 'x402',
  };
}

function planMppCharge(offer: PaymentOffer, chainId: number): Plan | string {
  const raw = record(offer.raw);
  const challenge = record(raw?.challenge);
  const request = record(raw?.request);
  const details = record(request?.methodDetails);
  if (!challenge || !request || !details) return 'the offer carries no MPP challenge and request';
  if (details.chainId !== chainId) return 'the request names another chain than the offer';
  const mismatch = disagreement(offer, {
    scheme: 'evm.charge',
    value: request.amount,
    payTo: request.recipient,
    asset: request.currency,
  });
  if (mismatch) return mismatch;
  const types = details.credentialTypes;
  if (Array.isArray(types) && !types.includes('authorization')) {
    return 'the charge does not accept authorization credentials';
  }
  if (Array.isArray(details.splits) && details.splits.length > 0) {
    return 'charges split between several recipients are not paid';
  }
  if (typeof challenge.id !== 'string' || typeof challenge.realm !== 'string') {
    return 'the MPP challenge has no id or realm';
  }
  let expiresAtSec: number | undefined;
  if (typeof challenge.expires === 'string') {
    const ms = Date.parse(challenge.expires);
    if (!Number.isFinite(ms)) return 'the MPP challenge has an unreadable expiry';
    expiresAtSec = Math.floor(ms / 1000);
  }
  return {
    kind: 'eip3009',
    chainId,
    token: getAddress(offer.asset!),
    to: getAddress(offer.payee),
    value: offer.amount.value,
    domain: undefined,
    ttlSec: 300,
    validAfter: 'zero',
    // MPP binds the authorization to the challenge: nonce = keccak256(id ‖ realm).
    nonce: keccak256(stringToHex(`${challenge.id}${challenge.realm}`)),
    ...(expiresAtSec !== undefined ? { expiresAtSec } : {}),
    output: 'mpp',
  };
}

/** The reason the offer and the protocol's own terms disagree, if they do. */
function disagreement(
  offer: PaymentOffer,
  terms: { scheme: unknown; value: unknown; payTo: unknown; asset: unknown },
): string | undefined {
  if (terms.scheme !== offer.scheme) return 'the offer and its terms name different schemes';
  if (typeof terms.value !== 'string' || terms.value !== offer.amount.value.toString()) {
    return `the amount to sign (${String(terms.value)}) is not the amount the policy approved (${offer.amount.value})`;
  }
  if (typeof terms.payTo !== 'string' || !isAddress(terms.payTo, { strict: false })) {
    return 'the recipient is not an EVM address';
  }
  if (!isAddress(offer.payee, { strict: false }) || !sameAddress(terms.payTo, offer.payee)) {
    return `the recipient to sign (${terms.payTo}) is not the payee the policy approved (${offer.payee})`;
  }
  if (
    typeof terms.asset !== 'string' ||
    offer.asset === undefined ||
    !isAddress(terms.asset, { strict: false }) ||
    !sameAddress(terms.asset, offer.asset)
  ) {
    return `the token to sign (${String(terms.asset)}) is not the asset the policy approved (${String(offer.asset)})`;
  }
  const unit = offer.amount.unit;
  if (unit.kind !== 'token' || !sameAddress(unit.asset, offer.asset)) {
    return "the offer's unit is not its token";
  }
  return undefined;
}

function sameAddress(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

function chainIdOf(network: string | undefined): number | undefined {
  const match = /^eip155:([1-9][0-9]{0,15})$/.exec(network ?? '');
  return match ? Number(match[1]) : undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
