/**
 * After the proof is in hand: send the paid retry (origin-bound, see retry.ts) and conclude
 * from facts the client holds. The seller's answer decides only whether the resource was
 * delivered; what it says about money never releases any:
 *
 * - accepted → `delivered`: commit what the wallet itself paid or signed (for `upto`, the
 *   signed maximum unless the wallet verified less on the rail), never the seller's figure;
 * - refused, final payment (Lightning) → `paid`: money moved, the proof is kept for resuming;
 * - refused authorization → `void` only if the wallet voids it, else `live` until it expires
 *   (the budget stays held), else `unknown`;
 * - no answer → `unknown` (authorization) or `paid` (final), with a reference to look up.
 *
 * @module
 */
import { isStipendError } from '../errors/base.js';
import { PaymentFailedError } from '../errors/payment.js';
import { withDeadline } from '../internal/deadline.js';
import { redactUrl } from '../internal/redact.js';
import type { PaidOutcome } from '../protocols/adapter.js';
import type { PurchaseRecord } from '../purchase/journal.js';
import type { PurchaseState } from '../purchase/state.js';
import { move, recordOf, resumeOf } from './book.js';
import { type Core, errorText } from './core.js';
import { attachPayment, type PaymentOutcome } from './outcome.js';
import type { Bought, Call } from './purchase.js';
import { sendPaidRetry } from './retry.js';

/** How a paid request ended. */
export interface Concluded {
  /** The response for the caller, with its outcome attached. */
  readonly response: Response;
  readonly outcome: PaymentOutcome;
  /** True when the proof was refused and provably no money moved (a fresh 402 may be paid). */
  readonly nothingMoved: boolean;
}

/**
 * Sends the paid request once (from `signed`, or again from `paid` with the stored proof) and
 * moves the purchase by what happened.
 */
export async function sendAndConclude(core: Core, bought: Bought, call: Call): Promise<Concluded> {
  const { hands, record } = bought;
  const from: PurchaseState = record.state;
  const url = redactUrl(hands.retry.url);
  if (from === 'signed') {
    const sent = await move(core, record.id, ['signed'], 'sent');
    if (!sent) throw conflict(record);
  }
  const active: PurchaseState = from === 'signed' ? 'sent' : from;
  let paid: Awaited<ReturnType<typeof sendPaidRetry>>;
  try {
    paid = await sendPaidRetry({
      fetch: core.send,
      url: hands.retry.url,
      init: call.prepared.init,
      headers: hands.retry.headers,
      proofHeaders: hands.proofHeaders,
      timeoutMs: call.timeoutMs,
    });
  } catch (error) {
    // The proof may have reached the seller: the outcome is unknown (money that already moved
    // stays paid, and the proof is kept for resuming).
    const final = hands.proof.settlement === 'final';
    const to: PurchaseState = final ? 'paid' : 'unknown';
    const moved =
      active === 'paid'
        ? record
        : await move(core, record.id, [active], to, {
            ledger: {
              outcome: 'unknown',
              failure: { code: 'OUTCOME_UNKNOWN', message: errorText(error) },
            },
            ...(final ? { actual: hands.proof.paid, fee: hands.proof.fee } : {}),
          });
    const failure = new PaymentFailedError({
      code: 'OUTCOME_UNKNOWN',
      reason: 'outcome_unknown',
      paid: final ? true : 'unknown',
      message: `The paid request to ${url} got no answer (${errorText(error)}). ${final ? 'Money moved: call again with the same idempotency key to deliver it with the same proof.' : 'The budget stays reserved until the rail says what happened (payingFetch.reconcile()).'}`,
      resume: resumeOf(moved ?? record),
      cause: error,
    });
    core.emitter.emit('error', { url, error: failure });
    throw failure;
  }
  const concluded = await conclude(core, call, bought, active, paid.first, paid.final, url);
  if (paid.error !== undefined) throw paid.error;
  return concluded;
}

async function conclude(
  core: Core,
  call: Call,
  bought: Bought,
  active: PurchaseState,
  first: Response,
  final: Response,
  url: string,
): Promise<Concluded> {
  const { hands, record } = bought;
  const { offer, proof, adapter } = hands;
  let outcome: PaidOutcome;
  try {
    // The adapter reads the answer's body (a receipt, a refusal): bounded in time too.
    outcome = await withDeadline(
      async () => adapter.settle(offer, proof, first),
      call.timeoutMs,
      `The paid answer from ${hands.retry.url.origin}`,
      call.prepared.init.signal ?? undefined,
    );
  } catch (error) {
    outcome = {
      kind: 'rejected',
      reason: 'unknown',
      moneyMoved: 'unknown',
      message: `The ${offer.protocol} adapter could not read the paid response: ${errorText(error)}`,
    };
  }

  if (outcome.kind === 'accepted') {
    // Counted from what the wallet paid or signed (its `paid` + `fee`), else the reservation.
    const moved = await move(core, record.id, [active], 'delivered', {
      actual: proof.paid,
      fee: proof.fee,
      ledger: {
        outcome: 'accepted',
        ...(outcome.receipt?.reference ? { receiptReference: outcome.receipt.reference } : {}),
      },
    }).catch((error: unknown) => {
      // Booking failed after delivery: the caller still gets what it paid for, with the error.
      if (isStipendError(error)) Object.defineProperty(error, 'response', { value: final });
      throw error;
    });
    if (!moved) throw conflict(record);
    core.shared.hands.delete(record.id);
    try {
      adapter.remember?.(offer, proof, hands.retry, first);
    } catch {
      // Remembering is an optimisation; a failure must not fail a paid call.
    }
    const spend = await recordOf(core, record.id);
    core.emitter.emit('receipt', { url, record: spend, status: final.status });
    const result: PaymentOutcome = outcome.receipt
      ? { status: 'paid', record: spend, receipt: outcome.receipt }
      : { status: 'paid', record: spend };
    return { response: attachPayment(final, result), outcome: result, nothingMoved: false };
  }

  // Refused. Where the money is follows from the proof, not from the seller's words.
  const to = active === 'paid' ? 'paid' : await refusedState(hands, outcome, first.status);
  const error = new PaymentFailedError({
    reason: outcome.reason,
    paid: to === 'paid' ? true : to === 'void' ? false : 'unknown',
    message: `The server refused the paid request (${outcome.reason}): ${outcome.message}${refusalHint(to, record)}`,
    resume: resumeOf(record),
    details: { status: final.status, url },
  });
  const failure = { code: error.code, message: error.shortMessage };
  if (active !== 'paid') {
    await move(core, record.id, [active], to, {
      ...(to === 'live' && proof.validUntil !== undefined
        ? { patch: { liveUntil: proof.validUntil } }
        : {}),
      ...(to === 'paid' ? { actual: proof.paid, fee: proof.fee } : {}),
      ledger: { outcome: to === 'unknown' ? 'unknown' : 'rejected', failure },
    });
  }
  if (to === 'void') core.shared.hands.delete(record.id);
  const spend = await recordOf(core, record.id);
  core.emitter.emit('receipt', { url, record: spend, status: final.status });
  core.emitter.emit('error', { url, error });
  const result: PaymentOutcome = {
    status: to === 'unknown' || to === 'live' ? 'unknown' : 'rejected',
    record: spend,
    error,
    ...(outcome.receipt ? { receipt: outcome.receipt } : {}),
  };
  return { response: attachPayment(final, result), outcome: result, nothingMoved: to === 'void' };
}

/**
 * Where a refused proof leaves the money, from facts the client holds. A final payment moved.
 * For an authorization the rail is asked once (paid → `paid`, provably unused → `void`), then
 * the wallet may void it (a revoked token). Otherwise it stays counted: `live` until it
 * expires when the seller plainly refused it (a 4xx that says why), else `unknown` (a 5xx,
 * an unreadable answer, a seller claiming it settled): its key then waits for the rail.
 */
async function refusedState(
  hands: Bought['hands'],
  outcome: Extract<PaidOutcome, { kind: 'rejected' }>,
  status: number,
): Promise<'paid' | 'void' | 'live' | 'unknown'> {
  const { proof, wallet, offer } = hands;
  if (proof.settlement === 'final') return 'paid';
  if (wallet.lookup) {
    let said: Awaited<ReturnType<NonNullable<typeof wallet.lookup>>> = 'pending';
    try {
      said = await wallet.lookup(proof.reference, offer);
    } catch {
      said = 'pending';
    }
    if (said === 'paid') return 'paid';
    if (said === 'failed') return 'void';
  }
  if (wallet.void) {
    try {
      if (await wallet.void(proof.reference, offer)) return 'void';
    } catch {
      // Could not void: it stays counted.
    }
  }
  const plainRefusal =
    outcome.moneyMoved !== 'yes' &&
    status >= 400 &&
    status < 500 &&
    outcome.reason !== 'unknown' &&
    outcome.reason !== 'settlement_pending';
  return plainRefusal && proof.validUntil !== undefined ? 'live' : 'unknown';
}

function refusalHint(to: PurchaseState, record: PurchaseRecord): string {
  if (to === 'live')
    return '. The seller still holds a valid authorization, so it stays counted against the budget until it expires or the rail says it is unused.';
  if (to === 'paid')
    return `. Money moved; call again with the same idempotency key to resend the same proof (purchase ${record.id}).`;
  if (to === 'unknown')
    return '. The budget stays reserved until the rail says what happened (payingFetch.reconcile()).';
  return '';
}

function conflict(record: PurchaseRecord): PaymentFailedError {
  return new PaymentFailedError({
    code: 'PURCHASE_CONFLICT',
    reason: 'purchase_conflict',
    paid: 'unknown',
    message: `Purchase ${record.id} was moved by another caller; nothing more is paid for it. Inspect payingFetch.purchases.list().`,
    resume: resumeOf(record),
  });
}
