/**
 * What an authorization of a plan will say besides the plan itself: its nonce, its validity
 * window and the reference it is looked up by. One function decides them for `referenceFor`
 * (before signing) and for `pay` (signing), so that both give the same reference for the same
 * offer and context.
 *
 * @module
 */
import type { Address, Hex } from 'viem';
import { purchaseNonce } from './nonce.js';
import type { Plan } from './plan.js';
import { formatReference } from './reference.js';

/** The parts of the core's `PayContext` an authorization depends on. */
export interface AuthorizationContext {
  /** One key per logical purchase (the nonce is derived from it). */
  readonly idempotencyKey: string;
  /** The core's clock, ms since epoch. */
  readonly now: number;
  /** The policy's cap on how long the authorization may stay valid, in seconds. */
  readonly maxAuthorizationTtlSec: number;
}

/** The nonce, window and reference of an authorization to sign. */
export interface AuthorizationTerms {
  /** bytes32; a Permit2 nonce is this value read as a uint256. */
  readonly nonce: Hex;
  /** EIP-3009 `validAfter` (unix seconds); Permit2 witnesses always say 0. */
  readonly validAfter: bigint;
  /** EIP-3009 `validBefore` (exclusive) or Permit2 `deadline` (inclusive), unix seconds. */
  readonly deadline: bigint;
  /** The first moment (ms since epoch, chain time) at which it provably cannot be used. */
  readonly validUntil: number;
  /** The secret-free reference `lookup` reads (`reference.ts`). */
  readonly reference: string;
}

/** Why an authorization cannot be made, with the wallet error code to report. */
export interface AuthorizationRefusal {
  readonly code: 'TTL_INVALID' | 'EXPIRED' | 'IDEMPOTENCY_KEY_MISSING';
  readonly message: string;
}

/** x402's v1 clients back-date `validAfter` by ten minutes (clock skew). */
const V1_SKEW_SEC = 600n;

/**
 * The terms of the authorization `payer` signs for `plan` in `context`, or why there is none.
 * Pure: the same plan, payer and context give the same terms (and the same reference).
 *
 * @example
 * ```ts
 * import { authorizationTerms } from './authorization.js';
 * const terms = authorizationTerms(plan, payer, { idempotencyKey: 'k', now: Date.now(), maxAuthorizationTtlSec: 300 });
 * if ('reference' in terms) console.log(terms.reference);
 * ```
 */
export function authorizationTerms(
  plan: Plan,
  payer: Address,
  context: AuthorizationContext,
): AuthorizationTerms | AuthorizationRefusal {
  const nowSec = BigInt(Math.floor(context.now / 1000));
  const cap = Math.min(plan.ttlSec, context.maxAuthorizationTtlSec);
  if (!Number.isSafeInteger(cap) || cap < 1) {
    return {
      code: 'TTL_INVALID',
      message: `The authorization would be valid for ${cap} s; the policy's maxAuthorizationTtlSec must be at least 1.`,
    };
  }
  let deadline = nowSec + BigInt(cap);
  if (plan.kind === 'eip3009' && plan.expiresAtSec !== undefined) {
    const expires = BigInt(plan.expiresAtSec);
    if (expires <= nowSec) {
      return { code: 'EXPIRED', message: 'The challenge expired before signing.' };
    }
    if (expires < deadline) deadline = expires;
  }
  let nonce: Hex;
  if (plan.kind === 'eip3009' && plan.nonce !== undefined) {
    nonce = plan.nonce;
  } else if (typeof context.idempotencyKey === 'string' && context.idempotencyKey.length > 0) {
    nonce = purchaseNonce({ idempotencyKey: context.idempotencyKey, payer, chainId: plan.chainId });
  } else {
    return {
      code: 'IDEMPOTENCY_KEY_MISSING',
      message:
        'The payment has no idempotency key, so its nonce cannot be tied to the purchase; upgrade @stipend/client (it passes PayContext.idempotencyKey).',
    };
  }
  const validAfter =
    plan.kind === 'eip3009' && plan.validAfter === 'tenMinutesAgo' ? nowSec - V1_SKEW_SEC : 0n;
  const reference = formatReference({
    kind: plan.kind,
    chainId: plan.chainId,
    token: plan.token,
    from: payer,
    nonce: plan.kind === 'permit2' ? BigInt(nonce) : nonce,
    deadline,
  });
  // EIP-3009 refuses at block.timestamp >= validBefore; Permit2 accepts up to the deadline.
  const validUntil = Number(plan.kind === 'permit2' ? deadline + 1n : deadline) * 1000;
  return { nonce, validAfter, deadline, validUntil, reference };
}
