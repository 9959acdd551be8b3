/**
 * The {@link JournalLog} of the browser stores: an IndexedDB object store whose keys are the
 * entries' sequence numbers 1, 2, 3… Appending entry n+1 is `add(entry, n + 1)`, which fails
 * when another tab already wrote n+1: the fence. Web Locks (when present) serialise writers
 * across tabs so that the fence almost never trips.
 *
 * No Node built-ins here.
 *
 * @module
 */
import type { Json } from '../codec.js';
import { storeUnavailable } from '../errors.js';
import { CONFLICT, type JournalLog } from '../journal/log.js';

/** The part of the Web Locks API the stores use (`navigator.locks`). */
export interface LockManagerLike {
  request<T>(
    name: string,
    options: { mode: 'exclusive' },
    callback: (lock: unknown) => Promise<T>,
  ): Promise<T>;
}

/** Options of {@link openIdbJournal}. */
export interface IdbJournalOptions {
  /** The database name. */
  readonly database: string;
  /** The object store (one per journal: `budget`, `ledger`). */
  readonly store: IdbStoreName;
  readonly indexedDB: IDBFactory;
  readonly keyRange: typeof IDBKeyRange;
  /** Web Locks, or null to rely on fenced appends alone. */
  readonly locks: LockManagerLike | null;
  /** The Web Lock's name. */
  readonly lockName: string;
}

const STORES = ['budget', 'ledger', 'approvals', 'purchases', 'sessions'] as const;

/** The journals of one database, one object store each. */
export type IdbStoreName = (typeof STORES)[number];

/**
 * Opens the journal database (creating its object stores on first use).
 *
 * @example
 * ```ts
 * import { openIdbJournal } from './idb.js';
 *
 * const log = await openIdbJournal({
 *   database: 'stipend:agent', store: 'budget', indexedDB, keyRange: IDBKeyRange,
 *   locks: navigator.locks ?? null, lockName: 'stipend:agent:budget',
 * });
 * ```
 */
export async function openIdbJournal(options: IdbJournalOptions): Promise<JournalLog> {
  const { store, keyRange, locks, lockName } = options;
  let db: IDBDatabase;
  try {
    db = await openDatabase(options.indexedDB, options.database);
  } catch (error) {
    throw storeUnavailable(
      `Cannot open the IndexedDB database "${options.database}".`,
      'Check that IndexedDB is available (not in a private window that blocks it) and not blocked by another tab.',
      error,
    );
  }
  // Another tab upgrading the schema: step aside rather than block it.
  db.onversionchange = () => db.close();

  return {
    withLock(fn) {
      return locks ? locks.request(lockName, { mode: 'exclusive' }, () => fn()) : fn();
    },

    async read(cursor) {
      let keys: IDBValidKey[];
      let values: unknown[];
      try {
        const tx = db.transaction(store, 'readonly');
        const objects = tx.objectStore(store);
        const range = keyRange.lowerBound(cursor, true);
        [keys, values] = await Promise.all([
          request(objects.getAllKeys(range)),
          request(objects.getAll(range)),
        ]);
      } catch (error) {
        throw storeUnavailable(
          `Cannot read the journal "${options.database}/${store}".`,
          'Another tab may have upgraded or deleted the database; reload the page.',
          error,
        );
      }
      let next = cursor;
      const entries: Json[] = [];
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i];
        if (key !== next + 1) {
          throw storeUnavailable(
            `The journal "${options.database}/${store}" has a gap after entry ${next}.`,
            'Do not edit the database by hand; clear it to start over.',
          );
        }
        next = key as number;
        entries.push(values[i] as Json);
      }
      return { entries, cursor: next };
    },

    async append(cursor, entry) {
      const tx = db.transaction(store, 'readwrite', { durability: 'strict' });
      const add = tx.objectStore(store).add(entry, cursor + 1);
      let conflict = false;
      add.onerror = (event) => {
        if (add.error?.name === 'ConstraintError') {
          conflict = true;
          event.preventDefault();
        }
      };
      try {
        await done(tx);
      } catch (error) {
        if (conflict) return CONFLICT;
        throw error;
      }
      return conflict ? CONFLICT : cursor + 1;
    },

    async close() {
      db.close();
    },
  };
}

function openDatabase(factory: IDBFactory, name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    // Version 2 added the approvals store, 3 the purchases store, 4 the sessions store;
    // upgrades create any store that is missing.
    const open = factory.open(name, 4);
    open.onupgradeneeded = () => {
      for (const store of STORES) {
        if (!open.result.objectStoreNames.contains(store)) open.result.createObjectStore(store);
      }
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
    open.onblocked = () => reject(new Error(`opening "${name}" is blocked by another tab`));
  });
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
    tx.onerror = () => undefined;
  });
}
