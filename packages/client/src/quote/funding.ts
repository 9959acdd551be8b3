/**
 * Balance-aware choice, the pure part: given what each wallet says it holds, which offers no
 * wallet can fund, and why. No I/O here (reading balances is `balances.ts`); the policy's
 * ranking and the wallet choice call these functions.
 *
 * A balance is compared only with an offer in the very same unit (network, asset and
 * decimals), and the comparison counts the offer's maximum fee when it is in that unit too. A
 * balance that is missing, unreadable or in another unit says nothing: the offer stays
 * payable ("unknown"), because a wallet that cannot say what it holds may still pay.
 *
 * @module
 */

import type { Amount } from '../money/unit.js';
import { formatAmount, sameUnit } from '../money/unit.js';
import type { PaymentOffer } from '../offer.js';
import type { OfferEvaluation } from '../policy/checks.js';

/** What one wallet said about the funds it could pay one offer with. */
export type BalanceReading =
  | {
      readonly walletId: string;
      /** The balance available to pay the offer, in the wallet's own words (atomic units). */
      readonly balance: Amount;
    }
  | {
      readonly walletId: string;
      readonly balance?: undefined;
      /** Why no balance is known: the wallet has no `balance`, it failed, it was too slow… */
      readonly why: string;
    };

/** Whether one wallet can fund one offer. */
export interface Funding {
  readonly walletId: string;
  /** `funded`: enough is there. `unfunded`: provably too little. `unknown`: cannot tell. */
  readonly verdict: 'funded' | 'unfunded' | 'unknown';
  /** Secret-free; says what to change when `unfunded`. */
  readonly reason: string;
}

/** What an offer needs from one wallet: its amount, plus its maximum fee in the same unit. */
export function neededFor(offer: PaymentOffer): {
  readonly need: bigint;
  readonly feeCounted: boolean;
} {
  const fee = offer.maxFee;
  if (fee !== undefined && sameUnitSafe(fee, offer.amount)) {
    return { need: offer.amount.value + fee.value, feeCounted: true };
  }
  return { need: offer.amount.value, feeCounted: false };
}

/**
 * Whether the balance a wallet reported can fund an offer. Pure.
 *
 * @example
 * ```ts
 * import { canFund } from './funding.js';
 *
 * canFund(offer, { walletId: 'evm', balance: { value: 400n, unit: offer.amount.unit } });
 * // { walletId: 'evm', verdict: 'unfunded', reason: 'wallet evm holds 0.0004 USDC, the offer needs 0.001 USDC; fund it or choose another offer' }
 * ```
 */
export function canFund(offer: PaymentOffer, reading: BalanceReading): Funding {
  const { walletId } = reading;
  if (reading.balance === undefined) {
    return { walletId, verdict: 'unknown', reason: `wallet ${walletId}: ${reading.why}` };
  }
  const balance = reading.balance;
  if (!sameUnitSafe(balance, offer.amount)) {
    return {
      walletId,
      verdict: 'unknown',
      reason: `wallet ${walletId} reported a balance in another unit than the offer's; it is not compared`,
    };
  }
  const { need, feeCounted } = neededFor(offer);
  const needText = show({ value: need, unit: offer.amount.unit });
  const withFee = feeCounted ? ' including its maximum fee' : '';
  if (balance.value >= need) {
    return {
      walletId,
      verdict: 'funded',
      reason: `wallet ${walletId} holds ${show(balance)}, enough for ${needText}${withFee}`,
    };
  }
  return {
    walletId,
    verdict: 'unfunded',
    reason: `wallet ${walletId} holds ${show(balance)}, the offer needs ${needText}${withFee}; fund the wallet or choose another offer`,
  };
}

/** What every wallet that was asked says about one offer. */
export interface OfferFunding {
  readonly offerId: string;
  /** `unfunded` only when every wallet asked is provably short; `funded` when one has enough. */
  readonly verdict: 'funded' | 'unfunded' | 'unknown';
  readonly wallets: readonly Funding[];
  /** One sentence for the decision (all wallets' reasons when `unfunded`). */
  readonly reason: string;
}

/**
 * Sums up several wallets' verdicts on one offer: funded if any wallet is funded, unfunded
 * only if every wallet asked is provably short, unknown otherwise (and with no wallet). Pure.
 *
 * @example
 * ```ts
 * import { canFund, fundingOf } from './funding.js';
 *
 * const funding = fundingOf(offer, readings.map((reading) => canFund(offer, reading)));
 * if (funding.verdict === 'unfunded') console.warn(funding.reason);
 * ```
 */
export function fundingOf(offer: PaymentOffer, wallets: readonly Funding[]): OfferFunding {
  const funded = wallets.find((funding) => funding.verdict === 'funded');
  if (funded) return { offerId: offer.id, verdict: 'funded', wallets, reason: funded.reason };
  if (wallets.length > 0 && wallets.every((funding) => funding.verdict === 'unfunded')) {
    return {
      offerId: offer.id,
      verdict: 'unfunded',
      wallets,
      reason: `no wallet can fund it (${wallets.map((funding) => funding.reason).join('; ')})`,
    };
  }
  const unknown = wallets.find((funding) => funding.verdict === 'unknown');
  return {
    offerId: offer.id,
    verdict: 'unknown',
    wallets,
    reason: unknown?.reason ?? 'no wallet reported a balance',
  };
}

/**
 * The evaluations with every allowed offer that no wallet can fund turned into a refusal
 * (`no_wallet`, with the wallets' balances as the reason), so that the ranking skips it and the
 * next allowed offer is tried. Offers without funding information are left as they are.
 * Pure: returns new frozen evaluations, the input is not changed.
 *
 * @example
 * ```ts
 * import { skipUnfunded } from './funding.js';
 *
 * const usable = skipUnfunded(evaluations, new Map([[offer.id, funding]]));
 * usable.filter((evaluation) => evaluation.ok); // the offers a wallet can still fund
 * ```
 */
export function skipUnfunded(
  evaluations: readonly OfferEvaluation[],
  funding: ReadonlyMap<string, OfferFunding>,
): OfferEvaluation[] {
  return evaluations.map((evaluation) => {
    const known = funding.get(evaluation.offer.id);
    if (!evaluation.ok || known?.verdict !== 'unfunded') return evaluation;
    const { ok: _ok, ...rest } = evaluation;
    return Object.freeze({
      ...rest,
      ok: false as const,
      code: 'no_wallet' as const,
      reason: known.reason,
    });
  });
}

function sameUnitSafe(a: Amount, b: Amount): boolean {
  try {
    return sameUnit(a.unit, b.unit);
  } catch {
    return false;
  }
}

function show(value: Amount): string {
  try {
    return formatAmount(value);
  } catch {
    return `${value.value} atomic units`;
  }
}
