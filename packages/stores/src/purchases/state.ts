/**
 * Purchase-journal state folded from operations, shared by every persisted purchase journal
 * (file, IndexedDB; Redis keeps the same records under keys and reuses the checks):
 * `{ t: 'o', record }` opens a purchase, `{ t: 's', id, to, patch, at }` moves one. Which
 * opens are allowed is `openConflict` of `@stipend/client` (one rule for every journal);
 * which transitions are allowed is the caller's compare-and-set, decided on caught-up state.
 *
 * @module
 */
import {
  type PurchasePatch,
  type PurchaseRecord,
  type PurchaseState,
  StipendError,
  TRANSITIONS,
} from '@stipend/client';

/** A stored purchase-journal operation. */
export type PurchaseOp =
  | { readonly t: 'o'; readonly record: PurchaseRecord }
  | {
      readonly t: 's';
      readonly id: string;
      readonly to: PurchaseState;
      readonly patch: PurchasePatch;
      readonly at: number;
    };

/** Records in open order, and the ids of each key in open order. */
export interface PurchasesState {
  readonly records: Map<string, PurchaseRecord>;
  readonly keys: Map<string, string[]>;
}

/** The fields a transition may change besides the state (see `PurchasePatch`). */
const PATCHABLE = [
  'booked',
  'reference',
  'liveUntil',
  'settlement',
  'failure',
] as const satisfies readonly (keyof PurchasePatch)[];
/** Fails to compile when `PurchasePatch` gains a field that `PATCHABLE` lacks. */
const COVERS_PATCH: [Exclude<keyof PurchasePatch, (typeof PATCHABLE)[number]>] extends [never]
  ? true
  : never = true;
void COVERS_PATCH;

/**
 * An empty state.
 *
 * @example
 * ```ts
 * import { applyPurchaseOp, emptyPurchases } from './state.js';
 * const state = emptyPurchases();
 * applyPurchaseOp(state, { t: 'o', record });
 * ```
 */
export function emptyPurchases(): PurchasesState {
  return { records: new Map(), keys: new Map() };
}

/**
 * The purchases of a key, oldest first.
 *
 * @example
 * ```ts
 * import { purchasesOfKey } from './state.js';
 * const existing = purchasesOfKey(state, 'order-1');
 * ```
 */
export function purchasesOfKey(state: PurchasesState, key: string): PurchaseRecord[] {
  const out: PurchaseRecord[] = [];
  for (const id of state.keys.get(key) ?? []) {
    const record = state.records.get(id);
    if (record) out.push(record);
  }
  return out;
}

/**
 * Checks that a record can be journaled: string id and key, boolean `exclusive`, a known
 * state, numeric times. Returns a frozen copy.
 *
 * @throws {StipendError} `JOURNAL_INVALID` naming the field to fix.
 *
 * @example
 * ```ts
 * import { checkPurchaseRecord } from './state.js';
 * const record = checkPurchaseRecord(input);
 * ```
 */
export function checkPurchaseRecord(record: PurchaseRecord): PurchaseRecord {
  const fail = (field: string, want: string) =>
    new StipendError('JOURNAL_INVALID', `Invalid purchase record: ${field} must be ${want}.`, {
      metaMessages: ['Pass the PurchaseRecord the paying fetch built.'],
      details: { field },
    });
  if (typeof record !== 'object' || record === null) throw fail('the record', 'an object');
  if (typeof record.id !== 'string' || record.id === '') throw fail('id', 'a non-empty string');
  if (typeof record.key !== 'string') throw fail('key', 'a string');
  if (typeof record.exclusive !== 'boolean') throw fail('exclusive', 'a boolean');
  checkState(record.state, 'state');
  for (const field of ['createdAt', 'updatedAt'] as const) {
    if (!Number.isFinite(record[field])) throw fail(field, 'a time in ms');
  }
  return Object.freeze({ ...record });
}

/**
 * Keeps only the fields a transition may change.
 *
 * @example
 * ```ts
 * import { patchOf } from './state.js';
 * patchOf({ booked: true, key: 'x' } as never); // { booked: true }
 * ```
 */
export function patchOf(patch: PurchasePatch | undefined): PurchasePatch {
  const out: Record<string, unknown> = {};
  for (const field of PATCHABLE) {
    const value = patch?.[field];
    if (value !== undefined) out[field] = value;
  }
  return out as PurchasePatch;
}

/**
 * Checks a state name.
 *
 * @throws {StipendError} `JOURNAL_INVALID` for anything but a lifecycle state.
 *
 * @example
 * ```ts
 * import { checkState } from './state.js';
 * checkState('sent', 'to');
 * ```
 */
export function checkState(state: unknown, field: string): PurchaseState {
  if (typeof state !== 'string' || !Object.hasOwn(TRANSITIONS, state)) {
    throw new StipendError(
      'JOURNAL_INVALID',
      `Invalid purchase state ${JSON.stringify(state)} for ${field}.`,
      {
        metaMessages: [`Use one of: ${Object.keys(TRANSITIONS).join(', ')}.`],
        details: { field },
      },
    );
  }
  return state as PurchaseState;
}

/**
 * The record after a transition (what every journal stores).
 *
 * @example
 * ```ts
 * import { moved } from './state.js';
 * const next = moved(record, 'sent', { reference: 'nonce-1' }, Date.now());
 * ```
 */
export function moved(
  record: PurchaseRecord,
  to: PurchaseState,
  patch: PurchasePatch,
  at: number,
): PurchaseRecord {
  return Object.freeze({ ...record, ...patch, state: to, updatedAt: at });
}

/**
 * An error for a purchase id opened twice.
 *
 * @example
 * ```ts
 * import { purchaseExists } from './state.js';
 * throw purchaseExists('p-1');
 * ```
 */
export function purchaseExists(id: string): StipendError {
  return new StipendError('JOURNAL_CONFLICT', `Purchase ${id} already exists.`, {
    metaMessages: ['Open each purchase once with a fresh id; move it with transition().'],
    details: { id },
  });
}

/**
 * Applies an operation (replay, and a writer's own decision).
 *
 * @throws {StipendError} for an open of an existing id or a move of an unknown one.
 *
 * @example
 * ```ts
 * import { applyPurchaseOp, emptyPurchases } from './state.js';
 * applyPurchaseOp(emptyPurchases(), { t: 'o', record });
 * ```
 */
export function applyPurchaseOp(state: PurchasesState, op: PurchaseOp): PurchaseRecord {
  if (op.t === 'o') {
    const record = checkPurchaseRecord(op.record);
    if (state.records.has(record.id)) throw purchaseExists(record.id);
    state.records.set(record.id, record);
    const ids = state.keys.get(record.key);
    if (ids) ids.push(record.id);
    else state.keys.set(record.key, [record.id]);
    return record;
  }
  if (op.t === 's') {
    const record = state.records.get(op.id);
    if (!record) throw new Error(`no purchase ${op.id}`);
    const next = moved(record, checkState(op.to, 'to'), patchOf(op.patch), op.at);
    state.records.set(op.id, next);
    return next;
  }
  throw new Error(`unknown purchase operation ${JSON.stringify((op as { t?: unknown })?.t)}`);
}
