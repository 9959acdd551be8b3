import type { Ledger, SpendRecord } from './record.js';

/**
 * A ledger kept in memory, oldest record first.
 *
 * @example
 * ```ts
 * import { createMemoryLedger, createPayingFetch } from '@stipend/client';
 *
 * const ledger = createMemoryLedger();
 * const payingFetch = createPayingFetch({ wallets: [], ledger });
 * console.warn(ledger.list().length);
 * ```
 */
export function createMemoryLedger(): Ledger & {
  list(): readonly SpendRecord[];
  get(id: string): SpendRecord | undefined;
} {
  const records: SpendRecord[] = [];
  const byId = new Map<string, number>();
  return {
    append(record) {
      if (byId.has(record.id)) throw new Error(`spend record ${record.id} already exists`);
      byId.set(record.id, records.length);
      records.push(Object.freeze({ ...record }));
    },
    update(id, patch) {
      const index = byId.get(id);
      if (index === undefined) throw new Error(`no spend record ${id}`);
      records[index] = Object.freeze({ ...records[index]!, ...patch, id });
    },
    list() {
      return records.slice();
    },
    get(id) {
      const index = byId.get(id);
      return index === undefined ? undefined : records[index];
    },
  };
}
