import { StipendError } from './base.js';
import type { StipendErrorCode } from './codes.js';

/**
 * A wallet could not pay. `paid` says whether money may have moved: `false` (refused before
 * paying), `'unknown'` (a timeout after sending), `true` (paid, but the proof is unusable).
 *
 * @example
 * ```ts
 * import { WalletError } from '@stipend/client';
 * throw new WalletError({ walletId: 'evm', message: 'Insufficient USDC: top up the payer address.', paid: false });
 * ```
 */
export class WalletError extends StipendError {
  override name = 'WalletError';
  readonly walletId: string;
  readonly paid: boolean | 'unknown';
  /** Secret-free reference of the payment when one was started (for reconciliation). */
  readonly reference?: string;
  constructor(params: {
    walletId: string;
    message: string;
    paid?: boolean | 'unknown';
    reference?: string;
    code?: StipendErrorCode;
    details?: Record<string, unknown>;
    cause?: unknown;
  }) {
    super(params.code ?? 'WALLET_ERROR', params.message, {
      details: {
        walletId: params.walletId,
        paid: params.paid ?? false,
        ...(params.reference ? { reference: params.reference } : {}),
        ...params.details,
      },
      cause: params.cause,
    });
    this.walletId = params.walletId;
    this.paid = params.paid ?? false;
    if (params.reference !== undefined) this.reference = params.reference;
  }
}
