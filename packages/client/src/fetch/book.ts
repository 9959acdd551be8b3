/**
 * The one place a purchase changes state: the journal first (compare-and-set, so two paths
 * never both move one purchase), then the budget and the ledger to match. When a store fails
 * after money moved, the journal already tells the truth, the record stays `booked: false`,
 * and the caller learns `paid: true` with what it needs to resume; reconciliation books it.
 *
 * @module
 */
import { isStipendError, StipendError } from '../errors/base.js';
import { PaymentFailedError, type ResumeInfo } from '../errors/payment.js';
import type { SpendRecord, SpendStatus } from '../ledger/record.js';
import type { Amount } from '../money/unit.js';
import type { PurchasePatch, PurchaseRecord } from '../purchase/journal.js';
import { canMove, MONEY_SPENT, type PurchaseState } from '../purchase/state.js';
import { type Core, errorText } from './core.js';

/** What a transition books besides the state. */
export interface MoveFacts {
  /** The cost to commit, from what the client itself paid or signed (else the reservation). */
  readonly actual?: Amount;
  readonly fee?: Amount;
  readonly patch?: PurchasePatch;
  readonly ledger?: Partial<SpendRecord>;
}

/** The ledger status each lifecycle state shows. */
export function ledgerStatus(state: PurchaseState): SpendStatus {
  if (MONEY_SPENT.has(state)) return 'committed';
  if (state === 'void') return 'released';
  if (state === 'live' || state === 'unknown') return 'held';
  return 'pending';
}

/**
 * Moves purchase `id` from one of `from` to `to` and books the budget and the ledger.
 * Returns the new record, or `undefined` when another path moved it first (nothing booked).
 *
 * @throws {PaymentFailedError} code `BOOKING_FAILED` when a store fails after the move; its
 *   `paid` says whether money moved.
 */
export async function move(
  core: Core,
  id: string,
  from: readonly PurchaseState[],
  to: PurchaseState,
  facts: MoveFacts = {},
): Promise<PurchaseRecord | undefined> {
  for (const state of from) {
    if (!canMove(state, to)) throw new StipendError('INTERNAL', `No transition ${state} → ${to}.`);
  }
  const journal = core.shared.journal;
  const time = core.now();
  const before = from.length === 1 ? from[0] : undefined;
  const moved = await journal.transition(
    id,
    from,
    to,
    { ...facts.patch, booked: to !== 'void' && !MONEY_SPENT.has(to) },
    time,
  );
  if (!moved) return undefined;
  try {
    let committedUsdMicros: bigint | undefined;
    if (MONEY_SPENT.has(to))
      committedUsdMicros =
        (before && MONEY_SPENT.has(before) ? await alreadyCommitted(core, moved) : undefined) ??
        (await commitBudget(core, moved, facts));
    else if (to === 'void') await core.budget.release(moved.reservationId);
    // The spend record changes when its status or what it says changes (not on every step).
    const status = ledgerStatus(to);
    if (
      before === undefined ||
      status !== ledgerStatus(before) ||
      facts.ledger !== undefined ||
      facts.patch?.reference !== undefined ||
      committedUsdMicros !== undefined ||
      !moved.booked
    ) {
      await core.ledger.update(id, {
        ...facts.ledger,
        ...(facts.patch?.reference ? { reference: facts.patch.reference } : {}),
        ...(committedUsdMicros !== undefined ? { committedUsdMicros } : {}),
        status,
        updatedAt: time,
      });
    }
    if (!moved.booked)
      return (await journal.transition(id, [to], to, { booked: true }, time)) ?? moved;
    return moved;
  } catch (error) {
    throw bookingFailed(moved, to, error);
  }
}

/** What a reservation committed already (`paid → delivered`: money is counted once). */
async function alreadyCommitted(core: Core, record: PurchaseRecord): Promise<bigint | undefined> {
  const reservation = await core.budget.get(record.reservationId);
  return reservation?.state === 'committed' ? reservation.committedUsdMicros : undefined;
}

/** Commits the budget: the client's own figures when it has them, else the whole reservation. */
async function commitBudget(core: Core, record: PurchaseRecord, facts: MoveFacts): Promise<bigint> {
  const hands = core.shared.hands.get(record.id);
  if (hands) {
    try {
      return await core.engine.commit(
        hands.decision,
        facts.actual,
        facts.actual ? facts.fee : undefined,
      );
    } catch (error) {
      // Above the reservation (it cannot be, when wallets keep to the reserved fee cap) or in
      // another unit: count the whole reservation rather than nothing.
      if (!isStipendError(error) || error.code !== 'BUDGET_COMMIT_INVALID') throw error;
    }
  }
  const reservation = await core.budget.get(record.reservationId);
  const usd = reservation?.usdMicros ?? 0n;
  await core.budget.commit(record.reservationId, usd);
  return usd;
}

function bookingFailed(
  record: PurchaseRecord,
  to: PurchaseState,
  cause: unknown,
): PaymentFailedError {
  const paid = MONEY_SPENT.has(to) ? true : to === 'void' ? false : 'unknown';
  return new PaymentFailedError({
    code: 'BOOKING_FAILED',
    reason: 'booking_failed',
    paid,
    message: `The purchase is ${to}, but booking it failed (${errorText(cause)}). It is not paid again; payingFetch.reconcile() books it once the store answers.`,
    resume: resumeOf(record),
    cause,
  });
}

/** What a caller needs to resume a purchase: its key and the secret-free references. */
export function resumeOf(
  record: Pick<PurchaseRecord, 'key' | 'id' | 'offerId' | 'walletId' | 'reference'>,
): ResumeInfo {
  return {
    idempotencyKey: record.key,
    purchaseId: record.id,
    offerId: record.offerId,
    walletId: record.walletId,
    ...(record.reference ? { reference: record.reference } : {}),
  };
}

/** The latest version of a spend record. */
export async function recordOf(core: Core, id: string): Promise<SpendRecord> {
  const direct = await core.ledger.get?.(id);
  if (direct) return direct;
  const records = await core.ledger.list();
  for (let index = records.length - 1; index >= 0; index--) {
    if (records[index]!.id === id) return records[index]!;
  }
  throw new StipendError('INTERNAL', `Spend record ${id} is missing from the ledger.`);
}
