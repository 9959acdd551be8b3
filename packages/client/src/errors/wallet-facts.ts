/**
 * What a wallet's failure says about money, read by shape: `instanceof` is false for an error
 * made by another copy of `@stipend/client` (a wallet that bundles its own), so every package
 * decides on these fields instead.
 *
 * @module
 */
import { isStipendError } from './base.js';

/** The money facts of a wallet failure. */
export interface WalletFailureFacts {
  /** `false`: provably not paid; `true`: paid; `'unknown'`: the rail must be asked. */
  readonly paid: boolean | 'unknown';
  /** The secret-free payment reference, when one was started. */
  readonly reference?: string;
}

/**
 * Reads `paid` and `reference` from any thrown value (a `WalletError` of any copy, a plain
 * object with those fields); anything that says nothing about money is `paid: false`.
 *
 * @example
 * ```ts
 * import { walletFailureFacts } from '@stipend/client';
 * const { paid, reference } = walletFailureFacts(error);
 * if (paid !== false) console.warn('reconcile', reference);
 * ```
 */
export function walletFailureFacts(error: unknown): WalletFailureFacts {
  const shape = (typeof error === 'object' && error !== null ? error : {}) as {
    paid?: unknown;
    reference?: unknown;
  };
  let paid: boolean | 'unknown' = false;
  if (shape.paid === true || shape.paid === false || shape.paid === 'unknown') paid = shape.paid;
  else if (isStipendError(error)) {
    const detail = error.details.paid;
    if (detail === true || detail === false || detail === 'unknown') paid = detail;
  }
  const reference =
    typeof shape.reference === 'string' && shape.reference.length > 0 ? shape.reference : undefined;
  return reference ? { paid, reference } : { paid };
}

/**
 * True for a wallet's error (code `WALLET_ERROR` or a `WalletError` of any copy).
 *
 * @example
 * ```ts
 * import { isWalletError } from '@stipend/client';
 * if (isWalletError(error)) console.warn(error.shortMessage);
 * ```
 */
export function isWalletError(error: unknown): boolean {
  return (
    isStipendError(error) &&
    (error.name === 'WalletError' || error.code === 'WALLET_ERROR' || 'walletId' in error)
  );
}
