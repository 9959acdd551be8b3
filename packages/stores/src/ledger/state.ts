/**
 * Spend-ledger state folded from append-only operations, shared by every persisted ledger:
 * `{ t: 'a', record }` appends a record, `{ t: 'u', id, patch }` updates one. The folded view
 * is what `Ledger.list()` returns; the operations are what is stored.
 *
 * @module
 */
import { type SpendRecord, StipendError } from '@stipend/client';
import { decodeJson, encodeJson, type Json } from '../codec.js';

/** A stored ledger operation. */
export type LedgerOp =
  | { readonly t: 'a'; readonly record: SpendRecord }
  | { readonly t: 'u'; readonly id: string; readonly patch: Partial<SpendRecord> };

/** Records in append order plus an index by id. */
export interface LedgerState {
  readonly records: SpendRecord[];
  readonly index: Map<string, number>;
}

/**
 * An empty ledger state.
 *
 * @example
 * ```ts
 * import { applyLedgerOp, emptyLedger } from './state.js';
 * const state = emptyLedger();
 * applyLedgerOp(state, { t: 'a', record });
 * ```
 */
export function emptyLedger(): LedgerState {
  return { records: [], index: new Map() };
}

/**
 * Checks an operation against the state and applies it.
 *
 * @throws {StipendError} `LEDGER_CONFLICT` for a second append of an id, `LEDGER_NOT_FOUND`
 * for an update of an unknown id, `LEDGER_INVALID` for a record without a string id.
 *
 * @example
 * ```ts
 * import { applyLedgerOp, emptyLedger } from './state.js';
 * const state = emptyLedger();
 * applyLedgerOp(state, { t: 'a', record });
 * applyLedgerOp(state, { t: 'u', id: record.id, patch: { status: 'committed' } });
 * ```
 */
export function applyLedgerOp(state: LedgerState, op: LedgerOp): void {
  if (op.t === 'a') {
    const id = op.record?.id;
    if (typeof id !== 'string' || id === '') {
      throw new StipendError('LEDGER_INVALID', 'A spend record needs a non-empty string id.', {
        metaMessages: ['Pass the SpendRecord the paying fetch built.'],
      });
    }
    if (state.index.has(id)) {
      throw new StipendError('LEDGER_CONFLICT', `Spend record "${id}" already exists.`, {
        metaMessages: ['Append a record once, then update it by id.'],
        details: { id },
      });
    }
    state.index.set(id, state.records.length);
    state.records.push(Object.freeze({ ...op.record }));
    return;
  }
  const at = state.index.get(op.id);
  if (at === undefined) {
    throw new StipendError('LEDGER_NOT_FOUND', `No spend record "${op.id}" to update.`, {
      metaMessages: ['Append the record before updating it.'],
      details: { id: String(op.id) },
    });
  }
  state.records[at] = Object.freeze({ ...state.records[at]!, ...op.patch, id: op.id });
}

/**
 * Encodes an operation for storage (bigints tagged, see `codec.ts`).
 *
 * @example
 * ```ts
 * import { encodeLedgerOp } from './state.js';
 * const json = JSON.stringify(encodeLedgerOp({ t: 'u', id: 's1', patch: { committedUsdMicros: 5n } }));
 * ```
 */
export function encodeLedgerOp(op: LedgerOp): Json {
  return encodeJson(op);
}

/**
 * Decodes a stored operation.
 *
 * @throws {TypeError} for anything that is not a ledger operation.
 *
 * @example
 * ```ts
 * import { decodeLedgerOp } from './state.js';
 * decodeLedgerOp({ t: 'u', id: 's1', patch: { committedUsdMicros: { $b: '5' } } });
 * ```
 */
export function decodeLedgerOp(json: Json): LedgerOp {
  const op = decodeJson(json) as LedgerOp;
  if (op?.t !== 'a' && op?.t !== 'u') {
    throw new TypeError(`Unknown ledger operation ${JSON.stringify(json)}.`);
  }
  return op;
}
