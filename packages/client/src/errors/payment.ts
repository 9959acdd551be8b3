import { StipendError } from './base.js';
import type { StipendErrorCode } from './codes.js';

/** What a caller needs to resume a purchase that failed after money may have moved. */
export interface ResumeInfo {
  /** The purchase's idempotency key: pass it again to resume without paying twice. */
  readonly idempotencyKey: string;
  /** The purchase id in the journal (`payingFetch.purchases`) and the ledger. */
  readonly purchaseId?: string;
  /** Secret-free payment reference (payment hash, authorization nonce, token id). */
  readonly reference?: string;
  readonly offerId?: string;
  readonly walletId?: string;
}

/**
 * A payment was attempted and did not buy the resource.
 *
 * `paid` tells the truth about money: `true` when it moved, `false` when it provably did
 * not, `'unknown'` when the rail must be asked (the budget stays held until it answers).
 *
 * @example
 * ```ts
 * import { isStipendError, type PaymentFailedError } from '@stipend/client';
 * // Decide on the code and fields, not instanceof (another copy of the package may have thrown it).
 * if (isStipendError(err) && 'paid' in err && err.paid !== false) console.warn('resume with', (err as PaymentFailedError).resume);
 * ```
 */
export class PaymentFailedError extends StipendError {
  override name = 'PaymentFailedError';
  readonly paid: boolean | 'unknown';
  readonly reason: string;
  readonly resume?: ResumeInfo;
  constructor(params: {
    code?: StipendErrorCode;
    reason: string;
    paid: boolean | 'unknown';
    message: string;
    resume?: ResumeInfo;
    details?: Record<string, unknown>;
    cause?: unknown;
  }) {
    super(params.code ?? 'PAYMENT_FAILED', params.message, {
      details: {
        reason: params.reason,
        paid: params.paid,
        resume: params.resume,
        ...params.details,
      },
      cause: params.cause,
      metaMessages:
        params.paid === false
          ? []
          : [
              params.paid === true
                ? 'Money moved. Do not pay again; resume with the same idempotency key.'
                : 'The outcome is unknown; it is reconciled with the rail before any new payment.',
            ],
    });
    this.paid = params.paid;
    this.reason = params.reason;
    if (params.resume) this.resume = params.resume;
  }
}
