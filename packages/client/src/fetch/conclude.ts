/**
 * After the paid request: send it (origin-bound, see retry.ts), read the outcome with the
 * adapter, and book it: accepted → commit the actual cost and let the adapter remember what
 * it may reuse; refused → commit (money moved), release (it did not) or hold (unknown).
 *
 * @module
 */
import { PaymentFailedError } from '../errors/payment.js';
import type { PaidOutcome } from '../protocols/adapter.js';
import type { PreparedRequest } from './body.js';
import { commitPayment, holdPayment, recordOf, releasePayment, resumeOf } from './book.js';
import { type Core, errorText } from './core.js';
import { attachPayment, type PaymentOutcome } from './outcome.js';
import { holdUnknown, type Purchase } from './purchase.js';
import { sendPaidRetry } from './retry.js';

/** How a paid request ended. */
export interface Concluded {
  /** The response for the caller, with its outcome attached. */
  readonly response: Response;
  readonly outcome: PaymentOutcome;
  /** True when the proof was refused and provably no money moved (a fresh 402 may be paid). */
  readonly nothingMoved: boolean;
}

/** Sends the paid request once and books its outcome. */
export async function sendAndConclude(
  core: Core,
  bought: Purchase,
  prepared: PreparedRequest,
): Promise<Concluded> {
  let paid: { first: Response; final: Response };
  try {
    paid = await sendPaidRetry({
      fetch: core.send,
      url: bought.retry.url,
      init: prepared.init,
      headers: bought.retry.headers,
      proofHeaders: bought.proofHeaders,
    });
  } catch (error) {
    // The proof may have reached the server: the outcome is unknown.
    throw await holdUnknown(core, bought, bought.retry.url.href, error);
  }
  return conclude(core, bought, paid.first, paid.final);
}

async function conclude(
  core: Core,
  bought: Purchase,
  first: Response,
  final: Response,
): Promise<Concluded> {
  const { offer, proof, adapter, recordId } = bought;
  const url = bought.retry.url.href;
  let outcome: PaidOutcome;
  try {
    outcome = await adapter.settle(offer, proof, first);
  } catch (error) {
    outcome = {
      kind: 'rejected',
      reason: 'unknown',
      moneyMoved: 'unknown',
      message: `The ${offer.protocol} adapter could not read the paid response: ${errorText(error)}`,
    };
  }

  if (outcome.kind === 'accepted') {
    // The server's settled amount when it states one (x402 upto); else what the wallet paid
    // (a Lightning payment knows its amount and routing fee); else the reservation.
    const settled = outcome.settled ?? outcome.receipt?.settled;
    await commitPayment(
      core,
      bought,
      settled ?? proof.paid,
      {
        outcome: 'accepted',
        ...(outcome.receipt?.reference ? { receiptReference: outcome.receipt.reference } : {}),
      },
      settled ? undefined : proof.fee,
    );
    try {
      adapter.remember?.(offer, proof, bought.retry, first);
    } catch {
      // Remembering is an optimisation; a failure must not fail a paid call.
    }
    const record = await recordOf(core, recordId);
    core.emitter.emit('receipt', { url, record, status: final.status });
    const result: PaymentOutcome = outcome.receipt
      ? { status: 'paid', record, receipt: outcome.receipt }
      : { status: 'paid', record };
    return { response: attachPayment(final, result), outcome: result, nothingMoved: false };
  }

  const moved = proof.settlement === 'final' ? 'yes' : outcome.moneyMoved;
  const error = new PaymentFailedError({
    reason: outcome.reason,
    paid: moved === 'yes' ? true : moved === 'no' ? false : 'unknown',
    message: `The server refused the paid request (${outcome.reason}): ${outcome.message}`,
    resume: resumeOf(bought),
    details: { status: final.status, url },
  });
  const failure = { code: error.code, message: error.shortMessage };
  if (moved === 'yes') {
    const settled = outcome.receipt?.settled;
    await commitPayment(
      core,
      bought,
      settled ?? proof.paid,
      { outcome: 'rejected', failure },
      settled ? undefined : proof.fee,
    );
  } else if (moved === 'no') {
    await releasePayment(core, bought, { outcome: 'rejected', failure });
  } else {
    await holdPayment(core, bought, { outcome: 'unknown', failure });
  }
  const record = await recordOf(core, recordId);
  core.emitter.emit('receipt', { url, record, status: final.status });
  core.emitter.emit('error', { url, error });
  const result: PaymentOutcome = {
    status: moved === 'unknown' ? 'unknown' : 'rejected',
    record,
    error,
    ...(outcome.receipt ? { receipt: outcome.receipt } : {}),
  };
  return { response: attachPayment(final, result), outcome: result, nothingMoved: moved === 'no' };
}
