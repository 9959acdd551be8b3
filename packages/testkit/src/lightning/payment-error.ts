/** Why a simulated payment was refused, failed or timed out. */
export type LightningPaymentErrorCode =
  /** Not a decodable, correctly signed BOLT 11 invoice. Nothing was sent. */
  | 'invalid_invoice'
  /** The invoice names another Bitcoin network. Nothing was sent. */
  | 'wrong_network'
  /** A payment for this hash already succeeded (LND: "invoice is already paid"). Nothing was sent. */
  | 'invoice_already_paid'
  /** A payment for this hash is still in flight (LND: "payment is in transition"). Nothing was sent. */
  | 'payment_in_flight'
  /** The invoice's expiry has passed. Nothing was sent. */
  | 'invoice_expired'
  /** Amountless invoice paid without `amountMsat`. Nothing was sent. */
  | 'amount_required'
  /** `amountMsat` given for an invoice that has an amount. Nothing was sent. */
  | 'amount_mismatch'
  /** No node of this network issued the invoice (FAILURE_REASON_INCORRECT_PAYMENT_DETAILS). */
  | 'unknown_invoice'
  /** The route fee exceeds `maxFeeMsat` (FAILURE_REASON_NO_ROUTE). Nothing was paid. */
  | 'fee_limit_exceeded'
  /** The payment failed in the network (injected `fail` fault). Nothing was paid. */
  | 'payment_failed'
  /** The call gave up waiting; the payment may still settle. Look it up before paying again. */
  | 'timeout';

/**
 * Error thrown by the simulated network's `pay`. `code` is stable; `settled` tells whether
 * money may have moved (`'unknown'` only for `timeout`).
 *
 * @example
 * ```ts
 * import { LightningPaymentError } from '@stipend/testkit/l402';
 * try { await network.pay(bolt11, { maxFeeMsat: 10_000n }); }
 * catch (e) { if (e instanceof LightningPaymentError && e.code === 'timeout') { network.lookup(hash); } }
 * ```
 */
export class LightningPaymentError extends Error {
  override readonly name = 'LightningPaymentError';
  readonly code: LightningPaymentErrorCode;
  /** Payment hash of the invoice, when it could be decoded. */
  readonly paymentHash: string | null;
  /** `'no'` when nothing was paid; `'unknown'` after a timeout. */
  readonly settled: 'no' | 'unknown';

  constructor(code: LightningPaymentErrorCode, message: string, paymentHash: string | null) {
    super(message);
    this.code = code;
    this.paymentHash = paymentHash;
    this.settled = code === 'timeout' ? 'unknown' : 'no';
  }
}
