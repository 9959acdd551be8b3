/**
 * A {@link PurchaseJournal} replicated from a {@link JournalLog} (the file and IndexedDB
 * journals are this plus their log): `open` and `transition` decide on caught-up state under
 * the log's lock and append one fenced entry, so across every process (or tab) sharing the
 * log exactly one of N concurrent opens of an exclusive key succeeds, and exactly one of N
 * concurrent transitions from the same state wins.
 *
 * @module
 */
import {
  type OpenRefusal,
  openConflict,
  type PurchaseJournal,
  type PurchasePatch,
  type PurchaseRecord,
  type PurchaseState,
} from '@stipend/client';
import { decodeJson, encodeJson } from '../codec.js';
import { storeCorrupt } from '../errors.js';
import {
  applyPurchaseOp,
  checkPurchaseRecord,
  checkState,
  emptyPurchases,
  type PurchaseOp,
  type PurchasesState,
  patchOf,
  purchaseExists,
  purchasesOfKey,
} from '../purchases/state.js';
import type { JournalLog } from './log.js';
import { createReplica } from './replica.js';

/** A persisted purchase journal. */
export interface PersistedPurchaseJournal extends PurchaseJournal {
  /** Releases the underlying file, database or connection. */
  close(): Promise<void>;
}

/**
 * Creates a purchase journal over a journal log.
 *
 * @param log - The shared log.
 * @param describe - Names the log in errors.
 * @returns The journal.
 *
 * @example
 * ```ts
 * import { createJournaledPurchaseJournal } from './purchases.js';
 * const journal = createJournaledPurchaseJournal(log, 'the purchase journal ./purchases.jsonl');
 * ```
 */
export function createJournaledPurchaseJournal(
  log: JournalLog,
  describe: string,
): PersistedPurchaseJournal {
  const replica = createReplica<PurchasesState>({
    log,
    describe,
    init: emptyPurchases,
    apply: (state, json) => {
      try {
        applyPurchaseOp(state, decodeJson(json) as PurchaseOp);
      } catch (error) {
        throw storeCorrupt(
          `Cannot replay entry ${JSON.stringify(json)} from ${describe}.`,
          'The purchase journal was edited by hand or written by an incompatible version; restore it from a backup.',
          error,
        );
      }
    },
  });

  return {
    async open(input) {
      const record = checkPurchaseRecord(input);
      return replica.write<{ readonly ok: true } | OpenRefusal>(async (state) => {
        const blocking = openConflict(purchasesOfKey(state, record.key), record.exclusive);
        if (blocking) return { result: { ok: false, blocking } };
        if (state.records.has(record.id)) throw purchaseExists(record.id);
        const op: PurchaseOp = { t: 'o', record };
        applyPurchaseOp(state, op);
        return { result: { ok: true }, entry: encodeJson(op) };
      });
    },
    async transition(
      id: string,
      from: readonly PurchaseState[],
      to: PurchaseState,
      patch?: PurchasePatch,
      now = Date.now(),
    ) {
      checkState(to, 'to');
      const op: PurchaseOp = { t: 's', id, to, patch: patchOf(patch), at: now };
      return replica.write(async (state) => {
        const record = state.records.get(id);
        if (!record || !from.includes(record.state)) return { result: undefined };
        return { result: applyPurchaseOp(state, op), entry: encodeJson(op) };
      });
    },
    get: (id) => replica.read((state) => state.records.get(id)),
    byKey: (key) => replica.read((state) => purchasesOfKey(state, key)),
    list: (filter) =>
      replica.read((state) => {
        const states = filter?.states;
        const out: PurchaseRecord[] = [];
        for (const record of state.records.values()) {
          if (!states || states.includes(record.state)) out.push(record);
        }
        return out;
      }),
    close: () => log.close(),
  };
}
