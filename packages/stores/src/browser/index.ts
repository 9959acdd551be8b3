/**
 * `@stipend/stores/browser`: a budget store, a spend ledger, pending approvals, the purchase
 * journal and MPP sessions kept in IndexedDB, shared by every tab of an origin. No Node
 * built-ins.
 *
 * Atomicity across tabs: every change is one entry appended at the next sequence number with
 * IndexedDB `add()`, which fails if another tab took that number first; the losing tab
 * catches up and decides again. So two tabs can never both spend the same remaining budget.
 * Web Locks (`navigator.locks`) serialise the tabs' writes on top of that, so that in
 * practice nobody loses a race. Without Web Locks (very old browsers, some embedded
 * webviews) the store falls back to fenced appends alone — still atomic, with more retries
 * under contention — and says so: `store.locking === 'none'`.
 *
 * @module
 */
import { storeUnavailable } from '../errors.js';
import { createJournaledApprovalStore, type PersistedApprovalStore } from '../journal/approvals.js';
import { createJournaledBudgetStore, type JournaledBudgetStore } from '../journal/budget.js';
import { lazyLog } from '../journal/lazy.js';
import { createJournaledLedger, type PersistedLedger } from '../journal/ledger.js';
import {
  createJournaledPurchaseJournal,
  type PersistedPurchaseJournal,
} from '../journal/purchases.js';
import { createJournaledSessionStore, type PersistedSessionStore } from '../journal/sessions.js';
import { type IdbStoreName, type LockManagerLike, openIdbJournal } from './idb.js';

export type { PersistedApprovalStore } from '../journal/approvals.js';
export type { PersistedLedger } from '../journal/ledger.js';
export type { PersistedPurchaseJournal } from '../journal/purchases.js';
export type { PersistedSessionStore } from '../journal/sessions.js';
export { exportLedgerCsv, exportLedgerJsonl, LEDGER_CSV_COLUMNS } from '../ledger/export.js';
export type { LockManagerLike } from './idb.js';

/** Options of {@link createBrowserBudgetStore} and {@link createBrowserLedger}. */
export interface BrowserStoreOptions {
  /** Names the budget: tabs using the same name (same origin) share it. */
  readonly name: string;
  /** Defaults to `globalThis.indexedDB`. */
  readonly indexedDB?: IDBFactory;
  /** Defaults to `globalThis.IDBKeyRange`. */
  readonly IDBKeyRange?: typeof IDBKeyRange;
  /**
   * Defaults to `navigator.locks` when present. Pass `null` to run on fenced appends alone.
   */
  readonly locks?: LockManagerLike | null;
}

/** How tabs are kept from racing: Web Locks plus fenced appends, or fenced appends alone. */
export type BrowserLocking = 'web-locks' | 'none';

/** A budget store in IndexedDB. */
export interface BrowserBudgetStore extends JournaledBudgetStore {
  readonly name: string;
  /** `'web-locks'`, or `'none'` when Web Locks are unavailable (see the module notes). */
  readonly locking: BrowserLocking;
}

/** A spend ledger in IndexedDB. */
export interface BrowserLedger extends PersistedLedger {
  readonly name: string;
  readonly locking: BrowserLocking;
}

/**
 * Creates a budget store in IndexedDB, shared atomically by every tab of the origin that
 * uses the same `name`. Same semantics as the in-memory store of `@stipend/client`.
 *
 * @param options - See {@link BrowserStoreOptions}.
 * @returns The store; `locking` tells whether Web Locks are in use.
 * @throws {StipendError} `STORE_UNAVAILABLE` (on first use) when IndexedDB is missing.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { createBrowserBudgetStore } from '@stipend/stores/browser';
 *
 * const budget = createBrowserBudgetStore({ name: 'agent' });
 * if (budget.locking === 'none') console.warn('no Web Locks: tabs retry more under contention');
 * const payingFetch = createPayingFetch({ wallets: [], budget });
 * ```
 */
export function createBrowserBudgetStore(options: BrowserStoreOptions): BrowserBudgetStore {
  const { log, locking } = browserLog(options, 'budget');
  const store = createJournaledBudgetStore(log, `the IndexedDB budget "${options.name}"`);
  return { ...store, name: options.name, locking };
}

/**
 * Creates a spend ledger in IndexedDB (append-only entries, folded by `list()`), shared by
 * every tab of the origin that uses the same `name`.
 *
 * @param options - See {@link BrowserStoreOptions}.
 * @returns The ledger.
 *
 * @example
 * ```ts
 * import { createBrowserLedger, exportLedgerCsv } from '@stipend/stores/browser';
 *
 * const ledger = createBrowserLedger({ name: 'agent' });
 * const csv = exportLedgerCsv(await ledger.list());
 * ```
 */
export function createBrowserLedger(options: BrowserStoreOptions): BrowserLedger {
  const { log, locking } = browserLog(options, 'ledger');
  const ledger = createJournaledLedger(log, `the IndexedDB ledger "${options.name}"`);
  return { ...ledger, name: options.name, locking };
}

/**
 * Creates a pending-approval store in IndexedDB, shared by the tabs of one origin.
 *
 * @example
 * ```ts
 * import { createBrowserApprovalStore } from '@stipend/stores/browser';
 * const store = createBrowserApprovalStore({ name: 'agent' });
 * ```
 */
export function createBrowserApprovalStore(
  options: BrowserStoreOptions,
): PersistedApprovalStore & { name: string } {
  const { log } = browserLog(options, 'approvals');
  return {
    ...createJournaledApprovalStore(log, `the IndexedDB approvals "${options.name}"`),
    name: options.name,
  };
}

/** A purchase journal in IndexedDB. */
export interface BrowserPurchaseJournal extends PersistedPurchaseJournal {
  readonly name: string;
  readonly locking: BrowserLocking;
}

/**
 * Creates a purchase journal in IndexedDB, for `createPayingFetch({ journal })`, shared by
 * every tab of the origin that uses the same `name`: each `open` and `transition` is one
 * fenced entry decided under the Web Lock, so one idempotency key pays at most once across
 * tabs, and a purchase left unsettled by a closed tab is seen by the next one.
 *
 * @param options - See {@link BrowserStoreOptions}.
 * @returns The journal; `locking` tells whether Web Locks are in use.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { createBrowserBudgetStore, createBrowserPurchaseJournal } from '@stipend/stores/browser';
 *
 * const payingFetch = createPayingFetch({
 *   wallets: [],
 *   budget: createBrowserBudgetStore({ name: 'agent' }),
 *   journal: createBrowserPurchaseJournal({ name: 'agent' }),
 * });
 * ```
 */
export function createBrowserPurchaseJournal(options: BrowserStoreOptions): BrowserPurchaseJournal {
  const { log, locking } = browserLog(options, 'purchases');
  const journal = createJournaledPurchaseJournal(
    log,
    `the IndexedDB purchase journal "${options.name}"`,
  );
  return { ...journal, name: options.name, locking };
}

/** A session store in IndexedDB. */
export interface BrowserSessionStore extends PersistedSessionStore {
  readonly name: string;
  readonly locking: BrowserLocking;
}

/**
 * Creates an MPP session store in IndexedDB, for `createPayingFetch({ sessions: { store } })`,
 * shared by every tab of the origin that uses the same `name`: each `put` is one fenced entry
 * decided under the Web Lock (compare-and-set on the record's version, at most one live
 * session per scope), so an open session survives a reload and two tabs never open two
 * sessions for one scope.
 *
 * The database holds each session's secret (the bearer credential a session needs after a
 * reload), readable by any script of the origin; secrets never appear in its errors.
 *
 * @param options - See {@link BrowserStoreOptions}.
 * @returns The store; `locking` tells whether Web Locks are in use.
 * @throws {StipendError} `STORE_CORRUPT` (from its methods) when the database holds a session
 * it cannot read; `STORE_UNAVAILABLE` when IndexedDB is missing.
 *
 * @example
 * ```ts
 * import { createPayingFetch, lightningSessionMethod } from '@stipend/client';
 * import { idbSessionStore } from '@stipend/stores/browser';
 *
 * const payingFetch = createPayingFetch({
 *   wallets: [],
 *   sessions: { methods: [lightningSessionMethod()], store: idbSessionStore({ name: 'agent' }) },
 * });
 * ```
 */
export function idbSessionStore(options: BrowserStoreOptions): BrowserSessionStore {
  const { log, locking } = browserLog(options, 'sessions');
  const store = createJournaledSessionStore(log, `the IndexedDB sessions "${options.name}"`);
  return { ...store, name: options.name, locking };
}

function browserLog(options: BrowserStoreOptions, store: IdbStoreName) {
  if (typeof options?.name !== 'string' || options.name === '') {
    throw storeUnavailable('A browser store needs a name.', "Pass { name: 'my-agent' }.");
  }
  const scope = globalThis as {
    indexedDB?: IDBFactory;
    IDBKeyRange?: typeof IDBKeyRange;
    navigator?: { locks?: LockManagerLike };
  };
  const locks = options.locks === undefined ? (scope.navigator?.locks ?? null) : options.locks;
  const log = lazyLog(async () => {
    const indexedDB = options.indexedDB ?? scope.indexedDB;
    const keyRange = options.IDBKeyRange ?? scope.IDBKeyRange;
    if (!indexedDB || !keyRange) {
      throw storeUnavailable(
        'IndexedDB is not available here.',
        'Use the browser store in a browser (or pass indexedDB and IDBKeyRange).',
      );
    }
    return openIdbJournal({
      database: `stipend:${options.name}`,
      store,
      indexedDB,
      keyRange,
      locks,
      lockName: `stipend:${options.name}:${store}`,
    });
  });
  return { log, locking: (locks ? 'web-locks' : 'none') as BrowserLocking };
}
