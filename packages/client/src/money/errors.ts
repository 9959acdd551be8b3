/**
 * Error classes of the money module. They extend {@link StipendError} and carry a stable
 * `code` so callers can branch without matching messages.
 */
import { StipendError } from '../errors/base.js';

/** Stable codes of the money errors. */
export type MoneyErrorCode = 'AMOUNT_INVALID' | 'PRICE_UNAVAILABLE';

/**
 * Base class of every error thrown by the money module.
 *
 * @example
 * ```ts
 * import { MoneyError, parseDecimal } from '@stipend/client';
 * try {
 *   parseDecimal('1e-3', 6);
 * } catch (error) {
 *   if (error instanceof MoneyError) console.error(error.code); // 'AMOUNT_INVALID'
 * }
 * ```
 */
export class MoneyError extends StipendError {
  /** Stable machine-readable code. */
  declare readonly code: MoneyErrorCode;

  constructor(code: MoneyErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options?.cause === undefined ? {} : { cause: options.cause });
    this.name = 'MoneyError';
  }
}

/**
 * An amount, unit or decimal string is not acceptable (negative, not a bigint, malformed,
 * too precise for the unit, unknown currency...). Code `'AMOUNT_INVALID'`.
 *
 * @example
 * ```ts
 * import { AmountError, amount, msatUnit } from '@stipend/client';
 * try {
 *   amount(-1n, msatUnit);
 * } catch (error) {
 *   console.error(error instanceof AmountError); // true
 * }
 * ```
 */
export class AmountError extends MoneyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('AMOUNT_INVALID', message, options);
    this.name = 'AmountError';
  }
}

/**
 * Two amounts in different units were combined (for example added). Atomic units of different
 * assets cannot be summed; convert both to USD micro-units first. Code `'AMOUNT_INVALID'`.
 *
 * @example
 * ```ts
 * import { UnitMismatchError, addAmounts, fiatUnit, amount, sats } from '@stipend/client';
 * try {
 *   addAmounts(sats(1n), amount(1n, fiatUnit('USD')));
 * } catch (error) {
 *   if (error instanceof UnitMismatchError) console.error(error.left, error.right);
 * }
 * ```
 */
export class UnitMismatchError extends AmountError {
  /** Unit key of the left operand. */
  readonly left: string;
  /** Unit key of the right operand. */
  readonly right: string;

  constructor(left: string, right: string, message: string) {
    super(message);
    this.name = 'UnitMismatchError';
    this.left = left;
    this.right = right;
  }
}

/** Why no usable price was found. */
export type PriceUnavailableReason =
  /** No price source knows this unit. */
  | 'no_rate'
  /** The rate is older than the allowed age. */
  | 'stale'
  /** The rate is malformed (non-positive, non-bigint, dated in the future...). */
  | 'invalid_rate'
  /** The price source threw; the original error is the `cause`. */
  | 'source_failed'
  /**
   * The unit's decimals are not the ones the client knows (a challenge stated them, or they
   * differ from the known-asset registry or the configuration): pricing it would trust the
   * server's scale, so it is refused, and no later price source is asked.
   */
  | 'untrusted_decimals';

/**
 * No usable rate converts this unit into USD micro-units. Code `'PRICE_UNAVAILABLE'`.
 * A payment whose cost cannot be priced must be denied, never guessed.
 *
 * @example
 * ```ts
 * import { PriceUnavailableError, pegPriceSource, toUsdMicros, sats } from '@stipend/client';
 * try {
 *   await toUsdMicros(sats(1n), pegPriceSource(), { now: Date.now(), maxAgeMs: 60_000 });
 * } catch (error) {
 *   if (error instanceof PriceUnavailableError) console.error(error.unitKey, error.reason);
 * }
 * ```
 */
export class PriceUnavailableError extends MoneyError {
  /** Canonical key of the unit that could not be priced (see `unitKey`). */
  readonly unitKey: string;
  /** Why the price is unavailable. */
  readonly reason: PriceUnavailableReason;

  constructor(
    unitKey: string,
    reason: PriceUnavailableReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('PRICE_UNAVAILABLE', message, options);
    this.name = 'PriceUnavailableError';
    this.unitKey = unitKey;
    this.reason = reason;
  }
}
