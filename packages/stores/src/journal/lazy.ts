/**
 * A {@link JournalLog} opened on first use, so that store factories can stay synchronous.
 *
 * @module
 */
import { storeUnavailable } from '../errors.js';
import type { JournalLog } from './log.js';

/** A lazily opened log, with access to the opened one once it exists. */
export interface LazyLog<L extends JournalLog> extends JournalLog {
  /** The opened log, or undefined before first use (or after a failed open). */
  readonly current: L | undefined;
}

/**
 * Wraps an opener; a failed open is retried on the next call.
 *
 * @example
 * ```ts
 * import { lazyLog } from './lazy.js';
 * const log = lazyLog(() => openFileJournal({ path: 'budget.jsonl' }));
 * ```
 */
export function lazyLog<L extends JournalLog>(opener: () => Promise<L>): LazyLog<L> {
  let opening: Promise<L> | undefined;
  let current: L | undefined;
  let closed = false;
  const get = (): Promise<L> => {
    if (closed) {
      return Promise.reject(storeUnavailable('This store is closed.', 'Create a new store.'));
    }
    if (!opening) {
      opening = opener().then(
        (log) => {
          current = log;
          return log;
        },
        (error) => {
          opening = undefined;
          throw error;
        },
      );
    }
    return opening;
  };
  return {
    get current() {
      return current;
    },
    withLock: async (fn) => (await get()).withLock(fn),
    read: async (cursor) => (await get()).read(cursor),
    append: async (cursor, entry) => (await get()).append(cursor, entry),
    async close() {
      if (closed) return;
      closed = true;
      if (opening) await (await opening.catch(() => undefined))?.close();
    },
  };
}
