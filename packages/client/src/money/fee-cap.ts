/**
 * Lightning routing-fee caps: the most a payment may spend on routing, in msat. An offer
 * carries its cap as `maxFee` so the budget reserves amount + cap; the wallet never pays a fee
 * above it. One home for the default, shared by every Lightning rail (L402, MPP, the wallet).
 *
 * @module
 */
import { parseDecimalFraction } from './decimal.js';
import { AmountError } from './errors.js';

/** A fee cap in msat, fixed or as a function of the amount (msat). */
export type FeeCap = bigint | ((amountMsat: bigint) => bigint);

/**
 * The default routing-fee cap: 1% of the amount plus 10 sat.
 *
 * @example
 * ```ts
 * import { defaultFeeCap } from '@stipend/client';
 * defaultFeeCap(100_000n); // 11_000n msat
 * ```
 */
export const defaultFeeCap = (amountMsat: bigint): bigint => amountMsat / 100n + 10_000n;

/**
 * The fee cap in msat for an amount: `cap` (fixed or computed), or {@link defaultFeeCap}.
 *
 * @throws {AmountError} when the cap is not a non-negative bigint.
 * @example
 * ```ts
 * import { feeCapMsat } from './fee-cap.js';
 * feeCapMsat(100_000n); // 11_000n
 * feeCapMsat(100_000n, 5_000n); // 5_000n
 * ```
 */
export function feeCapMsat(amountMsat: bigint, cap: FeeCap = defaultFeeCap): bigint {
  const value = typeof cap === 'function' ? cap(amountMsat) : cap;
  if (typeof value !== 'bigint' || value < 0n) {
    throw new AmountError('a routing-fee cap must be a non-negative bigint of msat');
  }
  return value;
}

/** A routing-fee cap as users configure it. */
export interface FeeCapOptions {
  /** The most a payment may spend on routing, msat (a bigint, or a function of the amount). */
  readonly maxFeeMsat?: FeeCap;
  /**
   * The most a payment may spend on routing, as a percentage of its amount (`1` = 1%,
   * `'0.5'` = 0.5%), rounded up to a whole msat. With `maxFeeMsat` too, the smaller cap wins.
   */
  readonly maxFeePercent?: number | string;
}

/**
 * Builds a fee cap from `{ maxFeeMsat, maxFeePercent }`; with neither, {@link defaultFeeCap}.
 * `option` names the setting in error messages (`mppAdapter({ lightning })`).
 *
 * @throws {AmountError} when a value is negative, not a bigint, or the percent is not 0 to 100.
 * @example
 * ```ts
 * import { feeCapOf } from './fee-cap.js';
 * const cap = feeCapOf({ maxFeePercent: 1 });
 * cap(1_000_000n); // 10_000n msat
 * ```
 */
export function feeCapOf(options: FeeCapOptions = {}, option = 'lightning'): FeeCap {
  const { maxFeeMsat, maxFeePercent } = options;
  if (maxFeeMsat !== undefined && typeof maxFeeMsat !== 'function') {
    if (typeof maxFeeMsat !== 'bigint' || maxFeeMsat < 0n) {
      throw new AmountError(
        `${option}.maxFeeMsat must be a non-negative bigint of msat, e.g. 20_000n`,
      );
    }
  }
  if (maxFeePercent === undefined) return maxFeeMsat ?? defaultFeeCap;
  let ratio: { numerator: bigint; denominator: bigint };
  try {
    ratio = parseDecimalFraction(String(maxFeePercent));
  } catch (error) {
    throw new AmountError(`${option}.maxFeePercent must be a percentage such as 1 or '0.5'`, {
      cause: error,
    });
  }
  if (typeof maxFeePercent === 'number' && !Number.isFinite(maxFeePercent)) {
    throw new AmountError(`${option}.maxFeePercent must be a finite percentage`);
  }
  if (ratio.numerator < 0n || ratio.numerator > 100n * ratio.denominator) {
    throw new AmountError(`${option}.maxFeePercent must be from 0 to 100`);
  }
  const denominator = ratio.denominator * 100n;
  return (amountMsat: bigint) => {
    const scaled = amountMsat * ratio.numerator;
    const percent = scaled / denominator + (scaled % denominator === 0n ? 0n : 1n);
    if (maxFeeMsat === undefined) return percent;
    const fixed = feeCapMsat(amountMsat, maxFeeMsat);
    return fixed < percent ? fixed : percent;
  };
}
