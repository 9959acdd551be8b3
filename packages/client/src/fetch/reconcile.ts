/**
 * Invariant 6: an unknown outcome is settled with the rail (the wallet's `lookup`) before the
 * same purchase is paid again, and held reservations are reconciled once they expire.
 *
 * @module
 */
import { PaymentFailedError } from '../errors/payment.js';
import { commitPayment, releasePayment, resumeOf } from './book.js';
import { type Core, type HeldPayment, reported } from './core.js';

/** Asks the rail about a held payment; commits or releases it when the rail knows. */
export async function askRail(
  core: Core,
  payment: HeldPayment,
): Promise<'paid' | 'failed' | 'pending'> {
  let status: 'paid' | 'failed' | 'pending' = 'pending';
  if (payment.wallet.lookup && payment.reference) {
    try {
      status = await payment.wallet.lookup(payment.reference, payment.offer);
    } catch {
      status = 'pending';
    }
  }
  if (status === 'paid') {
    await commitPayment(core, payment, undefined, {});
    core.held.delete(payment.purchaseKey);
  } else if (status === 'failed') {
    await releasePayment(core, payment, {});
    core.held.delete(payment.purchaseKey);
  }
  return status;
}

/**
 * Before a purchase pays: if an earlier payment for it has an unknown outcome, ask the rail.
 * Failed: go on. Paid: refuse (`ALREADY_PAID`). Still unknown: refuse (`OUTCOME_UNKNOWN`).
 */
export async function reconcileHeld(core: Core, purchaseKey: string, url: string): Promise<void> {
  const payment = core.held.get(purchaseKey);
  if (!payment) return;
  const status = await askRail(core, payment);
  if (status === 'failed') return;
  if (status === 'paid') {
    throw reported(
      core,
      url,
      new PaymentFailedError({
        code: 'ALREADY_PAID',
        reason: 'already_paid',
        paid: true,
        message:
          'This purchase was already paid (the rail confirmed it); it is not paid again. Resume with the recorded reference.',
        resume: resumeOf(payment),
      }),
    );
  }
  throw reported(
    core,
    url,
    new PaymentFailedError({
      code: 'OUTCOME_UNKNOWN',
      reason: 'outcome_unknown',
      paid: 'unknown',
      message:
        'An earlier payment for this purchase has an unknown outcome that the wallet cannot settle yet; nothing new is paid. Try again after the authorization expires.',
      resume: resumeOf(payment),
    }),
  );
}

/** Asks the rail about every held payment whose reservation has expired. */
export async function reconcileExpired(
  core: Core,
): Promise<{ committed: number; released: number; pending: number }> {
  const counts = { committed: 0, released: 0, pending: 0 };
  const time = core.now();
  for (const payment of [...core.held.values()]) {
    if (payment.decision.reservation.expiresAt > time) {
      counts.pending++;
      continue;
    }
    const status = await askRail(core, payment);
    if (status === 'paid') counts.committed++;
    else if (status === 'failed') counts.released++;
    else counts.pending++;
  }
  return counts;
}
