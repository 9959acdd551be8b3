/**
 * Booking a payment's end: commit (money moved), release (provably not), or hold (unknown),
 * always in the budget and the ledger together.
 *
 * @module
 */
import type { ResumeInfo } from '../errors/payment.js';
import type { SpendRecord } from '../ledger/record.js';
import type { Amount } from '../money/unit.js';
import type { Core, HeldPayment } from './core.js';

type Patch = Partial<SpendRecord>;

/**
 * Commits the payment at its actual cost: `actual` (+ `fee`) when known, else the whole
 * reservation (over-counting, never under-counting). A fee alone is never committed as the cost.
 */
export async function commitPayment(
  core: Core,
  payment: HeldPayment,
  actual: Amount | undefined,
  patch: Patch,
  fee?: Amount,
): Promise<void> {
  const committed = await core.engine.commit(payment.decision, actual, actual ? fee : undefined);
  rememberPaid(core, payment.purchaseKey);
  await core.ledger.update(payment.recordId, {
    ...patch,
    status: 'committed',
    committedUsdMicros: committed,
    updatedAt: core.now(),
  });
}

const MAX_PAID_KEYS = 10_000;

/** Remembers that a purchase was paid, so a caller's idempotency key is never paid twice. */
function rememberPaid(core: Core, key: string): void {
  core.paidKeys.delete(key);
  core.paidKeys.add(key);
  if (core.paidKeys.size > MAX_PAID_KEYS)
    core.paidKeys.delete(core.paidKeys.values().next().value!);
}

/** Releases the reservation: no money moved. */
export async function releasePayment(
  core: Core,
  payment: HeldPayment,
  patch: Patch,
): Promise<void> {
  await core.engine.release(payment.decision);
  await core.ledger.update(payment.recordId, {
    ...patch,
    status: 'released',
    updatedAt: core.now(),
  });
}

/** Keeps the reservation held until the rail says what happened (invariant 6). */
export async function holdPayment(core: Core, payment: HeldPayment, patch: Patch): Promise<void> {
  core.held.set(payment.purchaseKey, payment);
  await core.ledger.update(payment.recordId, { ...patch, status: 'held', updatedAt: core.now() });
}

/** The latest version of a spend record. */
export async function recordOf(core: Core, id: string): Promise<SpendRecord> {
  const direct = await core.ledger.get?.(id);
  if (direct) return direct;
  const records = await core.ledger.list();
  for (let index = records.length - 1; index >= 0; index--) {
    if (records[index]!.id === id) return records[index]!;
  }
  throw new Error(`Spend record ${id} is missing from the ledger.`);
}

/** What a caller needs to resume a purchase: its key and the secret-free references. */
export function resumeOf(payment: HeldPayment): ResumeInfo {
  return {
    idempotencyKey: payment.purchaseKey,
    offerId: payment.offer.id,
    walletId: payment.wallet.id,
    ...(payment.reference ? { reference: payment.reference } : {}),
  };
}
