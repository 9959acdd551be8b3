/**
 * A spend {@link Ledger} replicated from a {@link JournalLog}: every append and update is one
 * fenced journal entry, so several processes (or tabs) share one ordered ledger.
 *
 * @module
 */
import type { Ledger, SpendRecord } from '@stipend/client';
import { storeCorrupt } from '../errors.js';
import {
  applyLedgerOp,
  decodeLedgerOp,
  emptyLedger,
  encodeLedgerOp,
  type LedgerOp,
  type LedgerState,
} from '../ledger/state.js';
import type { JournalLog } from './log.js';
import { createReplica } from './replica.js';

/** A persisted ledger: `list()` is always asynchronous and includes other writers' records. */
export interface PersistedLedger extends Ledger {
  append(record: SpendRecord): Promise<void>;
  update(id: string, patch: Partial<SpendRecord>): Promise<void>;
  list(): Promise<readonly SpendRecord[]>;
  /** Releases the underlying file, database or connection. */
  close(): Promise<void>;
}

/**
 * Creates a ledger over a journal log.
 *
 * @param log - The shared log.
 * @param describe - Names the log in errors.
 * @returns The ledger.
 *
 * @example
 * ```ts
 * import { createJournaledLedger } from './ledger.js';
 * const ledger = createJournaledLedger(log, 'the ledger ./spend.jsonl');
 * await ledger.append(record);
 * ```
 */
export function createJournaledLedger(log: JournalLog, describe: string): PersistedLedger {
  const replica = createReplica<LedgerState>({
    log,
    describe,
    init: emptyLedger,
    apply: (state, json) => {
      let op: LedgerOp;
      try {
        op = decodeLedgerOp(json);
        applyLedgerOp(state, op);
      } catch (error) {
        throw storeCorrupt(
          `Cannot replay entry ${JSON.stringify(json)} from ${describe}.`,
          'The ledger was edited by hand or written by an incompatible version; restore it from a backup.',
          error,
        );
      }
    },
  });
  const write = (op: LedgerOp) =>
    replica.write(async (state) => {
      applyLedgerOp(state, op);
      return { result: undefined, entry: encodeLedgerOp(op) };
    });
  return {
    append: (record) => write({ t: 'a', record }),
    update: (id, patch) => write({ t: 'u', id, patch }),
    list: () => replica.read((state) => state.records.slice()),
    close: () => log.close(),
  };
}
