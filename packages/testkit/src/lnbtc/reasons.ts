/**
 * The reasons the testkit `lnbtc` seller refuses with: the spec's error vocabulary
 * (x402-foundation/x402, `scheme_exact_lnbtc.md`, "Error Vocabulary") plus two of the seller's
 * own duties under "Receiver Key Isolation".
 *
 * @module
 */
import { StipendError } from '@stipend/client';

/** A refusal reason, as the seller puts it in the 402's `error` field. */
export type LnbtcSellerReason =
  | 'invalid_exact_lnbtc_request_binding'
  | 'invalid_exact_lnbtc_request_mismatch'
  | 'invalid_exact_lnbtc_invoice_request_mismatch'
  | 'invalid_exact_lnbtc_invoice_description'
  | 'invalid_exact_lnbtc_invoice_decode_failed'
  | 'invalid_exact_lnbtc_invoice_missing'
  | 'invalid_exact_lnbtc_invoice_payee_mismatch'
  | 'invalid_exact_lnbtc_invoice_currency_mismatch'
  | 'invalid_exact_lnbtc_invoice_amount_mismatch'
  | 'invalid_exact_lnbtc_invoice_expiry_mismatch'
  | 'invalid_exact_lnbtc_invoice_created_in_future'
  | 'invalid_exact_lnbtc_invoice_expired'
  | 'invalid_exact_lnbtc_extra_mismatch'
  | 'invalid_exact_lnbtc_asset'
  | 'invalid_exact_lnbtc_amount_mismatch'
  | 'invalid_exact_lnbtc_pay_to_mismatch'
  | 'invalid_exact_lnbtc_max_timeout_mismatch'
  | 'invalid_exact_lnbtc_asset_transfer_method'
  | 'invalid_exact_lnbtc_preimage_missing'
  | 'invalid_exact_lnbtc_preimage_malformed'
  | 'invalid_exact_lnbtc_preimage_hash_mismatch'
  | 'invalid_exact_lnbtc_payment_flow'
  | 'unsupported_scheme'
  | 'network_mismatch'
  | 'duplicate_settlement'
  | 'invalid_payload'
  /** Receiver key isolation 2.2: an invoice this seller did not issue for these terms. */
  | 'exact_lnbtc_invoice_not_issued'
  /** Receiver key isolation 2.3: the receiver node has not settled the invoice. */
  | 'exact_lnbtc_invoice_not_settled';

/**
 * A refusal with its spec reason.
 *
 * @example
 * ```ts
 * import { LnbtcSellerError } from '@stipend/testkit/lnbtc';
 * const error = new LnbtcSellerError('duplicate_settlement', 'this payment hash was already used');
 * error.reason; // 'duplicate_settlement'
 * ```
 */
export class LnbtcSellerError extends StipendError {
  override readonly name = 'LnbtcSellerError';
  readonly reason: LnbtcSellerReason;
  constructor(reason: LnbtcSellerReason, message: string) {
    super('PAYMENT_FAILED', `${reason}: ${message}`, { details: { reason } });
    this.reason = reason;
  }
}
