/**
 * `@stipend/stores/file`: a budget store, a spend ledger, pending approvals, the purchase
 * journal and MPP sessions kept in journal files, for Node.
 *
 * Crash-consistent (every change is fsynced before the call returns; a `kill -9` loses
 * nothing confirmed and never counts anything twice) and shared safely by several processes
 * on one machine (a lock file plus fenced appends; see `journal.ts` and `lock.ts`).
 *
 * @module
 */
import { join } from 'node:path';
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
import { type FileJournal, type FileJournalOptions, openFileJournal } from './journal.js';

export type { PersistedApprovalStore } from '../journal/approvals.js';
export type { PersistedLedger } from '../journal/ledger.js';
export type { PersistedPurchaseJournal } from '../journal/purchases.js';
export type { PersistedSessionStore } from '../journal/sessions.js';
export { exportLedgerCsv, exportLedgerJsonl, LEDGER_CSV_COLUMNS } from '../ledger/export.js';
export type { FileJournalOptions } from './journal.js';

/** Options of {@link createFileBudgetStore} and {@link createFileLedger}. */
export type FileStoreOptions = FileJournalOptions;

/** Counters of a file store. */
export interface FileStoreStats {
  /** Appends that lost a race and were retried (0 unless the lock was broken while held). */
  readonly conflicts: number;
  /** Journal entries replayed by this process. */
  readonly replayed: number;
  /** Unparsable lines skipped (fragments torn by a crash). */
  readonly junkLines: number;
  /** Lines skipped because their append lost a race. */
  readonly voidLines: number;
  /** Stale locks (holder dead) this process broke. */
  readonly staleLocksBroken: number;
}

/** A budget store in a journal file. */
export interface FileBudgetStore extends JournaledBudgetStore {
  readonly path: string;
  /** Replication and recovery counters. */
  fileStats(): FileStoreStats;
}

/**
 * Creates a budget store kept in an append-only journal file (JSON lines), shared by every
 * process that opens the same path. Same semantics as the in-memory store of
 * `@stipend/client` (it replays the journal into one); each reserve, commit and release that
 * changes something is one fsynced line. The file is opened on first use; call `close()`
 * when done.
 *
 * @param options - `path` of the journal (its folder is created if missing; the lock is
 * `<path>.lock`), `lockTimeoutMs` (default 10 000), `staleLockMs` (default 30 000).
 * @returns The store.
 *
 * @example
 * ```ts
 * import { createFileBudgetStore } from '@stipend/stores/file';
 *
 * const budget = createFileBudgetStore({ path: '/var/lib/agent/budget.jsonl' });
 * const limits = [{ scope: 'global', window: { kind: 'calendar', unit: 'day' }, maxUsdMicros: 5_000_000n }] as const;
 * const now = Date.now();
 * const r = await budget.reserve({ id: 'pay-1', limits, usdMicros: 10_000n, now, expiresAt: now + 60_000 });
 * if (r.ok) await budget.commit('pay-1', 10_000n);
 * await budget.close();
 * ```
 */
export function createFileBudgetStore(options: FileStoreOptions): FileBudgetStore {
  const log = lazyLog(() => openFileJournal(options));
  const store = createJournaledBudgetStore(log, `the budget journal ${options.path}`);
  return {
    ...store,
    path: options.path,
    fileStats: () => fileStats(store.stats, log.current),
  };
}

/**
 * Creates a spend ledger kept in an append-only journal file (JSON lines): every `append`
 * and `update` is one fsynced line, and `list()` folds them into records, oldest first,
 * including those written by other processes. Pass it as `ledger` to `createPayingFetch`.
 *
 * @param options - As for {@link createFileBudgetStore}; use a different `path`.
 * @returns The ledger.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { createFileLedger, exportLedgerCsv } from '@stipend/stores/file';
 *
 * const ledger = createFileLedger({ path: '/var/lib/agent/spend.jsonl' });
 * const payingFetch = createPayingFetch({ wallets: [], ledger });
 * console.warn(exportLedgerCsv(await ledger.list()));
 * ```
 */
export function createFileLedger(options: FileStoreOptions): PersistedLedger {
  return createJournaledLedger(
    lazyLog(() => openFileJournal(options)),
    `the ledger journal ${options.path}`,
  );
}

/**
 * Creates a pending-approval store kept in an append-only journal file, for
 * `createPayingFetch({ approvals: { mode: 'pending', store } })`: an approval decided by one
 * process is seen by the agent in another, and survives restarts.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { createFileApprovalStore, createFileBudgetStore } from '@stipend/stores/file';
 *
 * const payingFetch = createPayingFetch({
 *   wallets: [],
 *   budget: createFileBudgetStore({ path: './budget.jsonl' }),
 *   approvals: { mode: 'pending', store: createFileApprovalStore({ path: './approvals.jsonl' }) },
 * });
 * ```
 */
export function createFileApprovalStore(options: FileStoreOptions): PersistedApprovalStore {
  return createJournaledApprovalStore(
    lazyLog(() => openFileJournal(options)),
    `the approvals journal ${options.path}`,
  );
}

/**
 * Creates a purchase journal kept in an append-only journal file, for
 * `createPayingFetch({ journal })`: every `open` and `transition` is one fsynced line decided
 * under the file's lock, so idempotency keys and unsettled purchases hold across every
 * process on this machine that opens the same path, and across restarts and `kill -9`.
 *
 * @param options - As for {@link createFileBudgetStore}; use a different `path`.
 * @returns The journal; call `close()` when done.
 *
 * @example
 * ```ts
 * import { createPayingFetch } from '@stipend/client';
 * import { createFilePurchaseJournal } from '@stipend/stores/file';
 *
 * const journal = createFilePurchaseJournal({ path: '/var/lib/agent/purchases.jsonl' });
 * const payingFetch = createPayingFetch({ wallets: [], journal });
 * console.warn(await journal.list({ states: ['unknown', 'paid'] }));
 * ```
 */
export function createFilePurchaseJournal(options: FileStoreOptions): PersistedPurchaseJournal {
  return createJournaledPurchaseJournal(
    lazyLog(() => openFileJournal(options)),
    `the purchase journal ${options.path}`,
  );
}

/** A session store in a journal file. */
export interface FileSessionStore extends PersistedSessionStore {
  readonly path: string;
}

/**
 * Creates an MPP session store kept in an append-only journal file, for
 * `createPayingFetch({ sessions: { store } })`: every `put` is one fsynced line decided under
 * the file's lock (compare-and-set on the record's version, at most one live session per
 * scope), so an open session survives a restart and `kill -9`, and every process on this
 * machine that opens the same path shares it (and never opens a second one for its scope).
 *
 * The file holds each session's secret (the bearer credential a session needs after a
 * restart): it is created readable by its owner only (mode 0600); keep it out of backups you
 * share. Secrets never appear in its errors.
 *
 * @param options - The journal's path, or `{ path, lockTimeoutMs, staleLockMs }` as for
 * {@link createFileBudgetStore}; use a path of its own.
 * @returns The store; call `close()` when done.
 * @throws {StipendError} `STORE_CORRUPT` (from its methods) when the file holds a session it
 * cannot read; `STORE_UNAVAILABLE` when the file cannot be used.
 *
 * @example
 * ```ts
 * import { createPayingFetch, lightningSessionMethod } from '@stipend/client';
 * import { fileSessionStore } from '@stipend/stores/file';
 *
 * const store = fileSessionStore('/var/lib/agent/sessions.jsonl');
 * const payingFetch = createPayingFetch({
 *   wallets: [],
 *   sessions: { methods: [lightningSessionMethod()], store },
 * });
 * console.warn((await store.list({ states: ['open'] })).map((s) => s.id));
 * ```
 */
export function fileSessionStore(options: string | FileStoreOptions): FileSessionStore {
  const resolved = typeof options === 'string' ? { path: options } : options;
  if (typeof resolved?.path !== 'string' || resolved.path === '') {
    throw storeUnavailable(
      'fileSessionStore needs a path.',
      "Pass fileSessionStore('/var/lib/agent/sessions.jsonl').",
    );
  }
  const store = createJournaledSessionStore(
    lazyLog(() => openFileJournal(resolved)),
    `the session journal ${resolved.path}`,
  );
  return { ...store, path: resolved.path };
}

/** Options of {@link createFileStores}. */
export interface FileStoresOptions extends Omit<FileStoreOptions, 'path'> {
  /** The folder of the five journals (created if missing). */
  readonly dir: string;
}

/** The five file stores of one folder; see {@link createFileStores}. */
export interface FileStores {
  readonly budget: FileBudgetStore;
  readonly ledger: PersistedLedger;
  readonly approvals: PersistedApprovalStore;
  readonly journal: PersistedPurchaseJournal;
  readonly sessions: FileSessionStore;
  /** Closes all five. */
  close(): Promise<void>;
}

/**
 * Creates every durable store a paying fetch uses in one folder: `budget.jsonl`,
 * `ledger.jsonl`, `approvals.jsonl`, `purchases.jsonl` and `sessions.jsonl` (each with its
 * `.lock`).
 *
 * @param options - `dir`, and the lock options of {@link createFileBudgetStore}.
 * @returns The stores, and `close()` for all of them.
 *
 * @example
 * ```ts
 * import { createPayingFetch, lightningSessionMethod } from '@stipend/client';
 * import { createFileStores } from '@stipend/stores/file';
 *
 * const stores = createFileStores({ dir: '/var/lib/agent' });
 * const payingFetch = createPayingFetch({
 *   wallets: [],
 *   budget: stores.budget,
 *   ledger: stores.ledger,
 *   journal: stores.journal,
 *   approvals: { mode: 'pending', store: stores.approvals },
 *   sessions: { methods: [lightningSessionMethod()], store: stores.sessions },
 * });
 * // …
 * await stores.close();
 * ```
 */
export function createFileStores(options: FileStoresOptions): FileStores {
  const { dir, ...rest } = options;
  if (typeof dir !== 'string' || dir === '') {
    throw storeUnavailable('createFileStores needs a folder.', "Pass { dir: '/var/lib/agent' }.");
  }
  const at = (name: string) => ({ ...rest, path: join(dir, name) });
  const budget = createFileBudgetStore(at('budget.jsonl'));
  const ledger = createFileLedger(at('ledger.jsonl'));
  const approvals = createFileApprovalStore(at('approvals.jsonl'));
  const journal = createFilePurchaseJournal(at('purchases.jsonl'));
  const sessions = fileSessionStore(at('sessions.jsonl'));
  return {
    budget,
    ledger,
    approvals,
    journal,
    sessions,
    async close() {
      await Promise.all([
        budget.close(),
        ledger.close(),
        approvals.close(),
        journal.close(),
        sessions.close(),
      ]);
    },
  };
}

function fileStats(
  replica: JournaledBudgetStore['stats'],
  journal: FileJournal | undefined,
): FileStoreStats {
  return {
    conflicts: replica.conflicts,
    replayed: replica.replayed,
    junkLines: journal?.stats.junk ?? 0,
    voidLines: journal?.stats.void ?? 0,
    staleLocksBroken: journal?.stats.lock.staleBroken ?? 0,
  };
}
