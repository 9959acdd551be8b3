/**
 * Reconciliation over the whole journal (every process sharing it, not one process's memory):
 * unknown outcomes and expired live authorizations are asked of the rail, orphans of crashed
 * processes are settled, bookings a store failed are redone, and a person can resolve what no
 * rail can.
 *
 * @module
 */
import { StipendError } from '../errors/base.js';
import type { PurchaseRecord } from '../purchase/journal.js';
import type { PurchaseState } from '../purchase/state.js';
import { FINAL, MONEY_SPENT } from '../purchase/state.js';
import { move } from './book.js';
import type { Core } from './core.js';
import { askRail } from './prior.js';

/** Options of `payingFetch.reconcile()`. */
export interface ReconcileOptions {
  /**
   * A person's decision on a purchase no rail can settle: `paid` (money moved; commit),
   * `void` (it did not and cannot; release), or `delivered` (paid and the seller delivered it
   * some other way).
   */
  readonly resolve?: { readonly id: string; readonly as: 'paid' | 'void' | 'delivered' };
  /**
   * How long (ms) a purchase of another process may sit in a state under way before it counts
   * as an orphan of a crash. Default: the wallet deadline plus twice the request deadline.
   */
  readonly orphanAfterMs?: number;
}

/** What a reconciliation did. */
export interface ReconcileResult {
  /** Purchases now counted as spent. */
  readonly committed: number;
  /** Purchases now void (their reservations released). */
  readonly released: number;
  /** Purchases still unsettled (see `payingFetch.purchases.list()`). */
  readonly pending: number;
}

const UNDER_WAY: readonly PurchaseState[] = ['decided', 'authorizing', 'signed', 'sent'];
const UNSETTLED: readonly PurchaseState[] = [
  ...UNDER_WAY,
  'live',
  'unknown',
  'paid',
  'delivered',
  'void',
];

/** Reconciles every unsettled purchase of the journal; see {@link ReconcileOptions}. */
export async function reconcileAll(
  core: Core,
  options: ReconcileOptions = {},
): Promise<ReconcileResult> {
  if (options.resolve) return resolveByHand(core, options.resolve);
  const counts = { committed: 0, released: 0, pending: 0 };
  const orphanAfter = options.orphanAfterMs ?? core.payTimeoutMs + 2 * core.timeoutMs;
  const now = core.now();
  const records = await core.shared.journal.list({ states: UNSETTLED });
  for (const record of records) {
    if (FINAL.has(record.state) && record.booked) continue;
    let after: PurchaseRecord | undefined;
    try {
      after = await settleOne(core, record, now, orphanAfter);
    } catch {
      // One purchase a store cannot settle now must not stop the others.
      counts.pending++;
      continue;
    }
    if (after === undefined) continue;
    if (after.state === 'void' && (record.state !== 'void' || !record.booked)) counts.released++;
    else if (MONEY_SPENT.has(after.state) && (!MONEY_SPENT.has(record.state) || !record.booked))
      counts.committed++;
    else if (!(after.state === 'delivered' && after.booked) && after.state !== 'paid')
      counts.pending++;
  }
  counts.released += await releaseStrayHolds(core, records, now);
  return counts;
}

/** Settles one purchase if it is this call's to settle; `undefined` when it was left alone. */
async function settleOne(
  core: Core,
  record: PurchaseRecord,
  now: number,
  orphanAfter: number,
): Promise<PurchaseRecord | undefined> {
  const mine = core.shared.hands.has(record.id);
  if (UNDER_WAY.includes(record.state)) {
    // Under way in this process, or too recent to be another process's orphan: leave it.
    if (mine || now - record.updatedAt < orphanAfter) return undefined;
    if (record.state === 'decided') return voidOrphan(core, record);
    const after = await askRail(core, record);
    // The rail cannot say (no lookup, no reference): a person can, once it is visible.
    if (UNDER_WAY.includes(after.state))
      return (await move(core, record.id, [after.state], 'unknown')) ?? after;
    return after;
  }
  if (!record.booked) return rebook(core, record);
  // The rail may know before the authorization expires (voided, or already settled).
  if (record.state === 'unknown' || record.state === 'live') return askRail(core, record);
  return record;
}

/**
 * A purchase a crashed process opened but never asked a wallet to pay: nothing was signed, so
 * it is void. Its spend record may not exist (the crash came between the two writes): the
 * ledger is patched when it can be, and the journal and budget never wait for it.
 */
async function voidOrphan(core: Core, record: PurchaseRecord): Promise<PurchaseRecord> {
  const voided = await core.shared.journal.transition(
    record.id,
    ['decided'],
    'void',
    { booked: false },
    core.now(),
  );
  if (!voided) return record;
  const reservation = await core.budget.get(record.reservationId);
  if (reservation?.state === 'held') await core.budget.release(record.reservationId);
  try {
    await core.ledger.update(record.id, { status: 'released', updatedAt: core.now() });
  } catch {
    // No spend record: the crash came before it was written; nothing was paid.
  }
  return (
    (await core.shared.journal.transition(
      record.id,
      ['void'],
      'void',
      { booked: true },
      core.now(),
    )) ?? voided
  );
}

/**
 * Budget holds past their expiry that no purchase, no open approval and no session accounts for: left by
 * a process that died between reserving and journaling (or after claiming an approval). No
 * wallet was asked for them, so nothing can move: they are released.
 */
async function releaseStrayHolds(
  core: Core,
  records: readonly PurchaseRecord[],
  now: number,
): Promise<number> {
  const expired = await core.budget.expired(now);
  if (expired.length === 0) return 0;
  const accounted = new Set(records.map((record) => record.reservationId));
  for (const approval of await core.approvals.store.list()) {
    if (approval.state === 'pending' || approval.state === 'approved')
      accounted.add(approval.reservationId);
  }
  let released = 0;
  for (const reservation of expired) {
    if (accounted.has(reservation.id)) continue;
    // A session's deposit is held for the session's life and settled by the session manager
    // (`payingFetch.sessions.reconcile()`): money that is at the server is never released here.
    if (reservation.meta?.kind === 'session') continue;
    // A purchase may have been journaled since the list was read: look once more.
    if (await journaled(core, reservation.id)) continue;
    try {
      await core.budget.release(reservation.id);
      released++;
    } catch {
      // Settled meanwhile by its owner.
    }
  }
  return released;
}

async function journaled(core: Core, reservationId: string): Promise<boolean> {
  const all = await core.shared.journal.list();
  return all.some((record) => record.reservationId === reservationId);
}

/** Books again a purchase whose state moved but whose budget or ledger did not follow. */
async function rebook(core: Core, record: PurchaseRecord): Promise<PurchaseRecord> {
  return (await move(core, record.id, [record.state], record.state)) ?? record;
}

async function resolveByHand(
  core: Core,
  resolve: NonNullable<ReconcileOptions['resolve']>,
): Promise<ReconcileResult> {
  const record = await core.shared.journal.get(resolve.id);
  if (!record) {
    throw new StipendError(
      'PURCHASE_NOT_FOUND',
      `No purchase ${resolve.id}; list them with payingFetch.purchases.list() or \`stipend ledger\`.`,
    );
  }
  const allowed: Record<string, readonly PurchaseState[]> = {
    paid: ['unknown', 'live'],
    void: ['unknown', 'live'],
    delivered: ['paid'],
  };
  const from = allowed[resolve.as] ?? [];
  if (!from.includes(record.state)) {
    throw new StipendError(
      'PURCHASE_CONFLICT',
      `Purchase ${resolve.id} is ${record.state}; only ${from.join(' or ')} purchases can be resolved as ${resolve.as}.`,
    );
  }
  const moved = await move(core, record.id, [record.state], resolve.as, {
    ledger: {
      failure: { code: 'RESOLVED_BY_HAND', message: `resolved as ${resolve.as} by a person` },
    },
  });
  if (!moved)
    throw new StipendError(
      'PURCHASE_CONFLICT',
      `Purchase ${resolve.id} changed meanwhile; try again.`,
    );
  core.shared.hands.delete(record.id);
  return {
    committed: resolve.as === 'void' ? 0 : 1,
    released: resolve.as === 'void' ? 1 : 0,
    pending: 0,
  };
}
